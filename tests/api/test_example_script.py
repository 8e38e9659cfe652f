"""scripts/example_requests.py runs its walkthrough end to end (driven through TestClient)."""

from __future__ import annotations

from typing import Any

import example_requests


def test_walkthrough_runs(client) -> None:
    def send(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        r = client.request(method, path, json=body)
        return r.status_code, r.json() if r.content else None

    lines: list[str] = []
    out = example_requests.walkthrough(send, out=lines.append)
    assert out["allocation"]["allocations"]["variant_b"] == max(
        out["allocation"]["allocations"].values()
    )
    assert out["report"]["lifts"][0]["variant"] == "variant_b"
    assert len(out["history"]["items"]) == 1
    assert any("refused: 422 variants.0.clicks" in line for line in lines)


def test_unreachable_server_is_a_clear_error(capsys) -> None:
    assert example_requests.main(["--url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach" in capsys.readouterr().err

"""The README's API examples, replayed: every curl command and the Python snippet."""

from __future__ import annotations

import re
import shlex
import types
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

README = Path(__file__).resolve().parents[2] / "README.md"


def section() -> str:
    text = README.read_text()
    start = text.index("## Using the API")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section(), flags=re.S)


def curl_commands(block: str) -> list[tuple[int, str]]:
    """(expected status, command) for each curl in a bash block; `# expect N` sets N."""
    out: list[tuple[int, str]] = []
    expect = 200
    current: list[str] = []
    for line in block.splitlines():
        if line.startswith("curl "):
            if current:
                out.append((expect, "\n".join(current)))
                expect = 200
            current = [line]
        elif line.startswith("#"):
            if current:
                out.append((expect, "\n".join(current)))
                current = []
                expect = 200
            if m := re.match(r"# expect (\d{3})", line):
                expect = int(m.group(1))
        elif current:
            current.append(line)
    if current:
        out.append((expect, "\n".join(current)))
    return out


def run_curl(client: Any, command: str) -> Any:
    args = shlex.split(command.replace("\\\n", " "))
    assert args[0] == "curl"
    method, headers, data, url = None, {}, None, None
    it = iter(args[1:])
    for arg in it:
        if arg == "-s":
            continue
        if arg == "-X":
            method = next(it)
        elif arg == "-H":
            name, value = next(it).split(":", 1)
            headers[name.strip()] = value.strip()
        elif arg in ("-d", "--data-binary"):
            data = next(it)
        else:
            url = arg
    assert url is not None
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:8000")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.request(
        method or ("POST" if data is not None else "GET"),
        path,
        headers=headers,
        content=data.encode() if data is not None else None,
    )


def test_the_readme_has_the_examples() -> None:
    assert len(blocks("bash")) >= 2
    assert len(blocks("python")) == 1
    assert sum(len(curl_commands(b)) for b in blocks("bash")) >= 12


def test_curl_examples_replay(client) -> None:
    first, more = blocks("bash")[:2]
    # the seed-compatible flow first
    answers = [run_curl(client, cmd) for _, cmd in curl_commands(first)]
    assert [r.status_code for r in answers] == [201, 200, 200]
    allocation = answers[-1].json()
    assert set(allocation["allocations"]) == {"control", "variant_b"}
    assert allocation["allocations"]["variant_b"] > allocation["allocations"]["control"]
    for expect, cmd in curl_commands(more):
        r = run_curl(client, cmd)
        assert r.status_code == expect, (cmd, r.text)
        if expect == 422:
            problem = r.json()
            shown = re.search(r"```json\n(.*?)```", section(), flags=re.S)
            assert shown is not None
            assert problem["errors"] == [
                {"field": "variants.0.clicks", "message": "clicks (11) exceeds impressions (10)"}
            ]
            assert '"variants.0.clicks"' in shown.group(1)
    assert client.get("/allocation?experiment_id=homepage_cta").json()["status"] == "paused"


def test_python_example_replays(client) -> None:
    (code,) = blocks("python")
    shim = types.SimpleNamespace(Client=lambda base_url, **kw: client)
    code = code.replace("import httpx\n", "")
    namespace: dict[str, Any] = {"httpx": shim, "print": lambda *a: None}
    exec(compile(code, "README.md", "exec"), namespace)
    shares = namespace["allocation"]["allocations"]
    assert shares["annual_first"] > shares["control"]
    assert namespace["report"]["recommendation"]

"""A walkthrough of the API against a running server (start one with `make dev`).

    python scripts/example_requests.py [--url http://127.0.0.1:8000] [--api-key KEY]

Creates an experiment, posts a week of daily counts, then reads the allocation, the report
and the history. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Send = Callable[[str, str, Any], tuple[int, Any]]

WEEK = [  # (control clicks, variant_b clicks, variant_c clicks) per 4,000 impressions
    (120, 150, 128),
    (118, 161, 131),
    (125, 149, 120),
    (119, 158, 133),
    (122, 163, 127),
    (117, 155, 129),
    (121, 160, 126),
]


def http_sender(base_url: str, api_key: str | None) -> Send:
    def send(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base_url.rstrip("/") + path, data=data, method=method)
        request.add_header("accept", "application/json")
        if data is not None:
            request.add_header("content-type", "application/json")
        if api_key:
            request.add_header("x-api-key", api_key)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    return send


def walkthrough(send: Send, out: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the walkthrough; returns the last answers for callers that check them."""
    status, health = send("GET", "/health", None)
    out(f"health {status}: store={health['store']} version={health['version']}")

    status, exp = send(
        "POST",
        "/experiments",
        {
            "name": "Homepage call to action",
            "description": "Three button texts",
            "variants": [
                {"name": "control", "is_control": True},
                {"name": "variant_b"},
                {"name": "variant_c"},
            ],
            "settings": {"control_floor": 0.1, "min_explore_rate": 0.05},
        },
    )
    if status != 201:
        raise SystemExit(f"create failed ({status}): {exp}")
    eid = exp["id"]
    out(f"created experiment {eid}")

    start = dt.date.today() - dt.timedelta(days=len(WEEK))
    for i, clicks in enumerate(WEEK):
        day = (start + dt.timedelta(days=i)).isoformat()
        status, answer = send(
            "POST",
            "/events",
            {
                "experiment_id": eid,
                "date": day,
                "variants": [
                    {"variant_name": name, "impressions": 4000, "clicks": c}
                    for name, c in zip(("control", "variant_b", "variant_c"), clicks, strict=True)
                ],
            },
        )
        out(f"posted {day}: {status} {answer['total_impressions']} impressions")

    status, bad = send(
        "POST",
        "/events",
        {
            "experiment_id": eid,
            "date": start.isoformat(),
            "variants": [{"variant_name": "control", "impressions": 10, "clicks": 50}],
        },
    )
    out(
        f"a bad day is refused: {status} {bad['errors'][0]['field']}: {bad['errors'][0]['message']}"
    )

    status, allocation = send("GET", f"/allocation?experiment_id={eid}", None)
    out(f"allocation ({allocation['status']}):")
    for v in allocation["variants"]:
        out(
            f"  {v['name']:<10} share {v['allocation']:.3f}  rate {v['rate']:.4f}  "
            f"P(best) {v['p_best']:.3f}  95% CI [{v['ci_low']:.4f}, {v['ci_high']:.4f}]"
        )

    status, report = send("GET", f"/experiments/{eid}/report", None)
    for lift in report["lifts"]:
        out(
            f"  lift of {lift['variant']} vs control: {lift['lift']:+.1%} "
            f"[{lift['ci_low']:+.1%}, {lift['ci_high']:+.1%}]"
        )
    out(f"recommendation: {report['recommendation']}")

    status, history = send("GET", f"/experiments/{eid}/history", None)
    out(
        f"history: {len(history['items'])} snapshot(s), latest trigger "
        f"{history['items'][0]['trigger']}"
    )
    return {"experiment": exp, "allocation": allocation, "report": report, "history": history}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args(argv)
    try:
        walkthrough(http_sender(args.url, args.api_key))
    except urllib.error.URLError as err:
        print(
            f"cannot reach {args.url}: {err.reason} (start the server with `make dev`)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

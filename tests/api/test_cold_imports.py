"""What each Lambda handler loads at cold start (docs/architecture.md, "Nothing heavy at
import"): its own router only, numpy only on the first request that computes, boto3 only
when a DynamoDB store is opened, psycopg only for PostgreSQL. Each import runs in a fresh
interpreter, as a Lambda init does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["numpy", "boto3", "botocore.client", "psycopg", "aws_xray_sdk"]
PROBE = """\
import json, sys
sys.path.insert(0, sys.argv[1])
import app
heavy = [name for name in sys.argv[2:] if name in sys.modules]
routers = sorted(m for m in sys.modules if m.startswith("banditkit.http.routers."))
print(json.dumps([heavy, routers]))
"""


def loaded_at_import(function: str) -> tuple[list[str], list[str]]:
    """(the HEAVY modules loaded, the routers loaded) by importing the function's handler."""
    env = {
        "PATH": os.defpath,
        "POWERTOOLS_SERVICE_NAME": "banditkit",
        "POWERTOOLS_METRICS_NAMESPACE": "banditkit",
        "AWS_REGION": "eu-west-1",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions" / function), *HEAVY],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    heavy, routers = json.loads(out.stdout.strip().splitlines()[-1])
    return heavy, routers


@pytest.mark.parametrize(
    "function",
    ["experiments", "events", "allocation", "history", "admin", "recompute", "recompute_worker"],
)
def test_handler_import_loads_its_router_only_and_no_maths_aws_sdk_or_driver(
    function: str,
) -> None:
    heavy, routers = loaded_at_import(function)
    assert heavy == []
    own = [] if function.startswith("recompute") else [f"banditkit.http.routers.{function}"]
    assert routers == own


def test_engine_types_and_http_errors_do_not_need_numpy() -> None:
    code = (
        "import sys; import banditkit.engine, banditkit.http.errors, banditkit.service; "
        "from banditkit.engine import Settings, InvalidSettings, fingerprint; "
        "assert 'numpy' not in sys.modules, 'numpy at import'; "
        "from banditkit.engine import allocate; import banditkit.engine as e; "
        "assert 'numpy' in sys.modules and e.allocate is allocate; print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "ok"

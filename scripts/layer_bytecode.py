"""Bytecode for the modules of the banditkit layer that its handlers load, and no others.

Lambda's /opt is read-only, so a module whose bytecode the layer lacks is compiled again, in
memory, by every cold start that imports it (a cold import without any bytecode takes twice as
long). SAM's build leaves none, so `make sam-build` compiles after pruning. Compiling every
module would ship 8 MB of bytecode, half of it for modules no handler ever loads (most of numpy,
pydantic's and Powertools' unused parts), which leaves the layer over its 60 MB budget. So the
layer ships the bytecode of the modules listed in layer_bytecode.txt: those the handlers load
at import and while serving, found by running them (`record`). A module left out still works;
it is compiled at import, should a handler ever load it.

    python3.13 scripts/layer_bytecode.py compile .aws-sam/build/BanditkitLayer/python
    .venv/bin/python scripts/layer_bytecode.py record .aws-sam/build-x86_64   # make layer-bytecode

`record` needs an x86_64 build (it runs the built handlers here). Each function runs in a fresh
`python3.13 -I -S -B` whose path holds only the build folders and the runtime's boto3, as in
Lambda, and serves every route of its function (successes, validation errors, a missing key),
with tracing on as TracingMode=Active deploys it (the X-Ray SDK and its patches), then loads
the modules of the other stores (DynamoDB, PostgreSQL with its secret through Powertools
Parameters). The files it loaded from the layer are the list. tests/infra checks that the list
holds every module a handler loads and that the arm64 layer ships exactly their bytecode.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODULES = Path(__file__).with_suffix(".txt")
FUNCTIONS = ["experiments", "events", "allocation", "history", "recompute", "admin"]
# What /var/runtime puts on a python3.13 Lambda's path after the layers: boto3 and its deps.
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"]
API_KEY = "record-key-0123456789"
ADMIN_KEY = "record-admin-key-0123456789"
# As Lambda sets them, with tracing active (template.yaml): Powertools traces only when it
# sees the Lambda environment, and the X-Ray SDK sends its segments to the daemon by UDP
# (loopback here, where nothing listens).
LAMBDA_ENV = {
    "POWERTOOLS_SERVICE_NAME": "banditkit",
    "POWERTOOLS_METRICS_NAMESPACE": "banditkit",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "false",
    "BANDIT_TRACING": "true",
    "BANDIT_API_KEYS": API_KEY,
    "BANDIT_ENABLE_RESET": "true",
    "BANDIT_ADMIN_KEY": ADMIN_KEY,
    "AWS_REGION": "eu-west-1",
    "AWS_LAMBDA_FUNCTION_NAME": "banditkit-record",
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "_X_AMZN_TRACE_ID": "Root=1-67890abc-0123456789abcdef01234567;Parent=0123456789abcdef;"
    "Sampled=1",
}
PROBE = """\
import json, sys
out, *paths = sys.argv[1:]
sys.path[:0] = paths
import app


class Context:
    function_name = "banditkit-record"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:banditkit-record"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self):
        return 60_000


statuses = []
for event in json.load(sys.stdin):
    answer = app.handler(event, Context())
    statuses.append(answer.get("statusCode", 200) if isinstance(answer, dict) else 200)
import banditkit.store.dynamodb, banditkit.store.postgres
from aws_lambda_powertools.utilities import parameters
files = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)})
with open(out, "w") as f:
    json.dump({"statuses": statuses, "files": files}, f)
"""


def api_event(
    method: str,
    resource: str,
    *,
    path: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    key: bool = True,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event."""
    url = resource.format(**(path or {}))
    head = {"host": "abc.execute-api.eu-west-1.amazonaws.com", "content-type": "application/json"}
    head |= ({"x-api-key": API_KEY} if key else {}) | (headers or {})
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": resource,
        "path": url,
        "httpMethod": method,
        "headers": head,
        "multiValueHeaders": {k: [v] for k, v in head.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/dev{url}",
            "stage": "dev",
            "requestId": "record",
            "accountId": "123456789012",
            "apiId": "abc",
            "identity": {"sourceIp": "203.0.113.9"},
            "requestTimeEpoch": 1_764_374_400_000,
        },
        "body": text,
        "isBase64Encoded": False,
    }


EXP = "/experiments/{experiment_id}"
REC, GONE = {"experiment_id": "rec"}, {"experiment_id": "gone"}
DAY = {
    "experiment_id": "rec",
    "date": "2026-11-20",
    "variants": [
        {"variant_name": "A", "impressions": 1000, "clicks": 30},
        {"variant_name": "B", "impressions": 1000, "clicks": 45},
    ],
}
CSV = "date,variant_name,impressions,clicks\n2026-11-21,A,1000,31\n2026-11-21,B,1000,44\n"


def requests() -> dict[str, list[tuple[dict[str, Any], int]]]:
    """Per function, in the order they run on one store: (event, the status it must answer)."""
    create = {"id": "rec", "name": "Record", "variants": [{"name": "A", "is_control": True}, "B"]}
    return {
        "experiments": [
            (api_event("GET", "/health", key=False), 200),
            (api_event("POST", "/experiments", body=create), 201),
            (api_event("POST", "/experiments", body={"id": "gone", "name": "Gone"}), 201),
            (api_event("POST", "/experiments", body={"name": ""}), 422),
            (api_event("POST", "/experiments", body='{"name": '), 400),
            (api_event("POST", "/experiments", body=create), 409),
            (api_event("GET", "/experiments", query={"limit": "1"}), 200),
            (api_event("GET", "/experiments", query={"cursor": "nope"}), 400),
            (api_event("GET", "/experiments", key=False), 401),
            (api_event("GET", EXP, path=REC), 200),
            (api_event("GET", EXP, path={"experiment_id": "none"}), 404),
            (api_event("PATCH", EXP, path=REC, body={"settings": {"min_impressions": 10}}), 200),
            (api_event("PATCH", EXP, path=REC, body={"settings": {"control_floor": 2}}), 422),
            (api_event("DELETE", EXP, path=GONE), 204),
        ],
        "events": [
            (api_event("POST", "/events", body=DAY, headers={"idempotency-key": "k1"}), 200),
            (api_event("POST", "/events", body=DAY, headers={"idempotency-key": "k1"}), 200),
            (api_event("POST", "/events", body={**DAY, "variants": []}), 422),
            (
                api_event(
                    "POST",
                    EXP + "/import",
                    path=REC,
                    body=CSV,
                    headers={"content-type": "text/csv"},
                ),
                200,
            ),
            (
                api_event(
                    "POST",
                    EXP + "/import",
                    path=REC,
                    body="date,variant_name\nx,A\n",
                    headers={"content-type": "text/csv"},
                ),
                422,
            ),
        ],
        "allocation": [
            (api_event("GET", "/allocation", query={"experiment_id": "rec"}), 200),
            (api_event("GET", "/allocation", query={"experiment_id": "none"}), 404),
            (api_event("GET", EXP + "/report", path=REC), 200),
            (api_event("GET", "/assign", query={"experiment_id": "rec", "unit_id": "u1"}), 200),
            (
                api_event(
                    "POST",
                    "/simulate",
                    body={
                        "variants": [{"name": "a", "rate": 0.1}, {"name": "b", "rate": 0.2}],
                        "daily_impressions": 100,
                        "days": 3,
                    },
                ),
                200,
            ),
        ],
        "history": [
            (api_event("GET", EXP + "/history", path=REC), 200),
            (api_event("GET", EXP + "/history", path=REC, query={"from": "soon"}), 422),
            (api_event("GET", EXP + "/metrics", path=REC), 200),
        ],
        "recompute": [({}, 200)],
        "admin": [
            (api_event("POST", "/reset_data", headers={"x-admin-key": "wrong"}), 403),
            (api_event("POST", "/reset_data", headers={"x-admin-key": ADMIN_KEY}), 200),
        ],
    }


def python313() -> Path:
    if sys.version_info[:2] == (3, 13):
        return Path(sys.base_prefix) / "bin" / "python3.13"
    found = sorted((Path.home() / ".pyenv" / "versions").glob("3.13*/bin/python3.13"))
    if not found:
        raise SystemExit("no CPython 3.13: the Lambda runtime is python3.13")
    return found[-1]


def runtime_stand_in(folder: Path) -> Path:
    """Links to this interpreter's boto3 and its dependencies, as /var/runtime has them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed: run with the project's .venv")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source)
    return folder


def record(build: Path) -> list[str]:
    """The layer files (relative to its python/ folder) the built handlers load."""
    build = build.resolve()
    layer = build / "BanditkitLayer" / "python"
    paths = [layer, build / "PostgresLayer" / "python"]
    loaded: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_stand_in(Path(tmp) / "var-runtime")
        env = {"PATH": os.defpath, **LAMBDA_ENV, "BANDIT_STORE_URL": f"sqlite:///{tmp}/rec.db"}
        for function, calls in requests().items():
            out = Path(tmp) / f"{function}.json"
            run = subprocess.run(
                [
                    str(python313()),
                    "-I",
                    "-S",
                    "-B",
                    "-c",
                    PROBE,
                    str(out),
                    str(build / f"{function.capitalize()}Function"),
                    *map(str, paths),
                    str(runtime),
                ],
                input=json.dumps([event for event, _ in calls]),
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if run.returncode != 0:
                raise SystemExit(f"{function}: the handler failed:\n{run.stderr[-3000:]}")
            result = json.loads(out.read_text())
            expected = [status for _, status in calls]
            if result["statuses"] != expected:
                raise SystemExit(
                    f"{function}: answered {result['statuses']}, expected {expected}:\n"
                    f"{run.stdout[-3000:]}"
                )
            for name in result["files"]:
                file = Path(name)
                if file.suffix == ".py" and file.is_relative_to(layer):
                    loaded.add(file.relative_to(layer).as_posix())
    return sorted(loaded)


def read_list(path: Path = MODULES) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def write_list(modules: list[str], path: Path = MODULES) -> None:
    head = (
        "# Modules of the banditkit layer whose bytecode ships (relative to python/): those the\n"
        "# handlers load. Written by `make layer-bytecode`; see scripts/layer_bytecode.py.\n"
    )
    path.write_text(head + "".join(f"{m}\n" for m in modules))


def compile_listed(layer: Path, modules: list[str]) -> tuple[int, list[str]]:
    """Replace the layer's bytecode with that of `modules` (as Lambda's python3.13 reads it:
    no optimization, unchecked hash). Returns the bytes of bytecode written and the listed
    modules the layer does not hold (a dependency changed: `make layer-bytecode`)."""
    if sys.implementation.cache_tag != "cpython-313":  # the bytecode Lambda's python3.13 reads
        raise SystemExit("compile with python3.13, the Lambda runtime's interpreter")
    for cache in [p for p in layer.rglob("__pycache__") if p.is_dir()]:
        shutil.rmtree(cache)
    written, absent = 0, []
    for module in modules:
        source = str(layer / module)
        if not (layer / module).is_file():
            absent.append(module)
            continue
        pyc = importlib.util.cache_from_source(source)  # __pycache__/NAME.cpython-313.pyc
        py_compile.compile(
            source,
            cfile=pyc,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        written += Path(pyc).stat().st_size
    return written, absent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run the built handlers and list what they load")
    rec.add_argument("build", type=Path, help="an x86_64 SAM build folder")
    rec.add_argument("--out", type=Path, default=MODULES, help=f"default {MODULES.name}")
    comp = sub.add_parser("compile", help="write the bytecode of the listed modules")
    comp.add_argument("layer", type=Path, help="the built layer's python/ folder")
    comp.add_argument("--modules", type=Path, default=MODULES, help=f"default {MODULES.name}")
    args = parser.parse_args()
    if args.command == "record":
        modules = record(args.build)
        write_list(modules, args.out)
        print(f"{args.out}: {len(modules)} modules")
    else:
        modules = read_list(args.modules)
        written, absent = compile_listed(args.layer, modules)
        count = len(modules) - len(absent)
        print(f"{args.layer}: bytecode of {count} modules, {written / 1e6:.1f} MB")
        if absent:
            print(
                f"  {len(absent)} listed module(s) not in the layer, e.g. {absent[0]}: "
                "refresh the list with `make layer-bytecode`",
                file=sys.stderr,
            )


if __name__ == "__main__":
    main()

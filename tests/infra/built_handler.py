"""Run inside a bare CPython 3.13 (`python3.13 -I -S`) by test_build.py, as Lambda would:
sys.path holds only the function folder, the layers' python/ folders and a stand-in for the
runtime's own packages (boto3), in Lambda's order. No site-packages, no source tree.

    python3.13 -I -S built_handler.py import OUT FUNCTION_DIR LAYER_DIR... -- RUNTIME_DIR
    python3.13 -I -S built_handler.py invoke OUT FUNCTION_DIR LAYER_DIR... -- RUNTIME_DIR < events

`import` writes {"handler": type name, "outside": modules loaded from elsewhere,
"deferred_loaded": which of DEFERRED the import loaded} to OUT;
`invoke` reads a JSON list of events from stdin, calls the handler on each and writes the
responses to OUT (stdout belongs to the handler's logs and metrics).
"""

import json
import sys
import sysconfig

# Packages an API handler loads at its first invocation, not at import (cold start).
DEFERRED = ("aws_lambda_powertools", "pydantic_settings", "numpy", "aws_xray_sdk")


class Context:
    """The attributes of a Lambda context that Powertools and Mangum read."""

    function_name = "banditkit-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:banditkit-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/banditkit-test"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main() -> None:
    mode, out, *folders = sys.argv[1:]
    split = folders.index("--")
    code, runtime = folders[:split], folders[split + 1 :]
    sys.path[:0] = code + runtime
    import app  # the function's module, from the first folder

    if mode == "import":
        stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
        allowed = (*code, *runtime, *stdlib)
        outside = sorted(
            name
            for name, module in list(sys.modules.items())
            if name != "__main__"
            and getattr(module, "__file__", None)
            and not module.__file__.startswith(allowed)
        )
        deferred = [name for name in DEFERRED if name in sys.modules]
        result: object = {
            "handler": type(app.handler).__name__,
            "outside": outside,
            "deferred_loaded": deferred,
        }
    elif mode == "invoke":
        events = json.load(sys.stdin)
        result = [app.handler(event, Context()) for event in events]
    else:
        raise SystemExit(f"unknown mode {mode}")
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()

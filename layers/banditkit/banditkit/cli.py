"""The `banditkit` command: the API from a shell, tables for people and `--json` for scripts.

    banditkit experiments list
    banditkit push FILE.csv [--experiment ID] [--mode set|increment]
    banditkit allocation ID [--window-days N]
    banditkit report ID
    banditkit migrate SOURCE --store URL [--apply]
    banditkit serve [--host 127.0.0.1 --port 8000 --store sqlite:///...]

The server is --url (else BANDIT_URL, else http://127.0.0.1:8000) and the key --api-key
(else BANDIT_API_KEY). Exit status: 0 done, 1 the API refused (its problem on stderr, and
on stdout with --json), 2 a usage error, 3 the server unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

DEFAULT_URL = "http://127.0.0.1:8000"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: left-aligned text, right-aligned numbers."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help="API base URL")
    common.add_argument("--api-key", default=argparse.SUPPRESS, help="x-api-key to send")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    parser = argparse.ArgumentParser(
        prog="banditkit", description="The banditkit API from a shell.", parents=[common]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    experiments = sub.add_parser("experiments", help="experiments", parents=[common])
    ex_sub = experiments.add_subparsers(dest="action", required=True)
    listing = ex_sub.add_parser("list", help="list every experiment", parents=[common])
    listing.add_argument("--status", choices=["running", "paused", "completed"])
    push = sub.add_parser("push", help="import a CSV file", parents=[common])
    push.add_argument("file", type=Path, help="CSV file")
    push.add_argument("--experiment", help="the experiment (else the file's experiment_id column)")
    push.add_argument("--mode", choices=["set", "increment"], default="set")
    allocation = sub.add_parser("allocation", help="traffic shares", parents=[common])
    allocation.add_argument("experiment_id")
    allocation.add_argument("--window-days", type=int)
    report = sub.add_parser("report", help="allocation, lifts, recommendation", parents=[common])
    report.add_argument("experiment_id")
    sub.add_parser("migrate", help="import an original database (see migrate --help)")
    sub.add_parser("serve", help="the local server (see serve --help)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    args_list = list(sys.argv[1:] if argv is None else argv)
    # migrate and serve own their arguments.
    at = _command_index(args_list)
    if at is not None and args_list[at] == "serve":
        from banditkit import local

        try:
            import uvicorn  # noqa: F401 (local.main imports it when it serves)
        except ImportError:
            print("banditkit serve needs: pip install 'banditkit[local]'", file=sys.stderr)
            return 2
        return local.main(args_list[at + 1 :])
    if at is not None and args_list[at] == "migrate":
        from banditkit import migrate

        return migrate.main(args_list[at + 1 :], out=out)
    args = _parser().parse_args(args_list)
    from banditkit.client import ApiError, Client, TransportError

    as_json = bool(getattr(args, "json", False))
    client = Client(
        getattr(args, "url", None) or os.environ.get("BANDIT_URL") or DEFAULT_URL,
        getattr(args, "api_key", None) or os.environ.get("BANDIT_API_KEY") or None,
    )
    try:
        return _run(args, client, as_json, out)
    except ApiError as err:
        print(f"banditkit: {err}", file=sys.stderr)
        if as_json:
            print(json.dumps(err.problem, indent=2), file=out)
        return 1
    except TransportError as err:
        print(f"banditkit: cannot reach the server: {err}", file=sys.stderr)
        return 3
    except OSError as err:  # the file to push
        print(f"banditkit: {err}", file=sys.stderr)
        return 2


def _command_index(args: Sequence[str]) -> int | None:
    """Where the command is: the first argument that is neither an option nor its value."""
    i = 0
    while i < len(args):
        if args[i] in ("--url", "--api-key"):
            i += 2
        elif args[i].startswith("-"):
            i += 1
        else:
            return i
    return None


def _dump(value: BaseModel | Sequence[BaseModel] | Mapping[str, Any], out: TextIO) -> None:
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, Mapping):
        data = value
    else:
        data = [v.model_dump(mode="json") for v in value]
    print(json.dumps(data, indent=2), file=out)


def _run(args: argparse.Namespace, client: Any, as_json: bool, out: TextIO) -> int:
    if args.command == "experiments":
        items = client.list_experiments(args.status)
        if as_json:
            _dump(items, out)
        else:
            rows = [
                (e.id, e.name, e.status, ", ".join(v.name for v in e.variants), str(e.created_at))
                for e in items
            ]
            print(table(["id", "name", "status", "variants", "created_at"], rows), file=out)
        return 0
    if args.command == "push":
        result = client.import_csv(args.file, args.experiment, mode=args.mode)
        if as_json:
            _dump(result, out)
            return 0
        parts = getattr(result, "experiments", [result])
        rows = [
            (p.experiment_id, p.rows_imported, p.days, p.total_impressions, p.total_clicks)
            for p in parts
        ]
        print(table(["experiment", "rows", "days", "impressions", "clicks"], rows), file=out)
        return 0
    if args.command == "allocation":
        allocation = client.allocation(args.experiment_id, args.window_days)
        if as_json:
            _dump(allocation, out)
        else:
            _print_allocation(allocation, out)
        return 0
    if args.command == "report":
        rep = client.report(args.experiment_id)
        if as_json:
            _dump(rep, out)
            return 0
        _print_allocation(rep, out)
        if rep.lifts:
            rows = [(lf.variant, lf.lift, lf.ci_low, lf.ci_high, lf.p_better) for lf in rep.lifts]
            print(file=out)
            print(table(["variant", "lift", "ci_low", "ci_high", "p_better"], rows), file=out)
        print(f"\n{rep.recommendation}", file=out)
        return 0
    raise AssertionError(args.command)  # pragma: no cover (argparse allows no other)


def _print_allocation(allocation: Any, out: TextIO) -> None:
    print(f"{allocation.experiment_id}: {allocation.status}", file=out)
    rows = [
        (v.name, v.allocation, v.p_best, v.impressions, v.clicks, v.conversions, v.rate)
        for v in allocation.variants
    ]
    headers = ["variant", "share", "p_best", "impressions", "clicks", "conversions", "rate"]
    print(table(headers, rows), file=out)


if __name__ == "__main__":
    sys.exit(main())

"""What may import what inside banditkit (docs/architecture.md), read off the source: every
`import banditkit.X` and `from banditkit.X import ...`, at any depth of a module (a lazy
import inside a function counts as much as one at the top)."""

from __future__ import annotations

import ast
from pathlib import Path

import banditkit

PACKAGE = Path(banditkit.__file__).parent
# part -> the parts it may import (besides itself). A part is a top-level module or package.
ALLOWED: dict[str, set[str]] = {
    "engine": set(),
    "models": set(),
    "store": set(),
    "config": set(),
    "cache": set(),
    "telemetry": set(),
    "service": {"engine", "models", "store", "cache"},
    "runtime": {"config", "store"},
    "aws": {"service", "config", "runtime", "telemetry", "store"},
    "http": {"service", "models", "store", "engine", "config", "runtime", "telemetry", "aws"},
    "local": {"http", "service", "store", "config", "local_timeouts"},
    "local_timeouts": set(),
    "client": {"models"},
    "migrate": {"models", "service", "store", "config", "cli"},
    "cli": {"client", "local", "migrate"},
}
WEB_STACK = ("fastapi", "starlette", "mangum")


def part_of(module: str) -> str:
    """`banditkit.store.sqlite` -> `store`; `banditkit` itself (its __version__) -> ``."""
    return module.split(".")[1] if "." in module else ""


def imports(path: Path) -> set[str]:
    """The absolute module names `path` imports (`from banditkit import service` names
    banditkit.service)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "banditkit":
                names |= {f"banditkit.{alias.name}" for alias in node.names}
    return names


def edges() -> dict[str, set[str]]:
    """part -> the other banditkit parts its modules import."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.parts == ("__init__",):
            continue
        part = rel.parts[0]
        targets = {part_of(m) for m in imports(path) if m.startswith("banditkit.")}
        found.setdefault(part, set()).update(targets - {part, "__version__"})
    return found


def test_every_part_imports_only_what_the_architecture_allows() -> None:
    found = edges()
    assert set(found) == set(ALLOWED), "a new part: add it to docs/architecture.md and here"
    assert {part: sorted(found[part] - ALLOWED[part]) for part in found} == {
        part: [] for part in found
    }


def test_the_web_stack_stays_in_http_and_local() -> None:
    """The recompute function's cold start loads aws.py, runtime.py and the service without
    FastAPI; only http/ and the local server may import it."""
    offenders = sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in ("http", "local.py")
        and any(m.split(".")[0] in WEB_STACK for m in imports(path))
    )
    assert offenders == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The reader sees an engine module importing the store, as the first test would."""
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from banditkit.store import Store\n    import numpy\n")
    assert {part_of(m) for m in imports(module) if m.startswith("banditkit.")} == {"store"}
    assert "store" not in ALLOWED["engine"]

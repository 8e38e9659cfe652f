"""The layers pin what pyproject.toml asks for: every runtime dependency but boto3 (the Lambda
runtime has it) is pinned exactly once, in the banditkit layer or the PostgreSQL one, at a
version pyproject allows."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {
    "banditkit": ROOT / "layers" / "banditkit" / "requirements.txt",
    "postgres": ROOT / "layers" / "postgres" / "requirements.txt",
}
RUNTIME_PROVIDED = {"boto3"}
POSTGRES_ONLY = {"psycopg", "psycopg-pool"}


def pins(path: Path) -> dict[str, Requirement]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    reqs = [Requirement(line) for line in lines if line]
    return {canonicalize_name(r.name): r for r in reqs}


def test_every_runtime_dependency_is_pinned_once_at_an_allowed_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}
    layers = {name: pins(path) for name, path in LAYERS.items()}

    assert set(layers["postgres"]) == POSTGRES_ONLY
    assert not set(layers["banditkit"]) & set(layers["postgres"])
    pinned = layers["banditkit"] | layers["postgres"]
    assert set(pinned) == set(wanted) - RUNTIME_PROVIDED
    for name, req in pinned.items():
        (spec,) = req.specifier
        assert spec.operator == "==", f"{name} is not pinned"
        assert wanted[name].specifier.contains(spec.version), f"{name}=={spec.version}"
        assert req.extras == wanted[name].extras, name

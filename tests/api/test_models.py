"""The API models stay in step with the engine's settings, and `banditkit.models` re-exports
every name of its submodules while loading only the submodule asked for."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import banditkit.models as m
import pytest
from banditkit.engine import Settings
from banditkit.models import SettingsOut, SettingsPatch
from pydantic import BaseModel


def submodules() -> list[ModuleType]:
    return [importlib.import_module(f"{m.__name__}.{name}") for name in m.SUBMODULES]


def test_every_engine_setting_is_in_the_api() -> None:
    assert set(SettingsPatch.model_fields) == set(Settings.names())
    assert set(SettingsOut.model_fields) == set(Settings.names())


def test_every_model_field_is_documented() -> None:
    models = [
        model
        for module in submodules()
        for model in vars(module).values()
        if isinstance(model, type)
        and issubclass(model, BaseModel)
        and model.__module__ == module.__name__
    ]
    assert len(models) > 30  # every submodule was walked
    undocumented = [
        f"{model.__name__}.{field}"
        for model in models
        if model.__name__ != "CsvRow"
        for field, info in model.model_fields.items()
        if not info.description
    ]
    assert undocumented == []


def defined_names(module: ModuleType) -> set[str]:
    """The public names a module's own top-level statements bind (not those it imports)."""
    tree = ast.parse(Path(str(module.__file__)).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def test_the_package_names_every_public_name_of_its_submodules() -> None:
    for module in submodules():
        short = module.__name__.rsplit(".", 1)[1]
        defined = defined_names(module)
        assert set(m.SUBMODULES[short]) == defined, short
        for name in defined:
            assert getattr(m, name) is getattr(module, name)
    everything = [n for names in m.SUBMODULES.values() for n in names]
    assert len(everything) == len(set(everything)) > 50
    assert sorted(m.__all__) == sorted(everything)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = m.NotAModel  # type: ignore[attr-defined]


def test_a_name_loads_only_its_own_submodule() -> None:
    code = (
        "import sys\n"
        "from banditkit.models import HistoryOut\n"
        "print(sorted(k for k in sys.modules if k.startswith('banditkit.models')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip()
    assert loaded == str(
        ["banditkit.models", "banditkit.models.common", "banditkit.models.history"]
    )

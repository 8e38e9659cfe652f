"""The API models stay in step with the engine's settings."""

from __future__ import annotations

from banditkit.engine import Settings
from banditkit.models import SettingsOut, SettingsPatch


def test_every_engine_setting_is_in_the_api() -> None:
    assert set(SettingsPatch.model_fields) == set(Settings.names())
    assert set(SettingsOut.model_fields) == set(Settings.names())


def test_every_model_field_is_documented() -> None:
    import banditkit.models as m
    from pydantic import BaseModel

    undocumented = [
        f"{name}.{field}"
        for name, model in vars(m).items()
        if isinstance(model, type)
        and issubclass(model, BaseModel)
        and model.__module__ == m.__name__
        and name != "CsvRow"
        for field, info in model.model_fields.items()
        if not info.description
    ]
    assert undocumented == []

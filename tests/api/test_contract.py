"""The OpenAPI document and the behaviour agree: what the schema allows is accepted, what it
does not is refused, and OPTIONS names the methods each path answers."""

from __future__ import annotations

from typing import Any

import pytest
from banditkit.engine.types import Settings
from banditkit.http.app import create_app
from fastapi.testclient import TestClient

from .conftest import config


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    doc: dict[str, Any] = create_app().openapi()
    return doc


def component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["components"]["schemas"][name]
    return found


def allows_null(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(allows_null(p) for p in prop.get("anyOf", []))


def test_every_setting_the_schema_makes_nullable_takes_null_as_its_default(
    api: Any, schema: dict[str, Any]
) -> None:
    props = component(schema, "SettingsPatch")["properties"]
    nullable = sorted(name for name, prop in props.items() if allows_null(prop))
    assert nullable == sorted(Settings.names())
    defaults = api.create()["settings"]
    # Given an experiment whose every setting differs from its default
    changed = {
        "alpha_prior": 2.0,
        "beta_prior": 3.0,
        "min_explore_rate": 0.2,
        "control_floor": 0.2,
        "max_daily_shift": 0.1,
        "min_impressions": 5,
        "window_days": 7,
        "half_life_days": 3.0,
        "metric": "conversion_rate",
        "winner_p_best": 0.9,
        "winner_loss_share": 0.02,
        "null_prior": 0.5,
        "effect_scale": 0.2,
        "on_drift": "discount",
        "allocation_rule": "sharpened",
        "exploration": "fixed",
    }
    assert sorted(changed) == nullable
    exp = api.create(settings=changed)
    assert exp["settings"] == changed
    # When each setting is sent as null, on create and on PATCH
    created = api.client.post(
        "/experiments", json={"name": "n", "settings": dict.fromkeys(nullable)}
    )
    patched = api.client.patch(
        f"/experiments/{exp['id']}", json={"settings": dict.fromkeys(nullable)}
    )
    # Then null means the default
    assert created.status_code == 201, created.text
    assert created.json()["settings"] == defaults
    assert patched.status_code == 200, patched.text
    assert patched.json()["settings"] == defaults


def test_patch_null_resets_one_setting_and_keeps_the_others(api: Any) -> None:
    exp = api.create(settings={"metric": "conversion_rate", "window_days": 7})
    r = api.client.patch(f"/experiments/{exp['id']}", json={"settings": {"metric": None}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["metric"] == "ctr"
    assert r.json()["settings"]["window_days"] == 7


def test_declared_variants_need_one_on_create_and_the_schema_says_so(
    api: Any, schema: dict[str, Any]
) -> None:
    create = component(schema, "ExperimentCreate")["properties"]["variants"]
    patch = component(schema, "ExperimentPatch")["properties"]["variants"]
    arrays = [p for p in create["anyOf"] if p.get("type") == "array"]
    assert [a.get("minItems") for a in arrays] == [1]
    assert all("minItems" not in p for p in patch["anyOf"])
    api.problem(
        api.client.post("/experiments", json={"name": "x", "variants": []}), 422, "variants"
    )
    exp = api.create(variants=["a"])
    r = api.client.patch(f"/experiments/{exp['id']}", json={"variants": []})
    assert r.status_code == 200, r.text


def test_booleans_and_dates_are_strict_in_the_schema(schema: dict[str, Any]) -> None:
    variant = component(schema, "ExperimentCreate")["properties"]["variants"]
    array = next(p for p in variant["anyOf"] if p.get("type") == "array")
    objects = [i for i in array["items"]["anyOf"] if i.get("type") == "object"]
    assert objects[0]["properties"]["is_control"] == {"type": "boolean"}
    assert component(schema, "EventsIn")["properties"]["date"]["format"] == "date"
    metrics = schema["paths"]["/experiments/{experiment_id}/metrics"]["get"]["parameters"]
    dates = {p["name"]: p["schema"] for p in metrics if p["name"] in ("from", "to")}
    for param in dates.values():
        assert {"type": "string", "format": "date"} in param["anyOf"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/experiments", "GET, POST"),
        ("/experiments/exp_1", "GET, PATCH, DELETE"),
        ("/events", "POST"),
        ("/allocation", "GET"),
        ("/experiments/exp_1/import", "POST"),
    ],
)
def test_options_names_every_method_of_the_path(
    client: TestClient, path: str, allowed: str
) -> None:
    r = client.options(path)
    assert r.status_code == 204, r.text
    assert r.headers["allow"] == f"{allowed}, OPTIONS"
    assert r.content == b""


def test_options_on_an_unknown_path_is_404(client: TestClient) -> None:
    assert client.options("/nope").status_code == 404


def test_a_wrong_method_is_405_naming_every_allowed_method(client: TestClient) -> None:
    r = client.put("/experiments")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST, OPTIONS"


def test_a_mount_keeps_its_own_allow(store: Any, tmp_path: Any) -> None:
    from banditkit.local import build_app

    folder = tmp_path / "frontend"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>x</title>")
    with TestClient(build_app(config(), store, frontend=folder, recompute_seconds=3600)) as c:
        r = c.post("/dashboard/index.html")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, HEAD"
        assert c.options("/docs").headers["allow"] == "GET, OPTIONS"

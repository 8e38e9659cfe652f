"""Configuration from the environment, and the local server's app, guards and timer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from banditkit import local
from banditkit.config import AppConfig, ConfigError, load_config
from banditkit.local import DASHBOARD_CSP, build_app, is_loopback
from fastapi.testclient import TestClient


def test_config_reads_bandit_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANDIT_API_KEYS", " a , b ,")
    monkeypatch.setenv("BANDIT_CORS_ORIGINS", "https://x.example")
    monkeypatch.setenv("BANDIT_ENABLE_RESET", "1")
    monkeypatch.setenv("BANDIT_ADMIN_KEY", "s3cr3t-admin-0123456")
    monkeypatch.setenv("BANDIT_RECOMPUTE_SECONDS", "60")
    cfg = load_config()
    assert [k.get_secret_value() for k in cfg.api_keys] == ["a", "b"]
    assert cfg.cors_origins == ("https://x.example",)
    assert cfg.reset_enabled is True
    assert cfg.recompute_seconds == 60
    assert "s3cr3t" not in repr(cfg)  # secrets never print


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BANDIT_RECOMPUTE_SECONDS", "soon"),
        ("BANDIT_RECOMPUTE_SECONDS", "-1"),
        ("BANDIT_ENABLE_RESET", "maybe"),
        ("BANDIT_TRACING", "perhaps"),
    ],
)
def test_a_bad_variable_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_config()
    assert name in str(err.value)
    assert value not in str(err.value).replace(name, "")


def cfg(**values: object) -> AppConfig:
    return AppConfig(**({"api_keys": "", "cors_origins": ""} | values))  # type: ignore[arg-type]


def test_local_app_serves_placeholder_with_security_headers(store, tmp_path: Path) -> None:
    app = build_app(cfg(), store, frontend=tmp_path / "missing", recompute_seconds=3600)
    with TestClient(app) as c:
        r = c.get("/", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (307, "/dashboard/")
        assert c.head("/dashboard/").status_code == 200
        page = c.get("/dashboard/")
        assert page.status_code == 200
        assert "banditkit" in page.text
        assert page.headers["content-security-policy"] == DASHBOARD_CSP
        assert "frame-ancestors 'none'" in DASHBOARD_CSP
        assert "'unsafe-inline'" not in DASHBOARD_CSP
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in c.get("/health").headers
        assert c.get("/docs").status_code == 200
        assert c.get("/openapi.json").json()["info"]["title"] == "banditkit"


def test_local_app_serves_the_frontend_folder(store, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>dash</title>")
    (tmp_path / "app.js").write_text("export const x = 1;")
    app = build_app(cfg(), store, frontend=tmp_path, recompute_seconds=3600)
    with TestClient(app) as c:
        assert "<title>dash</title>" in c.get("/dashboard/").text
        js = c.get("/dashboard/app.js")
        assert js.status_code == 200
        assert js.headers["x-content-type-options"] == "nosniff"


def test_timer_recomputes_in_the_background(store, api) -> None:
    exp = api.create(variants=["control", "variant_b", "variant_c"])
    api.post_days(exp["id"], days=3)
    timer = local.RecomputeTimer(store, seconds=0.01)
    timer.start()
    deadline = time.monotonic() + 5
    while timer.runs < 2 and time.monotonic() < deadline:  # its own thread, every 10 ms
        time.sleep(0.01)
    timer.stop()
    assert timer.runs >= 2
    assert store.latest_snapshot(exp["id"]).trigger == "schedule"
    assert len(store.list_snapshots(exp["id"]).items) == 1  # the later runs saw no change
    assert timer.thread is not None
    assert not timer.thread.is_alive()


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.2")


def test_main_refuses_a_public_host_without_keys(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("BANDIT_API_KEYS", raising=False)
    served: list[dict[str, object]] = []

    def serve(app: object, **kwargs: object) -> None:
        served.append(kwargs)

    assert local.main(["--host", "0.0.0.0"], serve=serve) == 2
    assert "BANDIT_API_KEYS" in capsys.readouterr().err
    assert served == []
    store_url = f"sqlite:///{tmp_path}/x.db"
    assert local.main(["--port", "8123", "--store", store_url], serve=serve) == 0
    (options,) = served
    assert {k: options.pop(k) for k in ("host", "port", "log_level")} == {
        "host": "127.0.0.1",
        "port": 8123,
        "log_level": "info",
    }
    limits = local.server_limits()
    assert options.pop("http").header_timeout == limits.pop("http").header_timeout  # type: ignore[attr-defined]
    assert options == limits == {"limit_concurrency": 200, "timeout_keep_alive": 5.0}
    monkeypatch.setenv("BANDIT_API_KEYS", "k")
    assert local.main(["--host", "0.0.0.0", "--store", store_url], serve=serve) == 0


def test_main_reports_a_bad_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BANDIT_RECOMPUTE_SECONDS", "never")
    assert local.main([], serve=lambda *a, **k: None) == 2
    assert "BANDIT_RECOMPUTE_SECONDS" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["x", "a" * 15])
def test_main_refuses_an_admin_key_shorter_than_16(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    monkeypatch.setenv("BANDIT_ADMIN_KEY", key)
    served: list[object] = []
    assert local.main([], serve=lambda *a, **k: served.append(a)) == 2
    err = capsys.readouterr().err
    assert "BANDIT_ADMIN_KEY" in err
    assert "16" in err
    assert "a" * 15 not in err  # the key is never echoed
    assert served == []


def test_an_admin_key_of_16_or_more_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANDIT_ADMIN_KEY", "a" * 16)
    monkeypatch.setenv("BANDIT_ENABLE_RESET", "1")
    assert load_config().reset_enabled is True

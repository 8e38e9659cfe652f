"""Runtime configuration: one model, read from ``BANDIT_*`` by pydantic-settings once, at first use.

Nothing else in banditkit reads ``os.environ``. A bad value fails at start-up (first use) with a
`ConfigError` naming the environment variable.

`AppConfig` declares the settings as a plain pydantic model (built from explicit values, as tests
do); `load_config` reads them from the environment through a pydantic-settings subclass of it,
made at the first read. pydantic-settings loads every settings source it has (dotenv, argparse,
cloud providers: ~14 ms), so importing this module leaves it out of a Lambda handler's import.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

ENV_PREFIX = "BANDIT_"


class ConfigError(RuntimeError):
    """An environment variable holds a value banditkit cannot use."""


class AppConfig(BaseModel):
    """Every setting of the running service; `load_config` reads each from ``BANDIT_<NAME>``."""

    # Built at first use: a Lambda handler only ever instantiates the subclass load_config
    # makes, so the validator of this class itself is never built there (~2 ms of import).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    store_url: str = Field(
        default="sqlite:///.data/banditkit.db",
        min_length=1,
        description="Store URL: sqlite:///path, postgresql://..., dynamodb://TABLE?region=...",
    )
    api_keys: tuple[SecretStr, ...] = Field(
        default=(),
        description="Comma-separated keys accepted in the x-api-key header; empty = open.",
    )
    admin_key: SecretStr | None = Field(
        default=None, description="Key for POST /reset_data (header x-admin-key)."
    )
    enable_reset: bool = Field(default=False, description="1 enables POST /reset_data.")
    recompute_seconds: float = Field(
        default=300.0, gt=0, le=86400, description="Local server: seconds between recomputes."
    )
    cors_origins: tuple[str, ...] = Field(
        default=(), description="Comma-separated origins allowed by CORS; empty = none."
    )
    database_secret_arn: str | None = Field(
        default=None, description="Aurora: Secrets Manager ARN holding the database credentials."
    )
    tracing: bool = Field(default=False, description="1 turns on the Powertools X-Ray tracer.")
    recompute_queue_url: str = Field(
        default="",
        description="AWS: the SQS queue the recompute planner sends changed experiments to; "
        "empty = the planner recomputes them itself.",
    )

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("admin_key", mode="before")
    @classmethod
    def _blank_admin_key(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def auth_required(self) -> bool:
        return bool(self.api_keys)

    @property
    def reset_enabled(self) -> bool:
        return self.enable_reset and self.admin_key is not None


@lru_cache(maxsize=1)
def _from_environment() -> type[AppConfig]:
    """AppConfig as a pydantic-settings model: each field from ``BANDIT_<NAME>``, the lists
    comma-separated (the validators split them; no JSON decoding)."""
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class EnvironmentConfig(AppConfig, BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=ENV_PREFIX, extra="ignore", frozen=True, enable_decoding=False
        )

    return EnvironmentConfig


def load_config() -> AppConfig:
    """Read the environment now; ConfigError names every bad variable."""
    try:
        return _from_environment()()
    except ValidationError as err:
        problems = "; ".join(
            f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else e["msg"]
            for e in err.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_config() -> AppConfig:
    """The process-wide configuration, read at first use and cached."""
    return load_config()

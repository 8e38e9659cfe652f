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
# The shortest admin key accepted; template.yaml's AdminKey parameter has the same rule
# (tests/infra/test_template.py holds them together).
ADMIN_KEY_MIN_LENGTH = 16
SCOPES = ("read", "write", "admin")  # each includes the ones before it


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
        description="Comma-separated admin-scope keys (every route) for the x-api-key header; "
        "no key of any scope = open.",
    )
    write_keys: tuple[SecretStr, ...] = Field(
        default=(), description="Comma-separated write-scope keys (ingestion, and every read)."
    )
    read_keys: tuple[SecretStr, ...] = Field(
        default=(), description="Comma-separated read-scope keys (dashboards, allocation)."
    )
    api_key_ids: tuple[str, ...] = Field(
        default=(),
        description="AWS: comma-separated ID=SCOPE of the API Gateway keys (which checked the "
        "key; the app reads the scope of its id from the request context).",
    )
    admin_key: SecretStr | None = Field(
        default=None,
        description=f"Key for POST /reset_data (header x-admin-key), {ADMIN_KEY_MIN_LENGTH}+ "
        "characters.",
    )
    admin_key_secret_arn: str | None = Field(
        default=None,
        description="AWS: Secrets Manager ARN holding the admin key (instead of admin_key).",
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

    @field_validator(
        "api_keys", "write_keys", "read_keys", "api_key_ids", "cors_origins", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("admin_key", "admin_key_secret_arn", mode="before")
    @classmethod
    def _blank_admin_key(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_key")
    @classmethod
    def _long_admin_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < ADMIN_KEY_MIN_LENGTH:
            raise ValueError(f"must be at least {ADMIN_KEY_MIN_LENGTH} characters")
        return value

    @field_validator("api_key_ids")
    @classmethod
    def _id_scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pair in value:
            key_id, _, scope = pair.partition("=")
            if not key_id or scope not in SCOPES:
                raise ValueError(f"each entry must be ID=SCOPE with SCOPE one of {SCOPES}")
        return value

    @property
    def auth_required(self) -> bool:
        return bool(self.api_keys or self.write_keys or self.read_keys or self.api_key_ids)

    @property
    def reset_enabled(self) -> bool:
        has_key = self.admin_key is not None or self.admin_key_secret_arn is not None
        return self.enable_reset and has_key

    def key_scopes(self) -> dict[str, str]:
        """Each configured key value -> its scope (a key in two lists gets the wider)."""
        scopes: dict[str, str] = {}
        for scope, keys in (("read", self.read_keys), ("write", self.write_keys)):
            scopes |= {k.get_secret_value(): scope for k in keys}
        return scopes | {k.get_secret_value(): "admin" for k in self.api_keys}

    def id_scopes(self) -> dict[str, str]:
        """API Gateway key id -> scope."""
        return dict(pair.split("=", 1) for pair in self.api_key_ids)


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

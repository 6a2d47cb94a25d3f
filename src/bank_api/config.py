"""Settings from `BANK_API_*` environment variables and an optional `.env` file.

The names in docs/CONTRACT.md ("Settings") are fixed; the rest are ours. `.env.example` lists
every one.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger(__name__)

Environment = Literal["local", "test", "production"]

# Used only when BANK_API_ENVIRONMENT=local and no secret is configured. It is a constant so
# every worker of a local multi-worker run signs and verifies with the same key.
DEVELOPMENT_JWT_SECRET = "bank-api-local-development-secret-do-not-use-in-production"  # noqa: S105
_PLACEHOLDER_MARKERS = (
    "change-me",
    "changeme",
    "change_me",
    "placeholder",
    "example",
    "secret-here",
)
MIN_SECRET_BYTES = 32
# A random 32-byte secret in any printable encoding has far more distinct characters than this.
MIN_SECRET_DISTINCT = 10


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BANK_API_", env_file=".env", extra="ignore", frozen=True
    )

    # --- runtime ---------------------------------------------------------------------------
    environment: Environment = "local"
    database_url: str = "sqlite+aiosqlite:///./bank_api.db"
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(10, gt=0, le=300)
    db_connect_timeout_seconds: float = Field(5, gt=0, le=300)
    db_statement_timeout_ms: int = Field(15_000, ge=0)
    # "transaction": connections go through a pooler in transaction mode (PgBouncer): no
    # prepared statement outlives its statement, no session setting is sent at connect
    # (docs/DECISIONS.md "Behind PgBouncer").
    db_pooler: Literal["none", "transaction"] = "none"
    max_body_bytes: int = Field(1_048_576, ge=1024)
    docs_enabled: bool = True
    cors_origins: Annotated[list[str], NoDecode] = []
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    gc_freeze: bool = True
    # /metrics is unauthenticated: it counts business events, and totals the money they moved
    # only when this is on (for a scrape endpoint that is not reachable from outside).
    metrics_money_totals: bool = False
    # FastAPI's own OpenTelemetry (spans, metrics and logs through the process's global
    # providers, which a deployment configures): off, it costs nothing per request.
    opentelemetry: bool = False

    # --- tokens and passwords --------------------------------------------------------------
    jwt_secret: SecretStr | None = None
    access_token_minutes: int = Field(60, ge=1, le=24 * 60)
    refresh_token_days: int = Field(14, ge=1, le=365)
    # OWASP's first argon2id configuration (docs/DECISIONS.md, "Runtime": the choice, measured)
    argon2_time_cost: int = Field(1, ge=1, le=20)
    argon2_memory_kib: int = Field(47_104, ge=1024, le=4_194_304)
    argon2_parallelism: int = Field(1, ge=1, le=32)
    hash_concurrency: int = Field(2, ge=1, le=64)
    # How long a login (or registration, password change) waits for a hashing thread before it
    # is answered 503 `hashing_busy` with Retry-After instead of queueing for seconds.
    hash_wait_ms: int = Field(2000, ge=1, le=60_000)

    # --- login throttling ------------------------------------------------------------------
    login_max_failures: int = Field(5, ge=1)
    login_max_failures_per_client: int = Field(20, ge=1)
    login_window_seconds: int = Field(900, ge=1)

    # --- bootstrap admin (created at startup when all three are set and it does not exist) --
    admin_username: str | None = None
    admin_email: str | None = None
    admin_password: SecretStr | None = None

    # --- lending ---------------------------------------------------------------------------
    allow_business_date_override: bool = False
    min_ticket: Decimal = Decimal("25.00")
    max_share: Decimal | None = None
    # Percentage of each payment's interest the platform keeps (docs/DECISIONS.md "Platform fee").
    servicing_fee: Decimal = Decimal(0)
    # Approvals above this amount, and every write-off while it is set, need two admins.
    four_eyes_above: Decimal | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator(
        "max_share", "four_eyes_above", "jwt_secret", "admin_username", "admin_email", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("min_ticket")
    @classmethod
    def _check_min_ticket(cls, value: Decimal) -> Decimal:
        if value <= 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError("min_ticket must be a positive amount with at most two decimals")
        return value

    @field_validator("four_eyes_above")
    @classmethod
    def _check_four_eyes(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (value < 0 or value.as_tuple().exponent < -2):  # type: ignore[operator]
            raise ValueError("four_eyes_above must be an amount >= 0 with at most two decimals")
        return value

    @field_validator("servicing_fee")
    @classmethod
    def _check_servicing_fee(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value <= Decimal(100) or value.as_tuple().exponent < -4:  # type: ignore[operator]
            raise ValueError("servicing_fee must be a percentage in [0, 100], at most 4 decimals")
        return value

    @field_validator("max_share")
    @classmethod
    def _check_max_share(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not Decimal(0) < value <= Decimal(1):
            raise ValueError("max_share must be a fraction in (0, 1]")
        return value

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else None
        if secret is None:
            if self.environment != "local":
                raise ValueError("BANK_API_JWT_SECRET is required outside local development")
            return self
        if self.environment == "production":
            lowered = secret.lower()
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"BANK_API_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
            if secret == DEVELOPMENT_JWT_SECRET or any(m in lowered for m in _PLACEHOLDER_MARKERS):
                raise ValueError("BANK_API_JWT_SECRET is a placeholder; generate a real secret")
            if len(set(secret)) < MIN_SECRET_DISTINCT:
                raise ValueError(
                    "BANK_API_JWT_SECRET is too regular (a repeated character or pattern); "
                    "generate a random one"
                )
        return self

    @property
    def signing_key(self) -> str:
        if self.jwt_secret is None:
            return DEVELOPMENT_JWT_SECRET
        return self.jwt_secret.get_secret_value()

    @property
    def min_ticket_cents(self) -> int:
        return int(self.min_ticket * 100)

    @property
    def four_eyes_above_cents(self) -> int | None:
        return None if self.four_eyes_above is None else int(self.four_eyes_above * 100)

    @property
    def fee_ppm(self) -> int:
        """The servicing fee in millionths of interest (2.5 % -> 25000), exact."""
        return int(self.servicing_fee * 10_000)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def warn_if_development_secret(settings: Settings) -> None:
    if settings.jwt_secret is None:
        log.warning("BANK_API_JWT_SECRET is not set: using the local development secret")


@lru_cache
def get_settings() -> Settings:
    return Settings()

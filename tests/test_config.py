from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from bank_api.config import DEVELOPMENT_JWT_SECRET, Settings

STRONG_SECRET = "h3Jk9-Qz_2LmP0wXc7VbN4aRtY6uSe1D8fGi5oKj"  # 40 random-looking characters


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_defaults_are_the_documented_ones() -> None:
    settings = make()
    assert settings.database_url == "sqlite+aiosqlite:///./bank_api.db"
    assert settings.environment == "local"
    assert settings.access_token_minutes == 60
    assert settings.cors_origins == []
    assert settings.allow_business_date_override is False
    assert settings.min_ticket == Decimal("25.00")
    assert settings.min_ticket_cents == 2500
    assert settings.max_share is None
    assert settings.signing_key == DEVELOPMENT_JWT_SECRET


def test_environment_variables_use_the_fixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "BANK_API_DATABASE_URL": "postgresql+asyncpg://u@h/db",
        "BANK_API_ENVIRONMENT": "production",
        "BANK_API_JWT_SECRET": STRONG_SECRET,
        "BANK_API_ACCESS_TOKEN_MINUTES": "15",
        "BANK_API_CORS_ORIGINS": "https://a.example, https://b.example",
        "BANK_API_ALLOW_BUSINESS_DATE_OVERRIDE": "true",
        "BANK_API_MIN_TICKET": "10.50",
        "BANK_API_MAX_SHARE": "0.25",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = make()
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.access_token_minutes == 15
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.allow_business_date_override is True
    assert settings.min_ticket_cents == 1050
    assert settings.max_share == Decimal("0.25")


def test_empty_max_share_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANK_API_MAX_SHARE", "")
    assert make().max_share is None


@pytest.mark.parametrize("environment", ["test", "production"])
def test_missing_secret_is_refused_outside_local(environment: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET is required"):
        make(environment=environment)


@pytest.mark.parametrize(
    "secret", ["short", "x" * 31, "change-me-" + "x" * 40, DEVELOPMENT_JWT_SECRET]
)
def test_weak_secret_is_refused_in_production(secret: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        make(environment="production", jwt_secret=secret)


def test_strong_secret_is_accepted_in_production() -> None:
    assert make(environment="production", jwt_secret=STRONG_SECRET).signing_key == STRONG_SECRET


@pytest.mark.parametrize("secret", ["Q" * 32, "ab" * 20, "abc" * 15, "0123" * 10, "é" * 40])
def test_a_regular_secret_is_refused_in_production_with_one_clear_message(secret: str) -> None:
    with pytest.raises(ValidationError, match="too regular"):
        make(environment="production", jwt_secret=secret)


@pytest.mark.parametrize(
    ("field", "value"),
    [("min_ticket", "0"), ("min_ticket", "1.001"), ("max_share", "0"), ("max_share", "1.5")],
)
def test_bad_lending_policy_is_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        make(**{field: value})

"""The container files, checked without a Docker engine: the compose file's environment uses
only real settings names, and the Dockerfile keeps its promises."""

from __future__ import annotations

from pathlib import Path

import yaml

from bank_api.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {f"BANK_API_{name.upper()}" for name in Settings.model_fields}


def test_compose_environment_names_are_settings() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "pgbouncer", "migrate", "api", "lb"}
    for name in ("migrate", "api"):
        env = services[name]["environment"]
        assert set(env) <= SETTINGS, set(env) - SETTINGS
        assert env["BANK_API_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["BANK_API_ENVIRONMENT"] == "production"
    # the replicas go through PgBouncer in transaction mode, and publish no port of their own
    api, bouncer = services["api"], services["pgbouncer"]
    assert "@pgbouncer:" in api["environment"]["BANK_API_DATABASE_URL"]
    assert api["environment"]["BANK_API_DB_POOLER"] == "transaction"
    assert "ports" not in api
    assert bouncer["environment"]["POOL_MODE"] == "transaction"
    assert "statement_timeout" in bouncer["environment"]["CONNECT_QUERY"]
    assert services["lb"]["ports"] == ["127.0.0.1:8000:8000"]
    haproxy = (ROOT / "deploy" / "haproxy.cfg").read_text()
    assert "balance roundrobin" in haproxy
    assert "server-template api" in haproxy
    assert "option httpchk GET /readyz" in haproxy
    assert services["migrate"]["command"] == ["bank-api", "migrate"]
    assert services["db"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_env_example_lists_every_setting() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    listed = {line.split("=", 1)[0].lstrip("# ").strip() for line in lines if "=" in line}
    assert listed >= SETTINGS, SETTINGS - listed


def test_dockerfile_is_multi_stage_non_root_and_does_not_migrate() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2
    assert "USER bank" in text
    assert "migrate" not in text.split("CMD", 1)[1]
    assert "COPY requirements/runtime.txt" in text

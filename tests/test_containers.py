"""The container files, checked without a Docker engine: the compose file's environment uses
only real settings names, and the Dockerfile keeps its promises."""

from __future__ import annotations

import configparser
import json
import re
import uuid
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
    # the image's entrypoint generates a configuration only when none is mounted, and it
    # knows no connect_query: the policy is our file, which sets the statement timeout
    assert bouncer["volumes"] == ["./deploy/pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini:ro"]
    assert bouncer["environment"]["AUTH_TYPE"] == "scram-sha-256"
    pooling = configparser.ConfigParser()
    pooling.read_string((ROOT / "deploy" / "pgbouncer.ini").read_text())
    assert pooling["pgbouncer"]["pool_mode"] == "transaction"
    assert pooling["pgbouncer"]["auth_type"] == "scram-sha-256"
    database = pooling["databases"]["bank_api"]
    assert "host=db port=5432 dbname=bank_api" in database
    assert "connect_query='SET statement_timeout = 15000'" in database
    assert bouncer["environment"]["DATABASE_URL"].endswith("@db:5432/bank_api")
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


def test_the_load_balancer_retries_only_what_cannot_take_effect_twice() -> None:
    """deploy/haproxy.cfg (also the topology's policy) sends a request again after a replica
    died under it only when it is a read or a write the service replays by its
    Idempotency-Key: its `replayable` paths are exactly the operations that take the key."""
    haproxy = (ROOT / "deploy" / "haproxy.cfg").read_text()
    assert "retry-on conn-failure empty-response" in haproxy
    assert "http-request disable-l7-retry unless read || keyed replayable" in haproxy
    assert "acl keyed req.hdr(idempotency-key) -m found" in haproxy
    replayable = re.compile(re.search(r"acl replayable path_reg (\S+)", haproxy).group(1))  # type: ignore[union-attr]
    schema = json.loads((ROOT / "openapi.json").read_text())
    keyed, others = set(), set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("get", "head"):
                continue
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            (keyed if "Idempotency-Key" in headers else others).add(concrete)
    assert len(keyed) == 6
    assert all(replayable.match(path) for path in keyed)
    assert not [path for path in others if replayable.match(path)]

"""Schemathesis against the live server with a real token for every role: no 5xx, no
undocumented status code, no response that breaks its schema or media type.

Beyond what schemathesis generates from the schema, every operation is also tried with the
NUL character in its text inputs and with date bounds at the calendar's edges
(`schemathesis_hooks.py`).

The caller's own credentials (`PATCH /users/me`, `POST /users/me/password`) are left out:
fuzzing them would change the token holder's name or password mid-run. Both routes have
their own tests in tests/users/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import LiveServer

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")  # NUL characters and calendar edges

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
    ]
)


@pytest.fixture
def server(backend: str, request: pytest.FixtureRequest) -> LiveServer:
    """The live server on this backend (PostgreSQL is where a NUL character would fail)."""
    name = "live_server" if backend.startswith("sqlite") else "live_pg_server"
    live: LiveServer = request.getfixturevalue(name)
    return live


@pytest.mark.parametrize("role", ["admin", "agent", "customer", "investor"])
def test_schemathesis_finds_nothing(server: LiveServer, role: str) -> None:
    live_server = server
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{live_server.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {live_server.tokens[role]}",
            "--checks",
            CHECKS,
            "--max-examples",
            "12",
            "--seed",
            "20261123",
            "--exclude-path",
            "/api/v1/users/me",
            "--exclude-path",
            "/api/v1/users/me/password",
            "--generation-database",
            ":memory:",
            "--generation-allow-x00",
            "true",
            "--no-color",
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
    assert re.search(r"\d+ generated, \d+ passed", summary), summary

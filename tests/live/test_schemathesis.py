"""Schemathesis against the live server with a real token for every role: no 5xx, no
undocumented status code, no response that breaks its schema or media type.

The caller's own credentials (`PATCH /users/me`, `POST /users/me/password`) are left out:
fuzzing them would change the token holder's name or password mid-run. Both routes have
their own tests in tests/users/.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.support.live import LiveServer

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
    ]
)


@pytest.mark.parametrize("role", ["admin", "agent", "customer", "investor"])
def test_schemathesis_finds_nothing(live_server: LiveServer, role: str) -> None:
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
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
    assert re.search(r"\d+ generated, \d+ passed", summary), summary

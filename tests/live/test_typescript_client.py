"""A TypeScript client generated from the committed openapi.json (openapi-typescript, typed
calls through openapi-fetch) type-checks and drives a whole flow in Node against the live
server: register, log in, refresh, deposit with an Idempotency-Key, apply, approve, pay, and
read a Problem with its code. The generated code is produced here, never committed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support.live import LiveServer

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def _npm(*args: str, env: dict[str, str] | None = None) -> str:
    npm = shutil.which("npm")
    assert npm is not None, "Node's npm is required (tasks.py test installs Debian's nodejs)"
    done = subprocess.run(
        [npm, *args],
        cwd=CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_typescript_client_types_and_runs_a_whole_flow(live_server: LiveServer) -> None:
    _npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
    _npm("run", "--silent", "generate")
    _npm("run", "--silent", "build")  # tsc --strict: the calls are checked against the schema
    env = {
        **os.environ,
        "BANK_API_URL": live_server.url,
        "BANK_API_ADMIN_TOKEN": live_server.tokens["admin"],
    }
    seen = json.loads(_npm("run", "--silent", "flow", env=env).strip().splitlines()[-1])
    assert re.fullmatch(r"\d+\.\d{2}", seen["due"])
    assert seen == {
        "deposit": "2000.00",
        "replayed": "true",
        "reuse": "invalid_refresh_token",
        "approved": "active",
        "paid": seen["due"],
        "due": seen["due"],
        "applied": [1],
        "problem": "overpayment",
        "problemStatus": 422,
    }

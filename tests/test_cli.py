from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bank_api.cli import main
from bank_api.config import Settings
from bank_api.database import create_engine, create_sessionmaker
from bank_api.models import Role, User, UserStatus


async def _users(url: str) -> list[User]:
    engine = create_engine(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(select(User))).scalars())
    finally:
        await engine.dispose()


def test_migrate_and_create_admin_on_a_fresh_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BANK_API_DATABASE_URL", url)
    monkeypatch.setenv("BANK_API_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("BANK_API_ARGON2_MEMORY_KIB", "1024")
    assert main(["migrate"]) == 0
    assert (
        main(
            [
                "create-admin",
                "--username",
                "root.admin",
                "--email",
                "root@example.com",
                "--password",
                "a long admin password",
            ]
        )
        == 0
    )
    users = asyncio.run(_users(url))
    assert [(u.username, u.role, u.status) for u in users] == [
        ("root.admin", Role.admin, UserStatus.active)
    ]
    assert users[0].password_hash.startswith("$argon2id$")
    assert (
        main(
            [
                "create-admin",
                "--username",
                "ROOT.ADMIN",
                "--email",
                "x@example.com",
                "--password",
                "a long admin password",
            ]
        )
        == 1
    )
    assert main(["create-admin", "--username", "x", "--email", "bad", "--password", "short"]) == 2
    assert len(asyncio.run(_users(url))) == 1
    assert main(["ledger", "verify"]) == 0
    output = capsys.readouterr()
    assert "admin root.admin created" in output.out
    assert "ledger ok" in output.out
    assert "a long admin password" not in output.out + output.err


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bank_api.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "migrate", "create-admin", "ledger"):
        assert command in result.stdout

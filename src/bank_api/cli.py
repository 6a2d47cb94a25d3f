"""`bank-api serve | migrate | create-admin | ledger verify`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError

from bank_api.config import Settings, get_settings
from bank_api.database import migrations_dir
from bank_api.db_errors import database_problem
from bank_api.errors import DatabaseNotMigrated, DatabaseUnavailable


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, revision)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from bank_api.observability import MULTIPROCESS_DIR, log_config

    with contextlib.ExitStack() as stack:
        if args.workers > 1 and not os.environ.get(MULTIPROCESS_DIR):
            # The workers count into files here, so every scrape of /metrics sees the whole
            # server whichever worker answers (prometheus_client's multiprocess mode).
            os.environ[MULTIPROCESS_DIR] = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="bank-api-metrics-")
            )
        uvicorn.run(
            "bank_api.main:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            log_level=args.log_level,
            access_log=False,  # the service writes its own access lines, with the request id
            log_config=log_config(args.log_level),
        )
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.database_url)
    print("migrations applied")
    return 0


def _create_admin(args: argparse.Namespace, settings: Settings) -> int:
    from bank_api.users.schemas import Email, Password, Username

    password = args.password or getpass.getpass("Password for the new admin: ")
    try:
        username = TypeAdapter(Username).validate_python(args.username)
        email = TypeAdapter(Email).validate_python(args.email)
        password = TypeAdapter(Password).validate_python(password)
    except ValidationError as exc:
        print(f"invalid input: {exc.errors(include_input=False)}", file=sys.stderr)
        return 2
    return asyncio.run(_insert_admin(settings, username, email, password, args.full_name))


async def _insert_admin(
    settings: Settings, username: str, email: str, password: str, full_name: str
) -> int:
    from bank_api.auth.service import create_admin
    from bank_api.database import create_engine, create_sessionmaker
    from bank_api.errors import AppError
    from bank_api.security import PasswordHasher
    from bank_api.uow import UnitOfWork

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, UnitOfWork(session) as uow:
            user = await create_admin(
                uow,
                PasswordHasher(settings),
                username=username,
                email=email,
                password=password,
                full_name=full_name,
            )
    except AppError as exc:
        print(f"not created: {type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"admin {user.username} created with id {user.id}")
    return 0


def _ledger_verify(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_verify(settings))


async def _verify(settings: Settings) -> int:
    from bank_api.database import create_engine, create_sessionmaker
    from bank_api.ledger.service import verify_ledger
    from bank_api.uow import UnitOfWork

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, UnitOfWork(session) as uow:
            checks = await verify_ledger(uow)
    finally:
        await engine.dispose()
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    ok = all(check.ok for check in checks)
    print("ledger ok" if ok else "ledger has violations")
    return 0 if ok else 1


def _idempotency_purge(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_purge(settings, timedelta(hours=args.older_than_hours)))


async def _purge(settings: Settings, older_than: timedelta) -> int:
    from bank_api.database import create_engine, create_sessionmaker
    from bank_api.idempotency import purge

    engine = create_engine(settings)
    try:
        deleted = await purge(create_sessionmaker(engine), older_than)
    finally:
        await engine.dispose()
    print(f"{deleted} idempotency records older than {older_than} deleted")
    return 0


def _retention_hours(value: str) -> float:
    hours = float(value)
    if not hours >= 24:  # also refuses nan
        raise argparse.ArgumentTypeError("records are kept at least 24 hours")
    return hours


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bank-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=_serve)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=_migrate)
    admin = commands.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="prompted for when omitted")
    admin.add_argument("--full-name", default="Administrator")
    admin.set_defaults(handler=_create_admin)
    ledger = commands.add_parser("ledger", help="ledger tools")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    ledger_commands.add_parser(
        "verify", help="check every ledger invariant (exit 1 if any fails)"
    ).set_defaults(handler=_ledger_verify)
    keys = commands.add_parser("idempotency", help="Idempotency-Key records")
    keys_commands = keys.add_subparsers(dest="idempotency_command", required=True)
    purge = keys_commands.add_parser(
        "purge", help="delete the records older than a retention (at least 24 hours)"
    )
    purge.add_argument("--older-than-hours", type=_retention_hours, default=24.0)
    purge.set_defaults(handler=_idempotency_purge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; a configuration or database problem is one line on stderr, exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args, get_settings()))
    except ValidationError as error:
        problems = "; ".join(_setting_problem(e) for e in error.errors())
        return _fail(f"configuration error: {problems}")
    except (DBAPIError, OSError) as error:
        problem = database_problem(error)
        if isinstance(problem, DatabaseNotMigrated):
            return _fail("the database has no schema or an old one: run `bank-api migrate`")
        if isinstance(problem, DatabaseUnavailable):
            cause = type(getattr(error, "orig", None) or error).__name__
            return _fail(f"the database is not reachable ({cause})")
        raise


def _setting_problem(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return f"BANK_API_{where.upper()}: {message}" if where else message


def _fail(message: str) -> int:
    print(f"bank-api: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

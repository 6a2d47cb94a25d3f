from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bank_api.cli import upgrade
from bank_api.config import Settings
from bank_api.database import create_engine, create_sessionmaker
from bank_api.models import Base, LoginFailure, ThrottleScope
from tests.support.databases import scratch_database

pytestmark = pytest.mark.usefixtures("backend")


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(backend: str) -> None:
    engine = create_engine(Settings(_env_file=None, database_url=backend))  # type: ignore[call-arg]
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []


async def test_timestamps_come_back_utc_aware(backend: str) -> None:
    engine = create_engine(Settings(_env_file=None, database_url=backend))  # type: ignore[call-arg]
    sessionmaker = create_sessionmaker(engine)
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5)))
    try:
        async with sessionmaker() as session:
            session.add(LoginFailure(scope=ThrottleScope.client, key="tz-check", at=at))
            await session.commit()
        async with sessionmaker() as session:
            stored = (
                await session.execute(select(LoginFailure.at).where(LoginFailure.key == "tz-check"))
            ).scalar_one()
            await session.execute(LoginFailure.__table__.delete())
            await session.commit()
    finally:
        await engine.dispose()
    assert stored.tzinfo is UTC  # on PostgreSQL as asyncpg gives it, on SQLite tagged
    assert stored == at
    assert stored == datetime(2026, 3, 1, 7, 30, 15, 123456, tzinfo=UTC)


async def test_naive_datetimes_are_refused(backend: str) -> None:
    engine = create_engine(Settings(_env_file=None, database_url=backend))  # type: ignore[call-arg]
    try:
        async with create_sessionmaker(engine)() as session:
            session.add(
                LoginFailure(scope=ThrottleScope.client, key="naive", at=datetime(2026, 1, 1))
            )
            with pytest.raises(Exception, match="naive datetime"):
                await session.flush()
    finally:
        await engine.dispose()


def test_history_written_before_0004_is_rewritten_in_the_public_format(tmp_path: Path) -> None:
    """Old entries kept cents and basis points; after the migration they read like every
    response: two-decimal strings and `annual_rate`."""
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0003")
    old = {
        "amount": {"from": None, "to": 100000},
        "annual_rate_bp": {"from": 690, "to": 725},
        "total_payable": {"from": 1037877, "to": 5},
        "status": {"from": "new", "to": "active"},
    }
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO loan_event (id, loan_id, at, event, changes, note) VALUES "
            "(1, ?, '2026-11-30 10:00:00', 'edited', ?, NULL), "
            "(2, ?, '2026-11-30 11:00:00', 'written_off', '{}', ?)",
            (
                uuid.uuid4().hex,
                json.dumps(old),
                uuid.uuid4().hex,
                "95 days past due; 4936702 cents lost",
            ),
        )
    upgrade(url, "0004")
    with sqlite3.connect(path) as db:
        rows = dict(db.execute("SELECT id, changes FROM loan_event").fetchall())
        notes = dict(db.execute("SELECT id, note FROM loan_event").fetchall())
    assert json.loads(rows[1]) == {
        "amount": {"from": None, "to": "1000.00"},
        "annual_rate": {"from": "6.90", "to": "7.25"},
        "total_payable": {"from": "10378.77", "to": "0.05"},
        "status": {"from": "new", "to": "active"},
    }
    assert notes == {1: None, 2: "95 days past due; 49367.02 lost"}


def test_payment_history_written_before_0005_shows_money(tmp_path: Path) -> None:
    """Payment events kept the outstanding principal in cents; after 0005 it is money, and
    entries that already were are left as they are."""
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0004")
    cents = {"outstanding_principal": {"from": 100000, "to": 91523}}
    money = {"outstanding_principal": {"from": "915.23", "to": "0.00"}}
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO loan_event (id, loan_id, at, event, changes, note) VALUES "
            "(1, ?, '2026-11-30 10:00:00', 'payment', ?, 'payment x'), "
            "(2, ?, '2026-11-30 11:00:00', 'payment', ?, 'payment y')",
            (uuid.uuid4().hex, json.dumps(cents), uuid.uuid4().hex, json.dumps(money)),
        )
    upgrade(url, "0005")
    with sqlite3.connect(path) as db:
        rows = {i: json.loads(c) for i, c in db.execute("SELECT id, changes FROM loan_event")}
    assert rows == {1: {"outstanding_principal": {"from": "1000.00", "to": "915.23"}}, 2: money}


async def test_loans_disbursed_before_0006_get_their_oldest_unpaid_due_date(
    backend: str, tmp_path: Path
) -> None:
    """0006 stores each loan's oldest unpaid due date from its installments: the first one not
    fully paid (a partly paid one counts), nothing once all are paid or before a schedule. Each
    database has its own statement (PostgreSQL one grouped pass, SQLite a correlated one)."""
    url = await scratch_database(backend, tmp_path, "scratch")
    await asyncio.to_thread(upgrade, url, "0005")
    late, paid_off, new = (uuid.uuid4() for _ in range(3))
    engine = create_async_engine(url)
    try:
        async with _bare_rows(engine) as (connection, key):
            await _bare_loans(
                connection, key, [(late, "active"), (paid_off, "closed"), (new, "new")]
            )
            installments = [
                (late, 1, date(2026, 2, 1), 100, 10, 100, 10),
                (late, 2, date(2026, 3, 1), 100, 10, 0, 4),  # interest partly paid
                (late, 3, date(2026, 4, 1), 100, 10, 0, 0),
                (paid_off, 1, date(2026, 2, 1), 300, 0, 300, 0),
            ]
            await connection.execute(
                text(
                    "INSERT INTO installment (loan_id, number, due_date, principal, interest,"
                    " paid_principal, paid_interest) VALUES (:loan, :n, :due, :p, :i, :pp, :pi)"
                ),
                [
                    {"loan": key(loan), "n": n, "due": due, "p": p, "i": i, "pp": pp, "pi": pi}
                    for loan, n, due, p, i, pp, pi in installments
                ],
            )
        await asyncio.to_thread(upgrade, url, "0006")
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT status, oldest_unpaid_due FROM loan"))
            stored = {status: due for status, due in rows}
    finally:
        await engine.dispose()
    assert {k: None if v is None else str(v) for k, v in stored.items()} == {
        "active": "2026-03-01",
        "closed": None,
        "new": None,
    }


async def test_0007_queues_investors_from_their_last_loan_and_dates_every_journal_line(
    backend: str, tmp_path: Path
) -> None:
    """0007 gives each account `last_funded_at` (its newest allocation) and queues waiting money
    from the later of that and when it rose from zero; every journal line gets the UTC date it
    was written on as its value date."""
    url = await scratch_database(backend, tmp_path, "scratch")
    await asyncio.to_thread(upgrade, url, "0006")
    funded_late, funded_early, never = (uuid.uuid4() for _ in range(3))
    at = {day: datetime(2026, 3, day, 23, 30, tzinfo=UTC) for day in (1, 5, 9)}
    engine = create_async_engine(url)
    try:
        async with _bare_rows(engine) as (connection, key):
            # the accounts' users: 0007 rebuilds the table on SQLite
            await _investor_users(connection, key, [funded_late, funded_early, never], at[1])
            await connection.execute(
                text(
                    "INSERT INTO investor_account (investor_id, available, invested,"
                    " interest_earned, losses, queued_at, updated_at)"
                    " VALUES (:id, 100, 50, 0, 0, :queued, :queued)"
                ),
                [
                    {"id": key(funded_late), "queued": at[1]},
                    {"id": key(funded_early), "queued": at[9]},
                    {"id": key(never), "queued": at[5]},
                ],
            )
            await connection.execute(
                text(
                    "INSERT INTO allocation (loan_id, investor_id, amount, principal_received,"
                    " interest_received, loss, created_at) VALUES (:loan, :investor, 50, 0, 0, 0,"
                    " :at)"
                ),
                [
                    {"loan": key(uuid.uuid4()), "investor": key(funded_late), "at": at[1]},
                    {"loan": key(uuid.uuid4()), "investor": key(funded_late), "at": at[5]},
                    {"loan": key(uuid.uuid4()), "investor": key(funded_early), "at": at[5]},
                ],
            )
            await connection.execute(
                text("INSERT INTO journal_entry (id, kind, created_at) VALUES (1, 'deposit', :at)"),
                {"at": at[9]},
            )
            await connection.execute(
                text(
                    "INSERT INTO journal_line (entry_id, account_kind, owner_id, amount, purpose,"
                    " created_at) VALUES (1, 'external', NULL, -100, 'deposit', :at),"
                    " (1, 'investor_available', :owner, 100, 'deposit', :at)"
                ),
                {"at": at[9], "owner": key(never)},
            )
        await asyncio.to_thread(upgrade, url, "0007")
        async with engine.connect() as connection:
            accounts = await connection.execute(
                text("SELECT investor_id, queued_at, last_funded_at FROM investor_account")
            )
            stored = {str(row[0]).replace("-", ""): (str(row[1])[:10], row[2]) for row in accounts}
            dates = (await connection.execute(text("SELECT value_date FROM journal_line"))).all()
    finally:
        await engine.dispose()
    assert {
        k: (queued, None if last is None else str(last)[:10])
        for k, (queued, last) in stored.items()
    } == {
        funded_late.hex: ("2026-03-05", "2026-03-05"),
        funded_early.hex: ("2026-03-09", "2026-03-05"),
        never.hex: ("2026-03-05", None),
    }
    assert [str(row[0]) for row in dates] == ["2026-03-09", "2026-03-09"]


async def test_loans_disbursed_before_0008_get_the_value_date_of_their_payout(
    backend: str, tmp_path: Path
) -> None:
    url = await scratch_database(backend, tmp_path, "scratch")
    await asyncio.to_thread(upgrade, url, "0007")
    disbursed, waiting = uuid.uuid4(), uuid.uuid4()
    engine = create_async_engine(url)
    try:
        async with _bare_rows(engine) as (connection, key):
            await _bare_loans(connection, key, [(disbursed, "active"), (waiting, "new")])
            await connection.execute(
                text(
                    "INSERT INTO journal_entry (id, kind, created_at)"
                    " VALUES (7, 'disbursement', :at)"
                ),
                {"at": datetime(2026, 2, 3, tzinfo=UTC)},
            )
            await connection.execute(
                text(
                    "INSERT INTO journal_line (entry_id, account_kind, owner_id, amount, purpose,"
                    " loan_id, created_at, value_date) VALUES"
                    " (7, 'loan_receivable', :loan, -300, 'payout', :loan, :at, :day),"
                    " (7, 'external', NULL, 300, 'payout', :loan, :at, :day)"
                ),
                {
                    "loan": key(disbursed),
                    "at": datetime(2026, 2, 3, tzinfo=UTC),
                    "day": date(2026, 2, 1),
                },
            )
        await asyncio.to_thread(upgrade, url, "0008")
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT status, disbursed_on FROM loan"))
            stored = {status: None if day is None else str(day) for status, day in rows}
    finally:
        await engine.dispose()
    assert stored == {"active": "2026-02-01", "new": None}


async def test_0014_stores_each_investor_s_figures_and_each_holding_s_due_date(
    backend: str, tmp_path: Path
) -> None:
    """0014 counts each account's holdings in active loans and sums its fees over all of them,
    and gives each holding of an active loan the loan's oldest unpaid due date (none for a
    closed or written-off loan, whose own date may remain)."""
    url = await scratch_database(backend, tmp_path, "scratch")
    await asyncio.to_thread(upgrade, url, "0013")
    holder, idle = uuid.uuid4(), uuid.uuid4()
    active, closed, written_off = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 3, 1, tzinfo=UTC)
    engine = create_async_engine(url)
    try:
        async with _bare_rows(engine) as (connection, key):
            await _investor_users(connection, key, [holder, idle], at)
            await connection.execute(
                text(
                    "INSERT INTO investor_account (investor_id, available, invested,"
                    " interest_earned, losses, updated_at, auto_invest, keep_available)"
                    " VALUES (:id, 0, 0, 0, 0, :at, true, 0)"
                ),
                [{"id": key(holder), "at": at}, {"id": key(idle), "at": at}],
            )
            await _bare_loans(
                connection,
                key,
                [(active, "active"), (closed, "closed"), (written_off, "written_off")],
                fee_ppm=0,
            )
            await connection.execute(
                text("UPDATE loan SET oldest_unpaid_due = :due WHERE status <> 'closed'"),
                {"due": date(2026, 2, 1)},
            )
            await connection.execute(
                text(
                    "INSERT INTO allocation (loan_id, investor_id, amount, principal_received,"
                    " interest_received, loss, fee, created_at)"
                    " VALUES (:loan, :investor, 100, 0, 0, 0, :fee, :at)"
                ),
                [
                    {"loan": key(loan), "investor": key(holder), "fee": fee, "at": at}
                    for loan, fee in ((active, 5), (closed, 7), (written_off, 0))
                ],
            )
        await asyncio.to_thread(upgrade, url, "0014")
        async with engine.connect() as connection:
            accounts = await connection.execute(
                text("SELECT investor_id, active_allocations, fees FROM investor_account")
            )
            figures = {str(i).replace("-", ""): (n, fees) for i, n, fees in accounts}
            holdings = await connection.execute(
                text("SELECT loan_id, oldest_unpaid_due FROM allocation")
            )
            dues = {str(loan).replace("-", ""): due for loan, due in holdings}
    finally:
        await engine.dispose()
    assert figures == {holder.hex: (1, 12), idle.hex: (0, 0)}
    assert {loan: None if due is None else str(due) for loan, due in dues.items()} == {
        active.hex: "2026-02-01",
        closed.hex: None,
        written_off.hex: None,
    }


async def test_0017_leaves_the_queue_exactly_the_money_that_waits(
    backend: str, tmp_path: Path
) -> None:
    """0017 clears the queue place of an account with nothing available and gives one to an
    account whose money waits without it (from when it last funded, else its last change);
    after it the database refuses a row where the two disagree."""
    url = await scratch_database(backend, tmp_path, "scratch")
    await asyncio.to_thread(upgrade, url, "0016")
    empty, unqueued, funded, queued = (uuid.uuid4() for _ in range(4))
    at = {day: datetime(2026, 3, day, 9, tzinfo=UTC) for day in (1, 2, 3)}
    engine = create_async_engine(url)
    try:
        async with _bare_rows(engine) as (connection, key):
            await _investor_users(connection, key, [empty, unqueued, funded, queued], at[1])
            await connection.execute(
                text(
                    "INSERT INTO investor_account (investor_id, available, invested,"
                    " interest_earned, losses, active_allocations, fees, updated_at, auto_invest,"
                    " keep_available, queued_at, last_funded_at)"
                    " VALUES (:id, :available, 0, 0, 0, 0, 0, :at, true, 0, :queued, :funded)"
                ),
                [
                    {"id": key(i), "available": a, "at": at[3], "queued": q, "funded": f}
                    for i, a, q, f in (
                        (empty, 0, at[1], None),
                        (unqueued, 500, None, None),
                        (funded, 500, None, at[2]),
                        (queued, 500, at[1], at[2]),
                    )
                ],
            )
        await asyncio.to_thread(upgrade, url, "0017")
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT investor_id, queued_at FROM investor_account")
            )
            places = {str(i).replace("-", ""): q and str(q)[:10] for i, q in rows}
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE investor_account SET available = 0 WHERE queued_at IS NOT NULL")
                )
    finally:
        await engine.dispose()
    assert places == {
        empty.hex: None,
        unqueued.hex: "2026-03-03",
        funded.hex: "2026-03-02",
        queued.hex: "2026-03-01",
    }


async def test_0018_stores_no_sign_offs_as_sql_null_and_keeps_the_ones_given(
    backend: str, tmp_path: Path
) -> None:
    url = await scratch_database(backend, tmp_path, "scratch")
    await asyncio.to_thread(upgrade, url, "0017")
    json_null, signed, sql_null = (uuid.uuid4() for _ in range(3))
    sign_off = [{"admin_id": uuid.uuid4().hex, "at": "2026-01-01T09:00:00Z", "decision": "approve"}]
    engine = create_async_engine(url)
    try:
        async with _bare_rows(engine) as (connection, key):
            for loan, stored in (
                (json_null, "null"),
                (signed, json.dumps(sign_off)),
                (sql_null, None),
            ):
                await _bare_loans(
                    connection, key, [(loan, "requested")], sign_offs=stored, fee_ppm=0
                )
        await asyncio.to_thread(upgrade, url, "0018")
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, CAST(sign_offs AS TEXT) FROM loan"))
            stored_now = {str(i).replace("-", ""): s for i, s in rows}
    finally:
        await engine.dispose()
    assert stored_now[json_null.hex] is None
    assert stored_now[sql_null.hex] is None
    assert json.loads(stored_now[signed.hex]) == sign_off


@contextlib.asynccontextmanager
async def _bare_rows(engine: AsyncEngine) -> AsyncIterator[tuple[Any, Callable[[uuid.UUID], Any]]]:
    """A transaction for rows written bare (on PostgreSQL with foreign keys off, so no customer,
    product or loan rows are needed), and how this database takes a uuid."""
    async with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
        yield connection, (lambda u: u) if postgres else (lambda u: u.hex)


async def _investor_users(
    connection: Any, key: Any, investors: list[uuid.UUID], at: datetime
) -> None:
    await connection.execute(
        text(
            "INSERT INTO user_account (id, username, username_key, email, email_key,"
            " full_name, role, status, password_hash, tokens_valid_after, created_at,"
            " updated_at) VALUES (:id, :name, :name, :email, :email, 'I', 'investor',"
            " 'active', 'x', :at, :at, :at)"
        ),
        [
            {"id": key(i), "name": i.hex, "email": f"{i.hex}@example.com", "at": at}
            for i in investors
        ],
    )


async def _bare_loans(
    connection: Any, key: Any, loans: list[tuple[uuid.UUID, str]], **later: Any
) -> None:
    """Loan rows with only the columns every revision has, and the `later` ones given (no
    customer or product rows: the caller switches foreign keys off on PostgreSQL)."""
    names = "".join(f", {name}" for name in later)
    values = "".join(f", :{name}" for name in later)
    insert = text(
        "INSERT INTO loan (id, customer_id, loan_type, amount, term_months,"  # noqa: S608 - our names
        " annual_rate_bp, schedule_type, monthly_payment, total_interest,"
        f" total_payable, status, outstanding_principal, created_at, updated_at{names})"
        " VALUES (:id, :customer, 'personal_loan', 300, 3, 0, 'annuity', 100, 0,"
        f" 300, :status, 0, :now, :now{values})"
    )
    for loan_id, status in loans:
        await connection.execute(
            insert,
            {
                "id": key(loan_id),
                "customer": key(uuid.uuid4()),
                "status": status,
                "now": datetime(2026, 1, 1, tzinfo=UTC),
                **later,
            },
        )

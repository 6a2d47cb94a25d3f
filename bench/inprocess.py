"""What one request costs the service itself: the app called in process, without a server.

The harness measures the service under load on a machine it shares with PostgreSQL and the
load generator, where two runs of the same code differ by 10 to 15 %: too coarse to see a
change worth 5 %. This script calls the ASGI app directly (no HTTP parsing, no socket to a
client), one request at a time, after a warm-up, and reports either the CPU time per request
with PostgreSQL's CPU per request beside it (its processes read from `/proc`), or, with
`--instructions`, the instructions per request counted by valgrind's callgrind over the
measured requests only (start-up and warm-up run uninstrumented). Instruction counts
repeat to about one in ten thousand between runs of the same code, so two versions can be
compared in minutes (docs/DECISIONS.md, "Request cost"; bench/README.md for figures).

    .venv/bin/python bench/inprocess.py setup             # recreate its database, once
    .venv/bin/python bench/inprocess.py run portfolio 2000  # CPU ms per request
    .venv/bin/python bench/inprocess.py run portfolio 300 --instructions
    PYTHONPATH=../other/src .venv/bin/python bench/inprocess.py run me 300 --instructions

Requests: `health` (the last router's first route, no dependency), `me`, `loans` (a
customer's 20 loans), `portfolio`, `schedule` (of a loan of 12 installments, by its borrower),
`apply` (by a customer of its own, so the loans page does not grow) and
`deposit` (with a new Idempotency-Key each), `approve` and `pay` (each a loan of 12,000.00
funded by about 45 of 60 investors, as in the bench; `setup` prepares 150 of each, and every
run uses up its own). The database is PostgreSQL's
`bank_api_inprocess` (`--pg`), the settings those of production with the JSON access log on
(written to /dev/null).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging.config
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from spread import recreate  # bench/, this script's folder

STATE = Path(tempfile.gettempdir()) / "bank_api_inprocess.json"  # the tokens `setup` made
PASSWORD = "correct horse battery"  # noqa: S105 - users of a throwaway database
INSTRUMENTED = "BENCH_INPROCESS_CALLGRIND"  # set in the process valgrind runs

Call = Callable[..., Awaitable[tuple[int, bytes]]]


def configure(pg: str, db: str) -> None:
    os.environ.setdefault(
        "BANK_API_DATABASE_URL", f"{pg.replace('postgresql', 'postgresql+asyncpg', 1)}/{db}"
    )
    os.environ.setdefault("BANK_API_ENVIRONMENT", "production")
    os.environ.setdefault("BANK_API_JWT_SECRET", "Qm7vX2pL9rT4wZ8nB3kF6hJ1sD5gY0cV-inprocess")
    os.environ.setdefault("BANK_API_MIN_TICKET", "250.00")
    os.environ.setdefault("BANK_API_ADMIN_USERNAME", "inprocess_admin")
    os.environ.setdefault("BANK_API_ADMIN_EMAIL", "inprocess_admin@example.com")
    os.environ.setdefault("BANK_API_ADMIN_PASSWORD", PASSWORD)


def asgi_caller(app: Any) -> Call:
    async def call(
        method: str,
        path: str,
        token: str | None = None,
        body: bytes = b"",
        content_type: bytes = b"application/json",
        query: bytes = b"",
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> tuple[int, bytes]:
        sent: list[bytes] = []
        status = 0
        fields = [(b"host", b"bench"), *headers]
        if token:
            fields.append((b"authorization", b"Bearer " + token.encode()))
        if body:
            fields += [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": fields,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent.append(message.get("body", b""))

        await app(scope, receive, send)
        return status, b"".join(sent)

    return call


def log_as_served() -> None:
    """The JSON access line, as `bank-api serve` logs it, written to nowhere."""
    from bank_api.observability import log_config

    logging.config.dictConfig(log_config("info"))
    for handler in logging.getLogger("bank_api").handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the life of the process


async def with_app(work: Callable[[Call], Awaitable[None]]) -> None:
    from bank_api.main import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        await work(asgi_caller(app))


async def login(call: Call, name: str) -> str:
    form = f"username={name}&password={PASSWORD.replace(' ', '+')}".encode()
    status, body = await call(
        "POST", "/api/v1/auth/token", body=form, content_type=b"application/x-www-form-urlencoded"
    )
    assert status == 200, body
    token: str = json.loads(body)["access_token"]
    return token


async def user(call: Call, role: str, admin: str = "") -> str:
    name = f"{role}{uuid.uuid4().hex[:10]}"
    registered = {"username": name, "password": PASSWORD, "email": f"{name}@example.com"}
    status, body = await call(
        "POST",
        "/api/v1/auth/register",
        body=json.dumps({**registered, "full_name": "In Process", "role": role}).encode(),
    )
    assert status == 201, body
    if role == "agent":
        user_id = json.loads(body)["id"]
        status, body = await call("POST", f"/api/v1/admin/agents/{user_id}/approve", admin)
        assert status == 200, body
    return await login(call, name)


async def checked(call: Call, *args: Any, **kwargs: Any) -> dict[str, Any]:
    status, body = await call(*args, **kwargs)
    assert status < 300, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def keyed() -> tuple[tuple[bytes, bytes], ...]:
    return ((b"idempotency-key", uuid.uuid4().hex.encode()),)


APPLICATION = json.dumps(
    {"loan_type": "personal_loan", "amount": "5000.00", "term_months": 12}
).encode()


# Approvals and payments: loans of 12,000.00 over a queue of 60 investors, so with the
# minimum ticket of 250.00 each approval is funded by about 45 of them (the bench's fan-out).
WRITES = 150  # loans waiting for approval, and approved loans waiting for a first payment
FUNDERS = 60
BIG = json.dumps({"loan_type": "personal_loan", "amount": "12000.00", "term_months": 12}).encode()


async def setup(call: Call) -> None:
    admin = await login(call, os.environ["BANK_API_ADMIN_USERNAME"])
    state: dict[str, Any] = {role: await user(call, role) for role in ("customer", "investor")}
    state |= {"applicant": await user(call, "customer"), "admin": admin}
    for _ in range(20):
        await checked(call, "POST", "/api/v1/loans", state["customer"], APPLICATION)
    agent, borrower = await user(call, "agent", admin), await user(call, "customer")
    for _ in range(FUNDERS):
        funder = await user(call, "investor")
        deposit = json.dumps({"amount": "100000.00"}).encode()
        await checked(
            call, "POST", "/api/v1/investments/deposits", funder, deposit, headers=keyed()
        )
    requested = []
    for _ in range(2 * WRITES):
        loan = await checked(call, "POST", "/api/v1/loans", borrower, BIG)
        await checked(call, "POST", f"/api/v1/loans/{loan['id']}/request", agent)
        requested.append(loan["id"])
    payable = []
    for loan_id in requested[WRITES:]:
        loan = await checked(
            call, "POST", f"/api/v1/loans/{loan_id}/approve", admin, headers=keyed()
        )
        payable.append([loan_id, loan["monthly_payment"]])
    state |= {"borrower": borrower, "approvable": requested[:WRITES], "payable": payable}
    state["scheduled"] = payable[0][0]  # the schedule read: the last loan `pay` would use
    STATE.write_text(json.dumps(state))


def request_of(kind: str, tokens: dict[str, Any]) -> Callable[[Call], Awaitable[tuple[int, bytes]]]:
    """The request to repeat; an approval or a payment takes the next loan set aside for it
    (each loan is approved, or paid its first installment, once: `setup` again for more)."""

    def fixed(*args: Any, **kwargs: Any) -> Callable[[Call], Awaitable[tuple[int, bytes]]]:
        return lambda call: call(*args, **kwargs)

    if kind == "approve":
        return lambda call: call(
            "POST",
            f"/api/v1/loans/{tokens['approvable'].pop()}/approve",
            tokens["admin"],
            headers=keyed(),
        )
    if kind == "pay":

        def pay(call: Call) -> Awaitable[tuple[int, bytes]]:
            loan_id, amount = tokens["payable"].pop()
            body = json.dumps({"amount": amount}).encode()
            return call(
                "POST",
                f"/api/v1/loans/{loan_id}/payments",
                tokens["borrower"],
                body,
                headers=keyed(),
            )

        return pay
    if kind == "deposit":
        deposit = json.dumps({"amount": "10.00"}).encode()
        return lambda call: call(
            "POST",
            "/api/v1/investments/deposits",
            tokens["investor"],
            deposit,
            headers=keyed(),
        )
    return {
        "health": fixed("GET", "/healthz"),
        "me": fixed("GET", "/api/v1/users/me", tokens["customer"]),
        "loans": fixed("GET", "/api/v1/loans", tokens["customer"], query=b"limit=20"),
        "portfolio": fixed("GET", "/api/v1/investments/portfolio", tokens["investor"]),
        "schedule": fixed(
            "GET", f"/api/v1/loans/{tokens['scheduled']}/schedule", tokens["borrower"]
        ),
        "apply": fixed("POST", "/api/v1/loans", tokens["applicant"], APPLICATION),
    }[kind]


async def measure(call: Call, kind: str, count: int, warmup: int) -> None:
    state = json.loads(STATE.read_text())
    if kind in ("approve", "pay"):
        left = len(state["approvable" if kind == "approve" else "payable"])
        if left < count + warmup:
            raise SystemExit(f"{left} loans left for {kind}: run `setup` again")
    one = request_of(kind, state)
    for _ in range(warmup):
        status, body = await one(call)
        assert status < 300, body
    answered: list[int] = []
    instrumented = os.environ.get(INSTRUMENTED)
    if instrumented:
        # Blocking on purpose: nothing else runs, and the measured requests have not started.
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True)  # noqa: ASYNC221
    started, clock, database = os.times(), time.perf_counter(), postgres_cpu()
    for _ in range(count):
        answered.append((await one(call))[0])
    ended, elapsed = os.times(), time.perf_counter() - clock
    database_ms = 1000 * (postgres_cpu() - database) / count
    if refused := [status for status in answered if status >= 300]:  # not counted as served
        raise SystemExit(f"{len(refused)} of {count} {kind} requests failed: {set(refused)}")
    STATE.write_text(json.dumps(state))  # the loans this run approved or paid are used up
    if instrumented:
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True)  # noqa: ASYNC221
        return
    user_ms = 1000 * (ended.user - started.user) / count
    system_ms = 1000 * (ended.system - started.system) / count
    service_ms = user_ms + system_ms
    print(
        f"{kind}: {count} requests, CPU {service_ms:.3f} ms each "
        f"(user {user_ms:.3f}, system {system_ms:.3f}), wall {1000 * elapsed / count:.3f} ms; "
        f"PostgreSQL {database_ms:.3f} ms each, {database_ms / service_ms:.2f} of the service's"
    )


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process on this machine so far (read from /proc; the
    local cluster's backends, this script's among them). On a machine where nothing else uses
    the cluster, the difference over a run is the database's CPU for its requests; its ratio
    to the service's own CPU is steadier than either, as both move with the host's speed."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        if name.startswith("postgres"):
            utime, stime = fields.split()[11:13]
            total += int(utime) + int(stime)
    return total / ticks


def instructions(kind: str, count: int, warmup: int) -> None:
    """Run `run` under callgrind, instrumented only while the measured requests run."""
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed for --instructions (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        argv = [sys.executable, __file__, *sys.argv[1:]]
        argv.remove("--instructions")
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                *argv,
            ],
            env={**os.environ, INSTRUMENTED: "1", "PYTHONHASHSEED": "0"},
            check=True,
            capture_output=True,
        )
        totals = next(line for line in out.read_text().splitlines() if line.startswith("totals:"))
    print(
        f"{kind}: {int(totals.split()[1]) / count:,.0f} instructions per request ({count} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bank_api_inprocess")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="recreate the database, migrate, make the users")
    run = commands.add_parser("run", help="measure one kind of request")
    run.add_argument(
        "kind",
        choices=(
            "health",
            "me",
            "loans",
            "portfolio",
            "schedule",
            "apply",
            "deposit",
            "approve",
            "pay",
        ),
    )
    run.add_argument("count", type=int)
    run.add_argument("--warmup", type=int, default=50)
    run.add_argument("--instructions", action="store_true", help="count them with callgrind")
    args = parser.parse_args()
    configure(args.pg, args.db)
    log_as_served()
    if args.command == "setup":
        asyncio.run(recreate(args.pg, args.db))
        bank_api = Path(sys.executable).parent / "bank-api"
        subprocess.run([bank_api, "migrate"], check=True)
        asyncio.run(with_app(setup))
    elif args.instructions:
        instructions(args.kind, args.count, args.warmup)
    else:
        asyncio.run(with_app(lambda call: measure(call, args.kind, args.count, args.warmup)))


if __name__ == "__main__":
    main()

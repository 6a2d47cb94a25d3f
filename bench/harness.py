"""The benchmark harness: one command from a fresh database to a report.

    python3 tasks.py bench [--duration 20] [--levels 8,32,64] [--workers 2] [--scale 1.0]

1. creates a fresh PostgreSQL database, migrates it and seeds the population (bench/seed.py);
2. runs pgbench's built-in TPC-B in its own database, as the machine's reference;
3. runs the database ceiling of each money write (bench/ceiling.py: pgbench calling one SQL
   function per operation) at the same levels, in a copy of the seeded database;
4. starts `bank-api serve --workers N` and, for each scenario and concurrency level, runs
   locust headless in its own process (bench/locustfile.py);
5. after every write run, `bank-api ledger verify` must pass and the run must have no errors;
6. profiles the slowest write path with py-spy and says where its CPU time goes, and measures
   the event loop's largest stall during a login burst in process (bench/loop_lag.py);
7. writes bench/results/latest.{json,md} (and updates bench/README.md with --update-readme).

Exit status 1 when any run had an error or the ledger failed to verify; the report is written
either way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))

import ceiling  # noqa: E402
import scaling  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import spread  # noqa: E402
from profile_summary import summarise  # noqa: E402
from report import render_markdown, update_readme  # noqa: E402
from seed import PRODUCTS, QUICK_POPULATION, Population, Seeder  # noqa: E402
from targets import FAN_OUT, build_targets, fan_out, population_stats  # noqa: E402

import topology  # noqa: E402
from bank_api.config import Settings  # noqa: E402
from bank_api.security import TokenService  # noqa: E402

WRITES = ("deposits", "withdrawals", "applications", "approvals", "payments", "mixed")
SCENARIOS = (
    "reads",
    "deposits",
    "withdrawals",
    "applications",
    "approvals",
    "payments",
    "mixed",
    "login",
)
# Small requests measured beside bench/minimal.py at 32 clients (issue 15's API / minimal).
SMALL = ("me", "own-loans", "applications", "portfolio")
# --quick: the full population's investors (so the same fan-out per loan) with fewer loans,
# short runs, the reads and the write scenarios: the same shape in a few minutes.
QUICK = {
    "duration": 5.0,
    "warmup": 2.0,
    "scenarios": "reads,deposits,withdrawals,applications,approvals,payments,mixed",
    "no_profile": True,
    "no_scaling": True,
}
# Connections per worker: the pool is the server's admission control. With one per client,
# every in-flight request holds a transaction, and a transaction holding the most contended
# rows (the investors at the head of the queue) waits for its worker's event loop between
# round trips while the other transactions queue behind its locks; with a few per worker the
# rest wait for a connection, holding nothing. Measured in bench/README.md. (The reads outside
# a transaction have a pool of the same size of their own: docs/DECISIONS.md.)
POOL_PER_WORKER = 4
# The tables the money writes and logins update in place. The shared cluster runs with
# autovacuum off (a CI setting), so without a VACUUM between runs every balance update of every
# run before stays behind as a dead row version: investor_account, 2,000 rows, held a million
# after a full run, and PostgreSQL's CPU per write grew run after run (bench/README.md). A live
# system's autovacuum keeps them small; the harness vacuums them before each measured run.
UPDATED_TABLES = (
    "investor_account",
    "loan",
    "allocation",
    "installment",
    "user_account",
    "login_failure",
    "refresh_token",
)
# Answers the API is right to give under load: the pool cannot fund one more loan, or every
# hashing thread stayed busy past BANK_API_HASH_WAIT_MS (a login told to come back).
REFUSALS = frozenset({"allocation_not_possible", "insufficient_funds", "hashing_busy"})


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL")
    ap.add_argument("--db", default="bank_api_bench", help="database to (re)create")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    ap.add_argument("--levels", default="8,32,64", help="concurrency levels")
    ap.add_argument("--duration", type=float, default=20, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=3, help="unmeasured seconds per run")
    ap.add_argument("--scale", type=float, default=1.0, help="population size factor")
    ap.add_argument("--min-ticket", default="250.00", help="BANK_API_MIN_TICKET for the run")
    ap.add_argument("--login-users", type=int, default=8, help="concurrent logins in the burst")
    ap.add_argument(
        "--scenarios", default="", help="comma-separated (default: all; --quick: its own)"
    )
    ap.add_argument("--port", type=int, default=8931)
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument(
        "--profile", default="", help="scenario to profile (default: the slowest write at 32)"
    )
    ap.add_argument("--reuse", action="store_true", help="keep the database (no reseed)")
    ap.add_argument(
        "--topology",
        type=int,
        default=0,
        help="N instances behind HAProxy over PgBouncer (0: one server, direct)",
    )
    ap.add_argument("--no-pgbench", action="store_true")
    ap.add_argument("--no-small", action="store_true", help="skip the minimal-app comparison")
    ap.add_argument(
        "--no-scaling",
        action="store_true",
        help="skip the latencies at 10,000 and 100,000 loans (bench/scaling.py)",
    )
    ap.add_argument(
        "--scaling", action="store_true", help="measure them even with --quick (about 3 minutes)"
    )
    ap.add_argument(
        "--pool-size",
        type=int,
        default=POOL_PER_WORKER,
        help=f"BANK_API_DB_POOL_SIZE per worker (default {POOL_PER_WORKER})",
    )
    ap.add_argument("--update-readme", action="store_true", help="write figures into README")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="2,000 investors, 1,200 loans, 5 s runs, reads and writes (about 8 minutes)",
    )
    args = ap.parse_args(argv)
    chosen = args.scenarios
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    if args.scaling:
        args.no_scaling = False
    if args.profile:  # asked for by name: profiled even in quick mode
        args.no_profile = False
    args.scenarios = chosen or args.scenarios or ",".join(SCENARIOS)
    return args


class Harness:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.levels = [int(level) for level in args.levels.split(",")]
        self.url = f"{args.pg}/{args.db}"
        self.secret = secrets.token_urlsafe(48)
        self.work = args.out / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "BANK_API_DATABASE_URL": self.url.replace("postgresql://", "postgresql+asyncpg://"),
            "BANK_API_ENVIRONMENT": "production",
            "BANK_API_JWT_SECRET": self.secret,
            "BANK_API_ACCESS_TOKEN_MINUTES": "720",
            "BANK_API_MIN_TICKET": args.min_ticket,
            "BANK_API_LOGIN_MAX_FAILURES": "1000000",
            "BANK_API_LOGIN_MAX_FAILURES_PER_CLIENT": "1000000",
            # A fixed pool, no overflow: requests beyond it wait for a connection (see
            # POOL_PER_WORKER) instead of opening and closing one of their own.
            "BANK_API_DB_POOL_SIZE": str(args.pool_size),
            # Requests queue for a connection when the pool is smaller than the clients.
            "BANK_API_DB_POOL_TIMEOUT_SECONDS": "60",
            "BANK_API_DB_MAX_OVERFLOW": "0",
        }
        self.settings = Settings(
            database_url=self.env["BANK_API_DATABASE_URL"],
            environment="production",
            jwt_secret=self.secret,
            access_token_minutes=720,
            min_ticket=args.min_ticket,
            allow_business_date_override=True,  # the seeder funds loans in past months
        )
        self.report: dict[str, Any] = {"runs": [], "problems": []}
        self.server: subprocess.Popen[bytes] | None = None

    # -- setup --------------------------------------------------------------------------------

    async def recreate(self, name: str, template: str | None = None) -> None:
        conn = await asyncpg.connect(f"{self.args.pg}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            copy = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{copy}')
        finally:
            await conn.close()

    def prepare(self) -> None:
        began = time.perf_counter()
        asyncio.run(self.recreate(self.args.db))
        subprocess.run([BIN / "bank-api", "migrate"], env=self.env, check=True)
        population = QUICK_POPULATION if self.args.quick else Population()
        seeder = Seeder(self.settings, population.scaled(self.args.scale), seed=20261123)
        asyncio.run(seeder.run())
        self.report["seed"] = {
            "seconds": round(time.perf_counter() - began, 1),
            "steps_s": seeder.timings,
        }
        self.settle()

    def settle(self) -> None:
        """Bring the database to a steady state (fresh planner statistics, visibility map)
        as autovacuum would on a live system, then verify and describe it."""
        asyncio.run(self.vacuum())
        self.report.setdefault("seed", {}).update(
            asyncio.run(population_stats(self.args.pg, self.args.db))
        )
        self.report["seed"]["spread"] = asyncio.run(spread.measure(self.args.pg, self.args.db))
        self.verify("seed")
        log(f"population: {json.dumps(self.report['seed'])}")

    async def vacuum(self, dsn: str | None = None, tables: tuple[str, ...] = ()) -> None:
        """VACUUM ANALYZE the database (`dsn`, by default the seeded one), or only `tables`."""
        conn = await asyncpg.connect(dsn or self.url)
        try:
            await conn.execute(f"VACUUM ANALYZE {', '.join(tables)}")
        finally:
            await conn.close()

    def verify(self, after: str) -> bool:
        done = subprocess.run(
            [BIN / "bank-api", "ledger", "verify"], env=self.env, capture_output=True, text=True
        )
        ok = done.returncode == 0
        if not ok:
            self.report["problems"].append(f"ledger verify failed after {after}: {done.stdout}")
        log(f"ledger verify after {after}: {'ok' if ok else 'FAILED'}")
        return ok

    def pgbench(self) -> None:
        name = f"{self.args.db}_pgbench"
        asyncio.run(self.recreate(name))
        dsn = f"{self.args.pg}/{name}"
        subprocess.run(["pgbench", "-i", "-q", "-s", "20", dsn], check=True, capture_output=True)
        figures = {}
        for clients in self.levels:
            done = subprocess.run(
                ["pgbench", "-c", str(clients), "-j", "2", "-T", str(int(self.args.duration)), dsn],
                check=True,
                capture_output=True,
                text=True,
            )
            tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
            figures[str(clients)] = float(tps.group(1)) if tps else None
        self.report["pgbench_tpcb"] = {"scale": 20, "tps": figures}
        asyncio.run(self.drop(name))
        log(f"pgbench TPC-B tps: {figures}")

    async def drop(self, name: str) -> None:
        conn = await asyncpg.connect(f"{self.args.pg}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    # -- server -------------------------------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[None]:
        try:  # a server that never became ready is stopped too, not left holding the port
            self.start()
            yield
        finally:
            self.stop()

    def start(self) -> None:
        if self.args.topology:
            self.start_topology()
            return
        with socket.socket() as probe:  # a server left by another run would answer for ours
            if probe.connect_ex(("127.0.0.1", self.args.port)) == 0:
                raise SystemExit(f"port {self.args.port} is in use: stop what listens there")
        self.server_log = (self.work / "server.log").open("ab")
        self.server = subprocess.Popen(
            [
                BIN / "bank-api",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.args.port),
                "--workers",
                str(self.args.workers),
            ],
            env=self.env,
            stdout=self.server_log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def start_topology(self) -> None:
        """`--topology N`: N instances (each `--workers`) behind HAProxy over PgBouncer in
        transaction mode, on the seeded database (tools/topology.py)."""
        settings = {
            key.removeprefix("BANK_API_").lower(): value
            for key, value in self.env.items()
            if key.startswith("BANK_API_") and key != "BANK_API_DATABASE_URL"
        }
        self.topology = topology.up(
            self.work / "topology",
            instances=self.args.topology,
            database=self.args.db,
            workers=self.args.workers,
            existing=True,
            **settings,
        )

    def stop(self) -> None:
        if self.args.topology:
            topology.down(self.work / "topology")
            return
        if self.server is not None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=30)
            self.server_log.close()
            self.server = None

    def wait_ready(self, base: str | None = None) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base or self.base}/readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("the server did not become ready")

    @property
    def base(self) -> str:
        if self.args.topology:
            return self.topology.url
        return f"http://127.0.0.1:{self.args.port}"

    def worker_pids(self) -> list[int]:
        assert self.server is not None
        # uvicorn's multiprocess supervisor -> workers (also skip its resource tracker)
        return [
            pid
            for pid in children(self.server.pid)
            if "multiprocessing.resource_tracker" not in cmdline(pid)
        ]

    # -- runs ---------------------------------------------------------------------------------

    def targets(self) -> Path:
        path = self.work / "targets.json"
        data = asyncio.run(build_targets(self.args.pg, self.args.db, self.settings))
        data["products"] = [
            [code, share, low, high, short, long]
            for code, share, (low, high), (short, long) in PRODUCTS
        ]
        path.write_text(json.dumps(data))
        return path

    # -- small requests beside the minimal app -----------------------------------------------

    def small(self) -> None:
        """Each small request at 32 clients against bank-api and then against the minimal
        FastAPI app (bench/minimal.py: the same statements through asyncpg, same workers and
        pool), so the report can show bank-api / minimal per request."""
        for scenario in SMALL:
            self.record("small-api", scenario, 32, self.locust(scenario, 32))
        with self.minimal_serving():
            for scenario in SMALL:
                result = self.locust(scenario, 32, host=self.minimal_base)
                if not result.get("total", {}).get("requests"):
                    result["errors"] = (result.get("errors") or 0) + 1
                    result.setdefault("error_samples", []).append("no request answered")
                self.record("minimal", scenario, 32, result)

    @property
    def minimal_base(self) -> str:
        return f"http://127.0.0.1:{self.args.port + 1}"

    @contextmanager
    def minimal_serving(self) -> Iterator[None]:
        log_file = (self.work / "minimal.log").open("ab")
        env = {**self.env, "BENCH_DATABASE_URL": self.url, "BENCH_JWT_SECRET": self.secret}
        server = subprocess.Popen(
            [
                BIN / "uvicorn",
                "--app-dir",
                str(HERE),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.args.port + 1),
                "--workers",
                str(self.args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
                "minimal:app",
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"{self.minimal_base}/api/v1/users/me", timeout=2)  # noqa: S310
                except urllib.error.HTTPError:
                    break  # answering (401 without a token)
                except OSError:
                    time.sleep(0.3)
            yield
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log_file.close()

    def locust(self, scenario: str, users: int, host: str | None = None) -> dict[str, Any]:
        asyncio.run(self.vacuum(tables=UPDATED_TABLES))  # as autovacuum would, between runs
        out = self.work / f"{scenario}-{users}.json"
        out.unlink(missing_ok=True)
        env = {
            **self.env,
            "BENCH_SCENARIO": scenario,
            "BENCH_TARGETS": str(self.targets()),
            "BENCH_OUT": str(out),
            "BENCH_WARMUP": str(self.args.warmup),
            "BENCH_LOGIN_USERS": str(self.args.login_users),
        }
        seconds = int(self.args.warmup + self.args.duration)
        started = datetime.now(UTC)
        load = subprocess.Popen(
            [
                BIN / "locust",
                "-f",
                HERE / "locustfile.py",
                "--headless",
                "--only-summary",
                "--loglevel",
                "ERROR",
                "-u",
                str(users),
                "-r",
                str(users),
                "-t",
                f"{seconds}s",
                "--stop-timeout",
                "10",
                "--host",
                host or self.base,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(self.args.warmup)
        before = self.cpu(load.pid)
        time.sleep(self.args.duration)
        after = self.cpu(load.pid)
        load.wait()
        if not out.exists():
            return {"errors": 1, "error_samples": ["locust wrote no result"], "total": {}}
        result: dict[str, Any] = json.loads(out.read_text())
        # the requests answered in the measured window (shorter when the loans ran out)
        answered = result.get("total", {}).get("requests") or 0
        result["cpu"] = cpu_per_request(before, after, answered)
        if scenario in FAN_OUT:
            result["fan_out"] = asyncio.run(fan_out(self.url, scenario, started, datetime.now(UTC)))
        return result

    def cpu(self, load: int) -> dict[str, float]:
        """CPU seconds so far of the service (every process this harness started but the load
        generator: the server and its workers, or the minimal app, or the topology's instances,
        PgBouncer and HAProxy), of PostgreSQL, of the load generator, and of the whole machine
        (busy and in all)."""
        generator = [load, *descendants(load)]
        service = [pid for pid in descendants(os.getpid()) if pid not in generator]
        return {
            "api": process_seconds(service),
            "postgres": process_seconds(postgres_pids()),
            "locust": process_seconds(generator),
            **machine_seconds(),
        }

    def ceiling(self) -> None:
        """Each money write's database ceiling at every level, in a copy of the seeded database
        (the server is not running yet, so nothing else is connected to the original)."""
        name = f"{self.args.db}_ceiling"
        asyncio.run(self.recreate(name, template=self.args.db))
        dsn = f"{self.args.pg}/{name}"
        try:
            counts = ceiling.install(dsn)
            for scenario in ceiling.SCENARIOS:
                if scenario not in self.args.scenarios.split(","):
                    continue
                for level in self.levels:
                    asyncio.run(self.vacuum(dsn, UPDATED_TABLES))
                    started = datetime.now(UTC)
                    result = ceiling.run(
                        dsn,
                        scenario,
                        level,
                        self.args.duration,
                        self.settings.min_ticket_cents,
                        counts,
                    )
                    if scenario in FAN_OUT:
                        ended = datetime.now(UTC)
                        result["fan_out"] = asyncio.run(fan_out(dsn, scenario, started, ended))
                    self.record("ceiling", scenario, level, result)
        finally:
            asyncio.run(self.drop(name))

    def scaling_latencies(self) -> None:
        """Latencies as the book grows to 10,000 and 100,000 loans and beside an investor with
        5,000 holdings (bench/scaling.py), in a copy of the seeded database, one worker."""
        name = f"{self.args.db}_scaling"
        asyncio.run(self.recreate(name, template=self.args.db))
        dsn = f"{self.args.pg}/{name}"
        port = self.args.port + 2
        env = {**self.env, "BANK_API_DATABASE_URL": self.env["BANK_API_DATABASE_URL"] + "_scaling"}

        @contextmanager
        def serving() -> Iterator[None]:
            log_file = (self.work / "scaling.log").open("ab")
            server = subprocess.Popen(
                [BIN / "bank-api", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
            try:
                self.wait_ready(f"http://127.0.0.1:{port}")
                yield
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
                log_file.close()

        def token_for(user_id: Any) -> str:
            return asyncio.run(self.token_for(dsn, user_id))

        try:
            self.report["scaling"] = scaling.measure(dsn, port, token_for, serving)
            log(f"scaling: {json.dumps(self.report['scaling'])}")
        finally:
            asyncio.run(self.drop(name))

    async def token_for(self, dsn: str, user_id: Any) -> str:
        conn = await asyncpg.connect(dsn)
        try:
            row = await conn.fetchrow(
                "SELECT role, tokens_valid_after FROM user_account WHERE id = $1", user_id
            )
        finally:
            await conn.close()
        tokens = TokenService(self.settings)
        return tokens.issue(user_id, row["role"], row["tokens_valid_after"]).access_token

    def record(self, kind: str, scenario: str, concurrency: int, result: dict[str, Any]) -> None:
        write = kind == "api" and scenario in WRITES
        verified = self.verify(f"{kind} {scenario} at {concurrency}") if write else None
        # Only running out of pool money is a refusal the scenarios may meet; any other 4xx
        # (a conflict, an overpayment, a lost loan) is an error of the run.
        unexpected = {
            code: n for code, n in (result.get("refusals") or {}).items() if code not in REFUSALS
        }
        if unexpected:
            result["errors"] = (result.get("errors") or 0) + sum(unexpected.values())
            result.setdefault("error_samples", []).append(f"unexpected refusals: {unexpected}")
        if result.get("errors"):
            self.report["problems"].append(
                f"{kind} {scenario} at {concurrency}: {result['errors']} errors: "
                f"{result.get('error_samples', [])[:1]}"
            )
        self.report["runs"].append(
            {
                "kind": kind,
                "scenario": scenario,
                "concurrency": concurrency,
                "ledger_ok": verified,
                **result,
            }
        )
        total = result.get("total", result)
        log(
            f"{kind:8} {scenario:13} c={concurrency:<3} rps={total.get('rps')} "
            f"p50={total.get('p50_ms')} p99={total.get('p99_ms')} errors={result.get('errors')} "
            f"refusals={result.get('refusals')} cpu_ms={result.get('cpu')}"
        )

    def scenarios(self) -> None:
        chosen = self.args.scenarios.split(",")
        for scenario in chosen:
            for level in self.levels:
                if scenario == "login":
                    self.login(level)
                    continue
                self.record("api", scenario, level, self.locust(scenario, level))

    def login(self, readers: int) -> None:
        alone = self.locust("login-baseline", readers)
        alone["scenario"] = "login"
        self.record("reads-alone", "login", readers, alone)
        burst = self.locust("login", readers + self.args.login_users)
        self.record("api", "login", readers, burst)
        with outside_load(os.cpu_count() or 1):
            loaded = self.locust("login", readers + self.args.login_users)
        self.record("outside-load", "login", readers, loaded)

    def loop_lag(self) -> None:
        """The event loop's largest stall during a login burst, in process (bench/loop_lag.py)."""
        done = subprocess.run(
            [sys.executable, HERE / "loop_lag.py", "--json", "--logins", "20", "--rounds", "5"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            self.report["problems"].append(f"loop lag: {done.stderr.strip()[-300:]}")
            return
        self.report["loop_lag"] = json.loads(done.stdout)

    # -- profile ------------------------------------------------------------------------------

    def profile(self) -> None:
        """py-spy on every worker while the slowest write scenario runs at 32 clients."""
        writes = [
            r
            for r in self.report["runs"]
            if r["kind"] == "api" and r["scenario"] in ceiling.SCENARIOS and r["concurrency"] == 32
        ]
        if (not writes and not self.args.profile) or shutil.which(str(BIN / "py-spy")) is None:
            return
        slowest = (
            self.args.profile or min(writes, key=lambda r: r["total"].get("rps") or 0)["scenario"]
        )
        seconds = int(self.args.warmup + self.args.duration)
        spies = []
        for pid in self.worker_pids():
            raw = self.work / f"profile-{slowest}-{pid}.txt"
            spies.append(
                (
                    raw,
                    subprocess.Popen(
                        [
                            BIN / "py-spy",
                            "record",
                            "--pid",
                            str(pid),
                            "--duration",
                            str(seconds),
                            "--rate",
                            "200",
                            "--format",
                            "raw",
                            "--output",
                            str(raw),
                            "--nonblocking",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    ),
                )
            )
        result = self.locust(slowest, 32)
        for _, spy in spies:
            spy.wait(timeout=120)
        self.verify(f"profiled {slowest}")
        self.report["profile"] = {
            "scenario": slowest,
            "concurrency": 32,
            "rps_while_profiled": result.get("total", {}).get("rps"),
            **summarise([raw for raw, _ in spies if raw.exists()]),
        }

    # -- all ----------------------------------------------------------------------------------

    def run(self) -> int:
        self.report["machine"] = machine()
        self.report["settings"] = {
            "workers": self.args.workers,
            "levels": self.levels,
            "duration_s": self.args.duration,
            "warmup_s": self.args.warmup,
            "min_ticket": self.args.min_ticket,
            "login_users": self.args.login_users,
            "scale": self.args.scale,
            "quick": self.args.quick,
            "pool_size_per_worker": int(self.env["BANK_API_DB_POOL_SIZE"]),
            "topology": self.args.topology,
        }
        if self.args.reuse:
            self.settle()
        else:
            self.prepare()
        if not self.args.no_pgbench:
            self.pgbench()
            self.ceiling()
        if not self.args.no_scaling:
            self.scaling_latencies()
        self.loop_lag()
        with self.serving():
            self.scenarios()
            if not self.args.no_small:
                self.small()
            if not self.args.no_profile:
                try:
                    self.profile()
                except Exception as error:  # the figures above are kept whatever happens here
                    self.report["problems"].append(f"profile: {error!r}"[:300])
        self.report["final"] = asyncio.run(population_stats(self.args.pg, self.args.db))
        self.write()
        for problem in self.report["problems"]:
            log(f"PROBLEM: {problem}")
        return 1 if self.report["problems"] else 0

    def write(self) -> None:
        self.args.out.mkdir(parents=True, exist_ok=True)
        (self.args.out / "latest.json").write_text(json.dumps(self.report, indent=2))
        markdown = render_markdown(self.report)
        (self.args.out / "latest.md").write_text(markdown)
        if self.args.update_readme:
            update_readme(HERE / "README.md", markdown)
        log(f"wrote {self.args.out / 'latest.md'}")


TICK = os.sysconf("SC_CLK_TCK")


@contextmanager
def outside_load(processes: int) -> Iterator[None]:
    """`processes` busy loops at normal priority, as another program on the same machine would
    be: the hashing threads (at `nice` 10) then get only what is left. They are started through
    a shell that exits at once, so they are nobody's descendants here and the CPU accounting
    counts them under "other", not as the service's."""
    started = subprocess.run(
        [
            "sh",
            "-c",
            f'for _ in $(seq {processes}); do "{sys.executable}" -c "while True: pass"'
            " >/dev/null 2>&1 & echo $!; done",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    pids = [int(pid) for pid in started.stdout.split()]
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    done = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(child) for child in done.stdout.split()]


def descendants(pid: int) -> list[int]:
    direct = children(pid)
    return direct + [below for child in direct for below in descendants(child)]


def postgres_pids() -> list[int]:
    done = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True, check=False)
    return [int(pid) for pid in done.stdout.split()]


def process_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes (threads included; a process that ended
    meanwhile counts nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICK


def machine_seconds() -> dict[str, float]:
    """The machine's CPU seconds so far, busy and in all (every core; /proc/stat)."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:8]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return {"busy": (sum(ticks) - idle) / TICK, "all": sum(ticks) / TICK}


def cpu_per_request(
    before: dict[str, float], after: dict[str, float], answered: float
) -> dict[str, float | None]:
    """Over the measured window: CPU milliseconds per answered request of the API, PostgreSQL,
    the load generator and everything else, and the share of the machine that was busy."""
    spent = {name: after[name] - before[name] for name in before}
    per = {
        name: (round(1000 * spent[name] / answered, 2) if answered else None)
        for name in ("api", "postgres", "locust")
    }
    other = spent["busy"] - spent["api"] - spent["postgres"] - spent["locust"]
    per["other"] = round(1000 * other / answered, 2) if answered else None
    per["busy_share"] = round(spent["busy"] / spent["all"], 3) if spent["all"] else None
    return per


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) // 1024 // 1024
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "python": platform.python_version(),
        "postgresql": pg,
        "os": platform.platform(),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    return Harness(parse(argv)).run()


if __name__ == "__main__":
    raise SystemExit(main())

"""The database ceiling of each money write: pgbench running bench/ceiling.sql's functions.

Each pgbench transaction is one call of one function, so the database does an operation's
whole work (the caller, the date, the idempotency key, the locks, every row written) in one
round trip with no client in between: what PostgreSQL alone can do for that operation on this
machine. The harness runs it in a copy of the seeded database (`CREATE DATABASE ... TEMPLATE`),
so the API's own runs start from the same state and `ledger verify` is never asked to accept
the ceiling's simplified arithmetic.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCENARIOS = ("deposits", "withdrawals", "approvals", "payments")


def script(scenario: str, min_ticket_cents: int) -> str:
    """The pgbench script of one scenario (its variables come from `-D`)."""
    return {
        "deposits": "\\set n random(1, :investors)\n\\set c random(1000, 100000)\n"
        "SELECT ceiling.move(:n, :c, 'deposit');\n",
        "withdrawals": "\\set n random(1, :investors)\n\\set c random(1000, 10000)\n"
        "SELECT ceiling.move(:n, :c, 'withdrawal');\n",
        "approvals": f"SELECT ceiling.approve({min_ticket_cents});\n",
        "payments": "\\set n random(1, :payable)\nSELECT ceiling.pay(:n);\n",
    }[scenario]


def install(dsn: str) -> dict[str, int]:
    """Load the functions into the copy; how many investors and payable loans it numbers."""
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(HERE / "ceiling.sql"), dsn],
        check=True,
        capture_output=True,
    )
    counts = subprocess.run(
        [
            "psql",
            "-At",
            "-c",
            "SELECT (SELECT count(*) FROM ceiling.investor),"
            " (SELECT count(*) FROM ceiling.payable)",
            dsn,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    investors, payable = (int(n) for n in counts.split("|"))
    return {"investors": investors, "payable": payable}


def operations_done(dsn: str) -> int:
    """How many operations have done their whole work so far."""
    out = subprocess.run(
        ["psql", "-At", "-c", "SELECT last_value - 1 + is_called::int FROM ceiling.done", dsn],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return int(out)


def run(
    dsn: str,
    scenario: str,
    clients: int,
    seconds: float,
    min_ticket_cents: int,
    counts: dict[str, int],
) -> dict[str, Any]:
    """One pgbench run: operations/s (whole operations only), transactions/s, mean latency,
    failed transactions."""
    before = operations_done(dsn)
    seconds_run = max(1, int(seconds))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script(scenario, min_ticket_cents))
    try:
        done = subprocess.run(
            [
                "pgbench",
                "-n",
                "-M",
                "prepared",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds_run),
                "-D",
                f"investors={max(1, counts['investors'])}",
                "-D",
                f"payable={max(1, counts['payable'])}",
                "-f",
                handle.name,
                dsn,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        Path(handle.name).unlink(missing_ok=True)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    aborted = done.stderr.count("aborted")
    return {
        "rps": round((operations_done(dsn) - before) / seconds_run, 1),
        "tps": float(tps.group(1)) if tps else None,
        "mean_ms": float(latency.group(1)) if latency else None,
        "errors": (int(failed.group(1)) if failed else 0) + aborted + (done.returncode != 0),
        "error_samples": [done.stderr.strip()[-300:]] if done.returncode or aborted else [],
    }

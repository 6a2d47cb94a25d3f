"""How widely the allocation queue spreads the book over the investors (issue 16).

Seeds the bench's quick population (the harness's seed, the same random seed) into a fresh
database and reports, for the allocations the seeder's approvals made:

* how many investors fund loans at all, and how many loans each funds (median, p95, max);
* the largest single investor's share of the outstanding book, and the top 1 %'s;
* idle money by age, where age is counted in loans approved since the money started waiting
  (the seeder funds a year of loans in minutes and then moves the loans' dates back, so
  wall-clock age says nothing; allocation rows keep the moment they were written).

Run it on two commits to compare queue rules (bench/README.md "Queue fairness"):

    python bench/spread.py --db bank_api_spread          # seed, then measure
    python bench/spread.py --db bank_api_spread --reuse  # measure an existing seed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from seed import QUICK_POPULATION, Seeder  # noqa: E402

from bank_api.config import Settings  # noqa: E402

# Idle money by the loans approved since it started waiting.
AGE_BUCKETS = ((0, 0), (1, 10), (11, 100), (101, 1000), (1001, None))

SPREAD_SQL = """
WITH per_investor AS (
    SELECT investor_id, count(*) AS loans,
           sum(amount - principal_received - loss) AS outstanding
      FROM allocation GROUP BY investor_id
), ranked AS (
    SELECT outstanding, row_number() OVER (ORDER BY outstanding DESC) AS rank FROM per_investor
)
SELECT (SELECT count(*) FROM investor_account) AS investors,
       (SELECT count(*) FROM per_investor) AS funding,
       (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY loans) FROM per_investor) AS median,
       (SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY loans) FROM per_investor) AS p95,
       (SELECT max(loans) FROM per_investor) AS max_loans,
       (SELECT count(*) FROM loan WHERE approved_at IS NOT NULL) AS funded_loans,
       (SELECT sum(outstanding) FROM per_investor) AS book,
       (SELECT max(outstanding) FROM per_investor) AS largest,
       (SELECT sum(outstanding) FROM ranked
         WHERE rank <= greatest(1, (SELECT count(*) FROM investor_account) / 100)) AS top1
"""

IDLE_SQL = """
WITH approvals AS (SELECT loan_id, min(created_at) AS at FROM allocation GROUP BY loan_id)
SELECT a.available, (SELECT count(*) FROM approvals p WHERE p.at > a.queued_at) AS waited
  FROM investor_account a WHERE a.available > 0
"""


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument("--db", default="bank_api_spread")
    ap.add_argument("--min-ticket", default="250.00", help="BANK_API_MIN_TICKET (the bench's)")
    ap.add_argument("--reuse", action="store_true", help="measure the database as it is")
    ap.add_argument("--label", default="", help="name of this run in the output")
    return ap.parse_args(argv)


async def recreate(pg: str, name: str) -> None:
    conn = await asyncpg.connect(f"{pg}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def seed(args: argparse.Namespace) -> None:
    url = f"{args.pg}/{args.db}".replace("postgresql://", "postgresql+asyncpg://")
    secret = secrets.token_urlsafe(48)
    env = {**os.environ, "BANK_API_DATABASE_URL": url, "BANK_API_JWT_SECRET": secret}
    asyncio.run(recreate(args.pg, args.db))
    subprocess.run([Path(sys.executable).parent / "bank-api", "migrate"], env=env, check=True)
    settings = Settings(
        database_url=url,
        environment="production",
        jwt_secret=secret,
        min_ticket=args.min_ticket,
        allow_business_date_override=True,
    )
    asyncio.run(Seeder(settings, QUICK_POPULATION, seed=20261123).run())


async def measure(pg: str, db: str) -> dict[str, Any]:
    conn = await asyncpg.connect(f"{pg}/{db}")
    try:
        row = await conn.fetchrow(SPREAD_SQL)
        idle = await conn.fetch(IDLE_SQL)
    finally:
        await conn.close()
    figures = dict(row)
    book = int(figures.pop("book") or 0)
    figures["largest_share"] = round(int(figures.pop("largest") or 0) / book, 4) if book else 0
    figures["top1_share"] = round(int(figures.pop("top1") or 0) / book, 4) if book else 0
    figures["book_cents"] = book
    buckets = []
    for low, high in AGE_BUCKETS:
        inside = [r for r in idle if r["waited"] >= low and (high is None or r["waited"] <= high)]
        buckets.append(
            {
                "approvals_waited": f"{low}+" if high is None else f"{low}-{high}",
                "investors": len(inside),
                "available_cents": sum(int(r["available"]) for r in inside),
            }
        )
    figures["idle_by_age"] = buckets
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not args.reuse:
        seed(args)
    result = {"label": args.label, **asyncio.run(measure(args.pg, args.db))}
    print(json.dumps(result, default=str, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

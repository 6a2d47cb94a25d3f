"""Benchmark of the pure money domain: allocation, payment distribution, schedule building.

Run with ``PYTHONPATH=src python bench/bench_domain.py`` (standard library only). Prints a
Markdown table: the best time per call over several repeats (``timeit``), the time per
candidate or installment, and the growth against the previous size. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import random
import sys
import timeit
from collections.abc import Callable

from bank_api.domain.allocation import AllocationPolicy, allocate
from bank_api.domain.distribution import Holding, distribute_payment
from bank_api.domain.schedule import ScheduleKind, build_schedule

ALLOCATION_SIZES = (1_000, 10_000, 100_000, 1_000_000)
HOLDERS = (1_000, 10_000)
SCHEDULE_TERMS = (12, 120, 360)
# The approval's case: a 10,000.00 loan from the head of a long queue, at the bench's minimum
# ticket of 250.00 (about 40 participants).
LOAN, BENCH_TICKET = 10_000_00, 250_00


def best_time(call: Callable[[], object], repeat: int, gc_on: bool) -> float:
    """Best wall time of one call over ``repeat`` runs (timeit turns GC off unless asked)."""
    number = 1
    while timeit.timeit(call, number=number) < 0.05 and number < 10_000:
        number *= 10
    setup = "import gc; gc.enable()" if gc_on else "pass"
    runs = timeit.repeat(call, setup=setup, number=number, repeat=repeat)
    return min(runs) / number


def candidates(n: int) -> tuple[int, list[tuple[int, int]]]:
    """``n`` investors with 0.01 .. 10,000.00 each; the amount (3/4 of it all) needs every one."""
    rng = random.Random(n)  # benchmark data, not secrets
    queue = [(i, rng.randint(1, 1_000_000)) for i in range(n)]
    return sum(a for _, a in queue) * 3 // 4, queue


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def row(label: str, size: int, seconds: float, gc_off: float, previous: float | None) -> str:
    growth = "" if previous is None else f"x{seconds / previous:.1f}"
    per_item = f"{seconds / size * 1e6:.2f} µs"
    return f"| {label} | {size:,} | {fmt(seconds)} | {per_item} | {growth} | {fmt(gc_off)} |"


def bench_allocation(repeat: int, sizes: tuple[int, ...]) -> list[str]:
    rows, previous = [], None
    for n in sizes:
        amount, queue = candidates(n)
        assert len(allocate(amount, queue).parts) == n

        def call(amount: int = amount, queue: list[tuple[int, int]] = queue) -> object:
            return allocate(amount, queue)

        seconds = best_time(call, repeat, gc_on=True)
        rows.append(
            row("allocate, equal split", n, seconds, best_time(call, repeat, False), previous)
        )
        previous = seconds
        del queue
        gc.collect()
    return rows


def bench_queue_head(repeat: int, sizes: tuple[int, ...]) -> list[str]:
    """One loan from queues of growing length: the cost must not grow with the queue."""
    rows, previous = [], None
    policy = AllocationPolicy(min_ticket=BENCH_TICKET)
    for n in sizes:
        _, queue = candidates(n)
        queue = [(i, available + BENCH_TICKET) for i, available in queue]  # all >= the ticket

        def call(queue: list[tuple[int, int]] = queue) -> object:
            return allocate(LOAN, queue, policy)

        seconds = best_time(call, repeat, gc_on=True)
        label = "allocate 10,000.00 from a queue"
        rows.append(row(label, n, seconds, best_time(call, repeat, False), previous))
        previous = seconds
        del queue
        gc.collect()
    return rows


def distribution_holdings(n: int, legacy: bool) -> list[Holding[int]]:
    """``n`` holders of 250.00 .. 5,000.00 each, a third of the loan repaid.

    Not legacy: the state the rule itself leaves after one payment of a third of the principal
    (and a twentieth in interest). Legacy: a state the rule never leaves, every other holder at
    twice its share and the rest at nothing, so the next payment cannot lift everybody to the
    floor of its share and takes the largest-gap fallback.
    """
    rng = random.Random(n)  # benchmark data, not secrets
    allocated = [rng.randint(250_00, 5_000_00) for _ in range(n)]
    if legacy:
        return [
            Holding(i, a, 2 * a // 3, a // 10) if i % 2 else Holding(i, a)
            for i, a in enumerate(allocated)
        ]
    fresh = [Holding(i, a) for i, a in enumerate(allocated)]
    first = distribute_payment(fresh, sum(allocated) // 3, sum(allocated) // 20)
    return [
        Holding(h.investor_id, h.allocated, p.principal, p.interest)
        for h, p in zip(fresh, first, strict=True)
    ]


def bench_distribution(repeat: int) -> list[str]:
    """One payment (a seventh of the outstanding principal, a fifth of that in interest) passed
    on to every holder of a loan, cumulatively and within quota."""
    rows = []
    for label, legacy in (("distribute a payment", False), ("distribute, legacy state", True)):
        previous = None
        for n in HOLDERS:
            holdings = distribution_holdings(n, legacy)
            part = sum(h.outstanding for h in holdings) // 7

            def call(holdings: list[Holding[int]] = holdings, part: int = part) -> object:
                return distribute_payment(holdings, part, part // 5)

            seconds = best_time(call, repeat, gc_on=True)
            rows.append(row(label, n, seconds, best_time(call, repeat, False), previous))
            previous = seconds
    return rows


def bench_schedules(repeat: int) -> list[str]:
    rows = []
    for kind in ScheduleKind:
        previous = None
        for term in SCHEDULE_TERMS:

            def call(term: int = term, kind: ScheduleKind = kind) -> object:
                return build_schedule(250_000_00, 690, term, dt.date(2024, 1, 31), kind)

            seconds = best_time(call, repeat, gc_on=True)
            rows.append(
                row(f"schedule, {kind}", term, seconds, best_time(call, repeat, False), previous)
            )
            previous = seconds
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="repeats per measurement")
    parser.add_argument("--max-candidates", type=int, default=max(ALLOCATION_SIZES))
    args = parser.parse_args()
    sizes = tuple(n for n in ALLOCATION_SIZES if n <= args.max_candidates)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}; best of {args.repeat}\n"
    )
    print(
        "| what | size (candidates / holders / months) | time per call (GC on) | per item "
        "| growth | GC off |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    lines = (
        bench_allocation(args.repeat, sizes)
        + bench_queue_head(args.repeat, sizes)
        + bench_distribution(args.repeat)
        + bench_schedules(args.repeat)
    )
    for line in lines:
        print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

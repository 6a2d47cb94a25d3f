"""Benchmark of the pure money domain: allocation and schedule building.

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

from bank_api.domain.allocation import allocate
from bank_api.domain.schedule import ScheduleType, build_schedule

ALLOCATION_SIZES = (1_000, 10_000, 100_000, 1_000_000)
SCHEDULE_TERMS = (12, 120, 360)


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


def bench_schedules(repeat: int) -> list[str]:
    rows = []
    for kind in ScheduleType:
        previous = None
        for term in SCHEDULE_TERMS:

            def call(term: int = term, kind: ScheduleType = kind) -> object:
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
        "| what | size (candidates / months) | time per call (GC on) | per item | growth | GC off |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for line in bench_allocation(args.repeat, sizes) + bench_schedules(args.repeat):
        print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

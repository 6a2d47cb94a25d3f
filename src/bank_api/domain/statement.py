"""An investor's statement: opening and closing balances and the movements between them.

Each movement type moves one of the investor's two accounts in a known direction (a
disbursement lowers ``available`` and raises ``invested`` by the same part; a principal
repayment the other way round), so its total is shown once, as a positive size, on the account
that names it (:data:`SIDE`). With ``opening`` the balances before the period and ``closing``
those at its end, exactly:

* ``closing.available = opening.available + deposit - withdrawal - allocation
  + principal_repayment + interest``
* ``closing.invested = opening.invested + allocation - principal_repayment - write_off``

:func:`close` computes the closing balances from the lines themselves (not from the totals), so
a test that compares them with the stored balances checks the equations against the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bank_api.domain.ledger import AccountKind, Purpose

AVAILABLE, INVESTED = AccountKind.INVESTOR_AVAILABLE, AccountKind.INVESTOR_INVESTED

SIDE: Mapping[Purpose, tuple[AccountKind, int]] = {
    Purpose.DEPOSIT: (AVAILABLE, 1),
    Purpose.WITHDRAWAL: (AVAILABLE, -1),
    Purpose.ALLOCATION: (INVESTED, 1),
    Purpose.PRINCIPAL_REPAYMENT: (AVAILABLE, 1),
    Purpose.INTEREST: (AVAILABLE, 1),
    Purpose.WRITE_OFF: (INVESTED, -1),
}
"""Per movement type: the account its size is read from, and the sign that makes it positive."""


@dataclass(frozen=True, slots=True)
class Position:
    available: int
    invested: int


def close(opening: Position, lines: Iterable[tuple[AccountKind, Purpose, int]]) -> Position:
    """The balances after ``opening`` and the investor's ``(account, type, signed amount)``
    lines."""
    available, invested = opening.available, opening.invested
    for account, _, amount in lines:
        if account is AVAILABLE:
            available += amount
        elif account is INVESTED:
            invested += amount
    return Position(available, invested)


def totals(lines: Iterable[tuple[AccountKind, Purpose, int]]) -> dict[Purpose, int]:
    """Each movement type's size over ``lines`` (every type present, zero when none)."""
    sizes = dict.fromkeys(SIDE, 0)
    for account, purpose, amount in lines:
        side = SIDE.get(purpose)
        if side is not None and side[0] is account:
            sizes[purpose] += side[1] * amount
    return sizes

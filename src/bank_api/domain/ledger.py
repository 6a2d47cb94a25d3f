"""Double-entry journal entries for every movement of money (docs/CONTRACT.md §4).

Sign convention: an account's balance is the sum of its signed lines, and a transfer of ``x``
from A to B is the pair of lines ``(A, -x)``, ``(B, +x)``. So ``investor_available[i]`` and
``investor_invested[i]`` are positive while they hold money, ``external`` goes negative as money
arrives from outside, and ``loan_receivable[L] = -outstanding principal of L``.

Every :class:`Entry` sums to zero (checked on construction), hence so do all balances together.
The builders never emit zero lines; amounts are cents.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from bank_api.domain.errors import InvalidInput, UnbalancedEntry
from bank_api.domain.money import check_amount


class AccountKind(StrEnum):
    EXTERNAL = "external"
    INVESTOR_AVAILABLE = "investor_available"
    INVESTOR_INVESTED = "investor_invested"
    LOAN_RECEIVABLE = "loan_receivable"
    PLATFORM_REVENUE = "platform_revenue"


class EntryKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    DISBURSEMENT = "disbursement"
    PAYMENT = "payment"
    WRITE_OFF = "write_off"


class Purpose(StrEnum):
    """Why a line moved money; the investor-facing transaction type of its lines."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    ALLOCATION = "allocation"
    PAYOUT = "payout"
    PRINCIPAL_REPAYMENT = "principal_repayment"
    INTEREST = "interest"
    WRITE_OFF = "write_off"
    FEE = "fee"


class Account(NamedTuple):
    kind: AccountKind
    owner: Hashable | None
    """Investor id, loan id, or ``None`` for ``external``."""


EXTERNAL = Account(AccountKind.EXTERNAL, None)
INVESTOR_ACCOUNTS = (AccountKind.INVESTOR_AVAILABLE, AccountKind.INVESTOR_INVESTED)
"""The accounts an investor holds money in (their statements and transactions show them)."""


def available(investor_id: Hashable) -> Account:
    return Account(AccountKind.INVESTOR_AVAILABLE, investor_id)


def invested(investor_id: Hashable) -> Account:
    return Account(AccountKind.INVESTOR_INVESTED, investor_id)


def receivable(loan_id: Hashable) -> Account:
    return Account(AccountKind.LOAN_RECEIVABLE, loan_id)


def revenue(investor_id: Hashable) -> Account:
    """The platform's revenue from the fee on one investor's interest (a sub-account of
    ``platform_revenue``, so every investor's statement can show its fee)."""
    return Account(AccountKind.PLATFORM_REVENUE, investor_id)


class Line(NamedTuple):
    """One side of a transfer (a tuple: a payment builds hundreds, an entry compares by value)."""

    kind: AccountKind
    owner: Hashable | None
    amount: int
    """Signed cents: negative leaves the account, positive enters it."""
    purpose: Purpose

    @property
    def account(self) -> Account:
        return Account(self.kind, self.owner)


@dataclass(frozen=True, slots=True)
class Entry:
    kind: EntryKind
    lines: tuple[Line, ...]

    def __post_init__(self) -> None:
        total = sum(line.amount for line in self.lines)
        if total != 0:
            raise UnbalancedEntry(total)


def transfer(source: Account, target: Account, amount: int, purpose: Purpose) -> tuple[Line, ...]:
    """``(source, -amount)``, ``(target, +amount)``; nothing at all for a zero amount."""
    if amount < 0:
        raise InvalidInput("amount", amount, "a transfer moves a non-negative amount")
    if amount == 0:
        return ()
    return (
        Line(source.kind, source.owner, -amount, purpose),
        Line(target.kind, target.owner, amount, purpose),
    )


def spread(
    source: Account, parts: Sequence[tuple[Account, int]], purpose: Purpose
) -> tuple[Line, ...]:
    """One line leaving `source` with the sum of the `parts` (``(target, amount)``), then one
    entering each target with its amount: a compound transfer, for a source nobody reads line
    by line (``external``). Zero parts are left out, and nothing at all when every part is."""
    if any(amount < 0 for _, amount in parts):
        raise InvalidInput("amount", "...", "a transfer moves non-negative amounts")
    targets = [Line(t.kind, t.owner, amount, purpose) for t, amount in parts if amount]
    if not targets:
        return ()
    return (Line(source.kind, source.owner, -sum(t.amount for t in targets), purpose), *targets)


def deposit_entry(investor_id: Hashable, amount: int) -> Entry:
    """external -> investor_available."""
    check_amount(amount)
    return Entry(
        EntryKind.DEPOSIT, transfer(EXTERNAL, available(investor_id), amount, Purpose.DEPOSIT)
    )


def withdrawal_entry(investor_id: Hashable, amount: int) -> Entry:
    """investor_available -> external."""
    check_amount(amount)
    lines = transfer(available(investor_id), EXTERNAL, amount, Purpose.WITHDRAWAL)
    return Entry(EntryKind.WITHDRAWAL, lines)


def disbursement_entry(loan_id: Hashable, parts: Sequence[tuple[Hashable, int]]) -> Entry:
    """available -> invested per participant, and loan_receivable -> external for the payout."""
    lines: list[Line] = []
    for investor_id, amount in parts:
        check_amount(amount, "part")
        lines += transfer(available(investor_id), invested(investor_id), amount, Purpose.ALLOCATION)
    total = check_amount(sum(amount for _, amount in parts))
    lines += transfer(receivable(loan_id), EXTERNAL, total, Purpose.PAYOUT)
    return Entry(EntryKind.DISBURSEMENT, tuple(lines))


def payment_entry(
    loan_id: Hashable,
    principal: int,
    interest: int,
    shares: Sequence[tuple[Hashable, int, int]],
    fees: Sequence[tuple[Hashable, int]] = (),
) -> Entry:
    """external -> loan_receivable for the principal; per investor ``(id, principal, interest)``
    invested -> available for its principal part and external -> available for its interest
    (net of the fee); per investor ``(id, fee)`` external -> platform_revenue for the fee taken
    from its share. The interest and the fees each leave ``external`` in one line (`spread`):
    a loan funded by 45 investors books 184 lines, not 272.

    Raises InvalidInput unless the investors' parts add up to ``principal`` and, with the fees,
    to ``interest`` (invariant 5: the entry would balance regardless, so it is checked here).
    """
    check_amount(principal + interest)
    net = sum(s[2] for s in shares) + sum(f for _, f in fees)
    if sum(s[1] for s in shares) != principal or net != interest:
        raise InvalidInput("shares", "...", "investor parts must add up to the payment's parts")
    lines = list(transfer(EXTERNAL, receivable(loan_id), principal, Purpose.PRINCIPAL_REPAYMENT))
    for investor_id, principal_part, _ in shares:
        lines += transfer(
            invested(investor_id),
            available(investor_id),
            principal_part,
            Purpose.PRINCIPAL_REPAYMENT,
        )
    lines += spread(EXTERNAL, [(available(i), part) for i, _, part in shares], Purpose.INTEREST)
    lines += spread(EXTERNAL, [(revenue(i), fee) for i, fee in fees], Purpose.FEE)
    return Entry(EntryKind.PAYMENT, tuple(lines))


def write_off_entry(loan_id: Hashable, losses: Sequence[tuple[Hashable, int]]) -> Entry:
    """investor_invested -> loan_receivable for each investor's remaining principal."""
    check_amount(sum(amount for _, amount in losses))
    lines: list[Line] = []
    for investor_id, amount in losses:
        lines += transfer(invested(investor_id), receivable(loan_id), amount, Purpose.WRITE_OFF)
    return Entry(EntryKind.WRITE_OFF, tuple(lines))


def balances(lines: Iterable[Line]) -> dict[Account, int]:
    """Replay: each account's balance is the sum of its lines."""
    result: dict[Account, int] = {}
    for line in lines:
        result[line.account] = result.get(line.account, 0) + line.amount
    return result

"""Applying a borrower's payment to the schedule (docs/CONTRACT.md §3, "Applying a payment").

Oldest installment first; within an installment interest before principal; whatever is left
pays the next installment, so paying ahead simply settles future installments. A payment larger
than everything still due is refused (:class:`Overpayment`). Invariant of every result:
``principal + interest == amount``, and no installment is paid beyond what it is due.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bank_api.domain.errors import InvalidInput, Overpayment
from bank_api.domain.money import check_amount
from bank_api.domain.schedule import Installment


@dataclass(frozen=True, slots=True)
class Paid:
    """What has been paid so far against one installment."""

    principal: int = 0
    interest: int = 0


@dataclass(frozen=True, slots=True)
class AppliedPart:
    number: int
    principal: int
    interest: int


@dataclass(frozen=True, slots=True)
class PaymentApplication:
    applied: tuple[AppliedPart, ...]
    """The installments this payment touched, oldest first."""
    principal: int
    interest: int
    paid_after: tuple[Paid, ...]
    """Every installment's paid amounts once this payment is applied."""
    fully_repaid: bool
    """True when nothing remains due: the loan is repaid and closes."""


def is_settled(installment: Installment, paid: Paid) -> bool:
    """An installment is settled when both its principal and its interest are paid."""
    return paid.principal == installment.principal and paid.interest == installment.interest


def remaining_due(installments: Sequence[Installment], paid: Sequence[Paid]) -> int:
    """``Σ (payment - paid principal - paid interest)`` over the schedule."""
    check_paid(installments, paid)
    return sum(
        i.payment - p.principal - p.interest for i, p in zip(installments, paid, strict=True)
    )


def outstanding_principal(installments: Sequence[Installment], paid: Sequence[Paid]) -> int:
    """``Σ principal - Σ paid principal``: what the borrower still owes the investors."""
    check_paid(installments, paid)
    return sum(i.principal - p.principal for i, p in zip(installments, paid, strict=True))


def apply_payment(
    installments: Sequence[Installment], paid: Sequence[Paid], amount: int
) -> PaymentApplication:
    """Apply ``amount`` cents, oldest installment first, interest before principal.

    Raises InvalidAmount for ``amount`` outside ``1..MAX_AMOUNT_CENTS`` (as at the API edge) and
    Overpayment when ``amount`` exceeds :func:`remaining_due`.
    """
    check_amount(amount)
    remaining = remaining_due(installments, paid)
    if amount > remaining:
        raise Overpayment(requested=amount, remaining=remaining)
    rest = amount
    applied: list[AppliedPart] = []
    after: list[Paid] = []
    for installment, done in zip(installments, paid, strict=True):
        interest = min(rest, installment.interest - done.interest)
        principal = min(rest - interest, installment.principal - done.principal)
        rest -= interest + principal
        if interest or principal:
            applied.append(AppliedPart(installment.number, principal, interest))
        after.append(Paid(done.principal + principal, done.interest + interest))
    return PaymentApplication(
        applied=tuple(applied),
        principal=sum(a.principal for a in applied),
        interest=sum(a.interest for a in applied),
        paid_after=tuple(after),
        fully_repaid=amount == remaining,
    )


def check_paid(installments: Sequence[Installment], paid: Sequence[Paid]) -> None:
    """Raise InvalidInput unless ``paid`` matches the schedule and stays within each installment."""
    if len(paid) != len(installments):
        raise InvalidInput("paid", len(paid), f"must have {len(installments)} entries")
    for installment, done in zip(installments, paid, strict=True):
        within_principal = 0 <= done.principal <= installment.principal
        if not (within_principal and 0 <= done.interest <= installment.interest):
            raise InvalidInput("paid", done, f"outside installment {installment.number}")

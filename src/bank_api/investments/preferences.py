"""Auto-invest preferences and where an investor's idle money stands in the allocation queue.

Preferences decide only future allocations: replacing them moves no money already lent out.
The queue answer reads the investor's own row, the candidates ahead of it and the loans waiting
for approval, without a transaction (each figure is one statement; none of them moves money).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bank_api.common.principal import Principal
from bank_api.domain.allocation import reached_by
from bank_api.domain.preferences import NotCandidate, Preferences
from bank_api.errors import UnknownLoanType
from bank_api.uow import UnitOfWork

# How many of the loans waiting for approval, and of the latest approvals, the estimate reads.
PIPELINE_READ = 500
LEAD_TIME_SAMPLE = 20


async def get_preferences(uow: UnitOfWork, *, actor: Principal) -> Preferences:
    return await uow.investors.preferences(actor.id)


async def set_preferences(
    uow: UnitOfWork, *, actor: Principal, preferences: Preferences
) -> Preferences:
    """Replace the preferences (every product named must exist; an inactive one may be kept),
    between approvals."""
    named = preferences.loan_types
    if named is not None and await uow.products.known(named) != named:
        raise UnknownLoanType
    # An approval reads the caps from the preferences and funds later in its transaction: take
    # the queue's turn, so a change lands before or after an approval, never in the middle.
    await uow.investors.lock_allocation_queue()
    await uow.investors.set_preferences(actor.id, preferences)
    await uow.commit()
    return preferences


@dataclass(frozen=True)
class QueueStanding:
    position: int | None
    reason: NotCandidate | None
    ahead_amount: int
    available: int
    idle_since: datetime | None
    idle_days: int
    estimated_deployment: date | None
    estimate_basis: str


async def queue_standing(
    uow: UnitOfWork, *, actor: Principal, today: date, min_ticket: int
) -> QueueStanding:
    balances, queued_at, preferences = await uow.investors.standing(actor.id)
    idle_days = 0 if queued_at is None else max(0, (today - queued_at.date()).days)
    reason = preferences.reason(balances.available, balances.invested)
    if reason is not None or queued_at is None:
        return QueueStanding(
            None,
            reason,
            0,
            balances.available,
            queued_at,
            idle_days,
            None,
            "not in the allocation queue: nothing of this money is offered to new loans",
        )
    ahead, ahead_amount = await uow.investors.ahead_of(actor.id, queued_at)
    estimate, basis = await _estimate(uow, ahead + 1, today, min_ticket)
    return QueueStanding(
        ahead + 1,
        None,
        ahead_amount,
        balances.available,
        queued_at,
        idle_days,
        estimate,
        basis,
    )


async def _estimate(
    uow: UnitOfWork, position: int, today: date, min_ticket: int
) -> tuple[date | None, str]:
    """The day the loans now waiting for approval would reach `position`, approved after the
    median lead time of the latest approvals (docs/DECISIONS.md "Queue estimate")."""
    waiting = await uow.loans.waiting(PIPELINE_READ)
    index = reached_by(position, [amount for amount, _ in waiting], min_ticket)
    if index is None:
        return None, (
            f"the {len(waiting)} loans waiting for approval would not reach position {position}"
            " (each takes at most one participant per minimum ticket); no estimate"
        )
    lead = await _lead_days(uow)
    created = waiting[index][1].date()
    estimate = max(today, created + timedelta(days=lead))
    return estimate, (
        f"loan {index + 1} of those waiting for approval would reach this position; loans are"
        f" approved a median {lead} days after they are applied for (latest approvals); an"
        " estimate, not a promise"
    )


async def _lead_days(uow: UnitOfWork) -> int:
    rows = await uow.loans.latest_approvals(LEAD_TIME_SAMPLE)
    leads = sorted(approved - created for created, approved in rows if approved is not None)
    if not leads:
        return 0
    return -(-leads[len(leads) // 2] // timedelta(days=1))  # the median in whole days, up

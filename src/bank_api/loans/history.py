"""A loan's history: every change of a loan is recorded as an event with its field changes,
in the API's language (`annual_rate` for the stored basis points; money and rates as decimal
strings, like every other response)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value

from bank_api.common.money import format_cents
from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.models import Loan, LoanEvent, LoanEventKind, LoanStatus
from bank_api.uow import UnitOfWork

# Fields whose changes the history records, in the order they are shown.
TRACKED = (
    "loan_type",
    "amount",
    "term_months",
    "annual_rate_bp",
    "monthly_payment",
    "total_interest",
    "total_payable",
    "status",
    "agent_id",
    "rejection_reason",
    "outstanding_principal",
)
PUBLIC_NAMES = {"annual_rate_bp": "annual_rate"}
DECIMAL_FIELDS = frozenset(
    {
        "amount",
        "annual_rate_bp",
        "monthly_payment",
        "total_interest",
        "total_payable",
        "outstanding_principal",
    }
)


def public_value(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in DECIMAL_FIELDS:
        return format_cents(value)
    return str(value) if isinstance(value, uuid.UUID | LoanStatus) else value


def snapshot(loan: Loan) -> dict[str, Any]:
    return {field: getattr(loan, field) for field in TRACKED}


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{public name: {from, to}}` for every tracked field that differs."""
    return {
        PUBLIC_NAMES.get(field, field): {
            "from": public_value(field, before[field]),
            "to": public_value(field, after[field]),
        }
        for field in TRACKED
        if before[field] != after[field]
    }


def event(
    loan: Loan,
    actor: Principal,
    kind: LoanEventKind,
    changes: dict[str, dict[str, Any]],
    note: str | None = None,
) -> LoanEvent:
    """The history event of `kind` by `actor` on `loan`, not yet stored."""
    return LoanEvent(
        loan_id=loan.id,
        at=utcnow(),
        actor_id=actor.id,
        actor_role=actor.role,
        event=kind,
        changes=changes,
        note=note,
    )


def record(
    uow: UnitOfWork,
    loan: Loan,
    actor: Principal,
    kind: LoanEventKind,
    changes: dict[str, dict[str, Any]],
    note: str | None = None,
) -> None:
    """Add the event to the session, stored with the loan's changes when they are flushed."""
    uow.loan_events.add(event(loan, actor, kind, changes, note))


def change(
    uow: UnitOfWork,
    loan: Loan,
    actor: Principal,
    kind: LoanEventKind,
    note: str | None = None,
    *,
    extra: dict[str, dict[str, Any]] | None = None,
    **values: Any,
) -> dict[str, dict[str, Any]]:
    """Set `values` on the loan and record the event of `kind` with the changes they made (and
    `extra` changes that are not loan fields, such as a rewritten schedule); the changes. The
    session stores both when it is flushed."""
    written = _change(loan, actor, kind, note, extra, values, setattr)
    uow.loan_events.add(written.event)
    return written.changes


@dataclass(frozen=True)
class Written:
    values: dict[str, Any]
    """The loan's columns changed, `updated_at` included."""
    changes: dict[str, dict[str, Any]]
    event: LoanEvent


def change_written(
    loan: Loan,
    actor: Principal,
    kind: LoanEventKind,
    note: str | None = None,
    *,
    extra: dict[str, dict[str, Any]] | None = None,
    **values: Any,
) -> Written:
    """`change` for a use case that writes the loan and its event itself, as plain rows
    (`LoanRepository.update`, `LoanEventRepository.new`, sent with its other writes in one
    round trip): the values are set on the loan as already stored, so the session's flush
    leaves them alone, and nothing is added to the session."""
    return _change(loan, actor, kind, note, extra, values, set_committed_value)


def _change(
    loan: Loan,
    actor: Principal,
    kind: LoanEventKind,
    note: str | None,
    extra: dict[str, dict[str, Any]] | None,
    values: dict[str, Any],
    assign: Callable[[Loan, str, Any], None],
) -> Written:
    before = snapshot(loan)
    values = values | {"updated_at": utcnow()}
    for field, value in values.items():
        assign(loan, field, value)
    changes = changes_between(before, snapshot(loan)) | (extra or {})
    return Written(values, changes, event(loan, actor, kind, changes, note))

"""Four-eyes decisions (SPEC §11.5): above `BANK_API_FOUR_EYES_ABOVE` an approval, and every
write-off while it is set, needs two different admins.

The first admin's decision is a sign-off: recorded on the loan (`sign_offs`, shown as
`pending_approvals`), in its history and in the audit trail; the loan keeps its status. The
second, different admin's decision executes it, in one transaction with the loan row locked, so
two admins signing off at once cannot both be "first" (the second waits for the lock and then
finds the first's sign-off). A sign-off counts only for the decision it was given for; every
change of the loan's status, an agent's edit and every payment clear the sign-offs (the
situation they judged has changed).
"""

from __future__ import annotations

from bank_api import audit
from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.config import Settings
from bank_api.errors import SecondApproverRequired
from bank_api.loans import history
from bank_api.models import Loan, LoanEventKind
from bank_api.uow import UnitOfWork


def required(settings: Settings, loan: Loan, *, write_off: bool = False) -> bool:
    threshold = settings.four_eyes_above_cents
    return threshold is not None and (write_off or loan.amount > threshold)


def sign_off(uow: UnitOfWork, loan: Loan, actor: Principal, decision: str) -> bool:
    """Record `actor`'s sign-off of `decision`; True when another admin signed off the same
    decision before, so it now executes (the caller clears the sign-offs)."""
    signed = [entry for entry in loan.sign_offs or [] if entry.get("decision") == decision]
    if any(entry["admin_id"] == str(actor.id) for entry in signed):
        raise SecondApproverRequired
    if signed:
        return True
    at = utcnow().isoformat()
    loan.sign_offs = [{"admin_id": str(actor.id), "at": at, "decision": decision}]
    loan.updated_at = utcnow()
    history.record(uow, loan, actor, LoanEventKind.signed_off, {}, f"{decision}: first of two")
    audit.record(
        uow, actor, "loan.sign_off", "loan", loan.id, {"decision": {"from": None, "to": decision}}
    )
    return False


def clear(loan: Loan) -> None:
    loan.sign_offs = None

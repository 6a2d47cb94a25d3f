"""Every model, imported in one place so Alembic's metadata sees all tables; with the
domain's enums that columns store (one definition each, in the domain)."""

from bank_api.domain.ledger import AccountKind, EntryKind, Purpose
from bank_api.domain.schedule import ScheduleKind
from bank_api.models.audit import AuditRecord
from bank_api.models.base import Base
from bank_api.models.credit import Allocation, BusinessDate, Installment, Payment
from bank_api.models.ledger import (
    IdempotencyRecord,
    InvestorAccount,
    InvestorLoanType,
    JournalEntry,
    JournalLine,
)
from bank_api.models.loan import Loan, LoanEvent, LoanEventKind, LoanProduct, LoanStatus
from bank_api.models.login_failure import LoginFailure, ThrottleScope
from bank_api.models.session import RefreshToken
from bank_api.models.user import Role, User, UserStatus

__all__ = [
    "AccountKind",
    "Allocation",
    "AuditRecord",
    "Base",
    "BusinessDate",
    "EntryKind",
    "IdempotencyRecord",
    "Installment",
    "InvestorAccount",
    "InvestorLoanType",
    "JournalEntry",
    "JournalLine",
    "Loan",
    "LoanEvent",
    "LoanEventKind",
    "LoanProduct",
    "LoanStatus",
    "LoginFailure",
    "Payment",
    "Purpose",
    "RefreshToken",
    "Role",
    "ScheduleKind",
    "ThrottleScope",
    "User",
    "UserStatus",
]

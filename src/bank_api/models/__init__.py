"""Every model, imported in one place so Alembic's metadata sees all tables."""

from bank_api.models.base import Base
from bank_api.models.loan import (
    Loan,
    LoanEvent,
    LoanEventKind,
    LoanProduct,
    LoanStatus,
    ScheduleKind,
)
from bank_api.models.login_failure import LoginFailure, ThrottleScope
from bank_api.models.user import Role, User, UserStatus

__all__ = [
    "Base",
    "Loan",
    "LoanEvent",
    "LoanEventKind",
    "LoanProduct",
    "LoanStatus",
    "LoginFailure",
    "Role",
    "ScheduleKind",
    "ThrottleScope",
    "User",
    "UserStatus",
]

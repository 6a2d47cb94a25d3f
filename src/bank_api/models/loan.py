"""Loan products, loans and their history."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bank_api.common.types import utcnow
from bank_api.domain.schedule import MAX_ANNUAL_RATE_BP, MAX_TERM_MONTHS, ScheduleKind
from bank_api.models.base import Base, BigIntKey, Timestamps, UUIDPrimaryKey, enum_column
from bank_api.models.user import Role


class LoanStatus(enum.StrEnum):
    new = "new"
    requested = "requested"
    active = "active"
    closed = "closed"
    rejected = "rejected"
    written_off = "written_off"


class LoanEventKind(enum.StrEnum):
    created = "created"
    edited = "edited"
    requested = "requested"
    approved = "approved"
    rejected = "rejected"
    payment = "payment"
    closed = "closed"
    written_off = "written_off"
    signed_off = "signed_off"


class LoanProduct(Timestamps, Base):
    __tablename__ = "loan_product"
    __table_args__ = (
        CheckConstraint(
            f"annual_rate_bp >= 0 AND annual_rate_bp <= {MAX_ANNUAL_RATE_BP}", name="rate_range"
        ),
        CheckConstraint("min_amount > 0 AND min_amount <= max_amount", name="amount_bounds"),
        CheckConstraint(
            "min_term_months >= 1 AND min_term_months <= max_term_months "
            f"AND max_term_months <= {MAX_TERM_MONTHS}",
            name="term_bounds",
        ),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    annual_rate_bp: Mapped[int]
    min_amount: Mapped[int] = mapped_column(BigInteger)
    max_amount: Mapped[int] = mapped_column(BigInteger)
    min_term_months: Mapped[int]
    max_term_months: Mapped[int]
    schedule_type: Mapped[ScheduleKind] = mapped_column(enum_column(ScheduleKind, "schedule_kind"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Loan(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "loan"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            f"term_months >= 1 AND term_months <= {MAX_TERM_MONTHS}", name="term_range"
        ),
        CheckConstraint(
            "outstanding_principal >= 0 AND outstanding_principal <= amount",
            name="outstanding_range",
        ),
        # Every list is newest first; each filter has an index leading with it.
        Index("ix_loan_created", "created_at", "id"),
        Index("ix_loan_updated", "updated_at"),
        Index("ix_loan_status_created", "status", "created_at"),
        Index("ix_loan_customer_created", "customer_id", "created_at"),
        Index("ix_loan_agent_created", "agent_id", "created_at"),
        Index("ix_loan_type_created", "loan_type", "created_at"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    loan_type: Mapped[str] = mapped_column(ForeignKey("loan_product.code"))
    amount: Mapped[int] = mapped_column(BigInteger)
    term_months: Mapped[int]
    annual_rate_bp: Mapped[int]
    schedule_type: Mapped[ScheduleKind] = mapped_column(enum_column(ScheduleKind, "schedule_kind"))
    monthly_payment: Mapped[int] = mapped_column(BigInteger)
    total_interest: Mapped[int] = mapped_column(BigInteger)
    total_payable: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[LoanStatus] = mapped_column(enum_column(LoanStatus, "loan_status"))
    outstanding_principal: Mapped[int] = mapped_column(BigInteger, default=0)
    # The due date of the oldest installment not fully paid (None before approval and once all
    # are): set by the approval, moved by each payment; every overdue figure follows from it.
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date)
    # The business date of the disbursement: the schedule's start, where its first period
    # begins (early repayment accrues interest from it).
    disbursed_on: Mapped[date | None] = mapped_column(Date)
    # Four-eyes: the admins who signed off the next decision (approval or write-off) that needs
    # a second admin, `[{"admin_id", "at"}]`; None when there are none.
    sign_offs: Mapped[list[dict[str, str]] | None] = mapped_column(JSON(none_as_null=True))
    # The servicing fee fixed when the loan was funded, in millionths of its interest (12.5 %
    # is 125000): a later change of BANK_API_SERVICING_FEE applies to loans funded after it.
    fee_ppm: Mapped[int] = mapped_column(default=0)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    approved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class LoanEvent(Base):
    """One entry of a loan's history: who did what, when, and which fields changed."""

    __tablename__ = "loan_event"
    __table_args__ = (Index("ix_loan_event_loan_id", "loan_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[Role | None] = mapped_column(enum_column(Role, "role"))
    event: Mapped[LoanEventKind] = mapped_column(enum_column(LoanEventKind, "loan_event_kind"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)

"""What an approved loan carries: who funded it, its schedule, its payments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from bank_api.common.types import utcnow
from bank_api.models.base import Base, UUIDPrimaryKey


class Allocation(Base):
    """One investor's part of one loan, with what has come back of it."""

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "principal_received >= 0 AND loss >= 0 AND principal_received + loss <= amount",
            name="principal_bounds",
        ),
        CheckConstraint("interest_received >= 0", name="interest_not_negative"),
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        Index("ix_allocation_investor", "investor_id", "created_at"),
        # An investor's overdue holdings, read without the rest of the portfolio.
        Index(
            "ix_allocation_investor_unpaid_due",
            "investor_id",
            "oldest_unpaid_due",
            postgresql_where=text("oldest_unpaid_due IS NOT NULL"),
            sqlite_where=text("oldest_unpaid_due IS NOT NULL"),
        ),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"), primary_key=True)
    investor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    principal_received: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_received: Mapped[int] = mapped_column(BigInteger, default=0)
    # The platform's fee taken from this investor's share of the interest (interest_received
    # is net of it).
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    loss: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The loan's `oldest_unpaid_due` while the loan is active, None otherwise: kept by the
    # writes that change it (approval, payments, write-off), checked by `ledger verify`.
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date)

    @property
    def outstanding_principal(self) -> int:
        return self.amount - self.principal_received - self.loss


class Installment(Base):
    __tablename__ = "installment"
    __table_args__ = (
        CheckConstraint("principal >= 0 AND interest >= 0", name="parts_not_negative"),
        CheckConstraint(
            "paid_principal >= 0 AND paid_principal <= principal "
            "AND paid_interest >= 0 AND paid_interest <= interest",
            name="paid_bounds",
        ),
        Index("ix_installment_due", "due_date"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    due_date: Mapped[date] = mapped_column(Date)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    paid_principal: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_interest: Mapped[int] = mapped_column(BigInteger, default=0)


class Payment(UUIDPrimaryKey, Base):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0 AND principal >= 0 AND interest >= 0", name="amounts"),
        CheckConstraint("principal + interest = amount", name="parts_add_up"),
        CheckConstraint("fee >= 0 AND fee <= interest", name="fee_within_interest"),
        Index("ix_payment_loan", "loan_id", "created_at"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loan.id"))
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    # The platform's part of the interest; the investors received `interest - fee`.
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    applied: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BusinessDate(Base):
    """A single row: the business date override (demos and tests), shared by every worker."""

    __tablename__ = "business_date"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[date | None] = mapped_column(Date)

"""The double-entry journal, investors' stored balances, and idempotency records."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bank_api.common.types import utcnow
from bank_api.domain.ledger import AccountKind, EntryKind, Purpose
from bank_api.models.base import Base, BigIntKey, enum_column
from bank_api.models.user import User


class InvestorAccount(Base):
    """An investor's stored balances, kept in the same transaction as their journal lines."""

    __tablename__ = "investor_account"
    __table_args__ = (
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("invested >= 0", name="invested_not_negative"),
        CheckConstraint("interest_earned >= 0", name="interest_not_negative"),
        CheckConstraint("losses >= 0", name="losses_not_negative"),
        CheckConstraint("active_allocations >= 0", name="active_allocations_not_negative"),
        CheckConstraint("fees >= 0", name="fees_not_negative"),
        CheckConstraint("keep_available >= 0", name="keep_available_not_negative"),
        CheckConstraint("max_per_loan > 0", name="max_per_loan_positive"),
        CheckConstraint("max_portfolio > 0", name="max_portfolio_positive"),
        CheckConstraint("(available = 0) = (queued_at IS NULL)", name="queued_while_available"),
        # The allocation queue: money that has waited longest since it last rose from zero or
        # last funded a loan goes first. Keyed on `queued_at` alone (not `available > 0`, the
        # same rows) so that an update leaving it unchanged, a payment's credit or a deposit to
        # waiting money, is heap-only: it writes no index entry (migration 0017).
        Index(
            "ix_investor_account_queue",
            "queued_at",
            "investor_id",
            postgresql_where=text("queued_at IS NOT NULL"),
            sqlite_where=text("queued_at IS NOT NULL"),
        ),
    )

    investor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    invested: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_earned: Mapped[int] = mapped_column(BigInteger, default=0)
    losses: Mapped[int] = mapped_column(BigInteger, default=0)
    # Portfolio figures kept with the balances: holdings in active loans, and the platform's
    # fees taken from this investor's interest so far (checked by `ledger verify`).
    active_allocations: Mapped[int] = mapped_column(Integer, default=0)
    fees: Mapped[int] = mapped_column(BigInteger, default=0)
    # The later of when `available` last rose from zero and `last_funded_at`; None while
    # `available` is zero.
    queued_at: Mapped[datetime | None]
    last_funded_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Auto-invest preferences (docs/DECISIONS.md "Investor preferences"); the products an
    # investor funds are rows of InvestorLoanType, none meaning every product.
    auto_invest: Mapped[bool] = mapped_column(Boolean, default=True)
    keep_available: Mapped[int] = mapped_column(BigInteger, default=0)
    max_per_loan: Mapped[int | None] = mapped_column(BigInteger)
    max_portfolio: Mapped[int | None] = mapped_column(BigInteger)
    # Only so the unit of work inserts the user before its account; never loaded.
    user: Mapped[User] = relationship(lazy="raise", viewonly=False)


class InvestorLoanType(Base):
    """A product an investor's auto-invest funds; an investor with no rows funds every one."""

    __tablename__ = "investor_loan_type"

    investor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("investor_account.investor_id"), primary_key=True
    )
    loan_type: Mapped[str] = mapped_column(ForeignKey("loan_product.code"), primary_key=True)


class JournalEntry(Base):
    __tablename__ = "journal_entry"
    __table_args__ = (Index("ix_journal_entry_loan", "loan_id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, "entry_kind"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    investor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    loan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("loan.id"))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment.id"))


class JournalLine(Base):
    """Immutable: lines are only ever inserted."""

    __tablename__ = "journal_line"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_journal_line_account", "account_kind", "owner_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    # The entry's id, with no foreign key: a line is only ever inserted by the statement that
    # inserts its entry (`LedgerRepository.entry`), and `ledger verify` checks that every line
    # has its entry (`lines_belong_to_entries`). The key's per-row check was a third of
    # PostgreSQL's work for a payment's hundred-odd lines (docs/DECISIONS.md, "Credit pool").
    entry_id: Mapped[int] = mapped_column(BigIntKey)
    account_kind: Mapped[AccountKind] = mapped_column(
        enum_column(AccountKind, "account_kind", length=24)
    )
    owner_id: Mapped[uuid.UUID | None]
    amount: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose, "purpose", length=24))
    loan_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The business date on which the line was booked: statements and returns select by it.
    value_date: Mapped[date] = mapped_column(Date)


class IdempotencyRecord(Base):
    """One `Idempotency-Key` per caller: reserved before the work, completed with the response
    in the same transaction as the money movement."""

    __tablename__ = "idempotency_record"
    # `bank-api idempotency purge` deletes by age
    __table_args__ = (Index("ix_idempotency_record_created_at", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

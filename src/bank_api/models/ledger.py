"""The double-entry journal, investors' stored balances, and idempotency records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
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
        # The allocation queue: idle money that has waited longest first.
        Index(
            "ix_investor_account_queue",
            "queued_at",
            "investor_id",
            postgresql_where=text("available > 0"),
            sqlite_where=text("available > 0"),
        ),
    )

    investor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    invested: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_earned: Mapped[int] = mapped_column(BigInteger, default=0)
    losses: Mapped[int] = mapped_column(BigInteger, default=0)
    # When `available` last rose from zero; None while it is zero.
    queued_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Only so the unit of work inserts the user before its account; never loaded.
    user: Mapped[User] = relationship(lazy="raise", viewonly=False)


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
        Index("ix_journal_line_entry", "entry_id"),
        Index("ix_journal_line_account", "account_kind", "owner_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"))
    account_kind: Mapped[AccountKind] = mapped_column(
        enum_column(AccountKind, "account_kind", length=24)
    )
    owner_id: Mapped[uuid.UUID | None]
    amount: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose, "purpose", length=24))
    loan_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(Base):
    """One `Idempotency-Key` per caller: reserved before the work, completed with the response
    in the same transaction as the money movement."""

    __tablename__ = "idempotency_record"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

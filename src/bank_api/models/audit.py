"""The audit trail of staff actions: append-only (no route changes or deletes a record)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bank_api.common.types import utcnow
from bank_api.models.base import Base, BigIntKey, enum_column
from bank_api.models.user import Role


class AuditRecord(Base):
    """One change made by an admin or an agent, written in the same transaction as the change."""

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_record_at", "at", "id"),
        Index("ix_audit_record_actor", "actor_id", "at"),
        Index("ix_audit_record_target", "target_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))

"""Refresh tokens: front ends' sessions, renewed by rotation (docs/DECISIONS.md "Sessions")."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bank_api.common.types import utcnow
from bank_api.models.base import Base, UUIDPrimaryKey


class RefreshToken(UUIDPrimaryKey, Base):
    """One refresh token, stored as its hash. Every token descended from one login shares the
    login's `family_id`; a token is spent once exchanged, and a family is revoked as a whole."""

    __tablename__ = "refresh_token"
    __table_args__ = (
        Index("ix_refresh_token_family", "family_id"),
        Index("ix_refresh_token_user", "user_id"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    family_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bank_api.common.types import utcnow
from bank_api.models.base import Base, BigIntKey, enum_column


class ThrottleScope(enum.StrEnum):
    username = "username"
    client = "client"


class LoginFailure(Base):
    """One failed login, counted per username and per client address within a window.

    Kept in the database so every worker and replica sees the same counts.
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    scope: Mapped[ThrottleScope] = mapped_column(enum_column(ThrottleScope, "throttle_scope"))
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)

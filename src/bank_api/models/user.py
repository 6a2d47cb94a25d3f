from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bank_api.common.types import utcnow
from bank_api.models.base import Base, Timestamps, UUIDPrimaryKey, enum_column


class Role(enum.StrEnum):
    customer = "customer"
    investor = "investor"
    agent = "agent"
    admin = "admin"


class UserStatus(enum.StrEnum):
    active = "active"
    pending = "pending"
    rejected = "rejected"
    disabled = "disabled"


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "user_account"
    __table_args__ = (Index("ix_user_account_role_status_created", "role", "status", "created_at"),)

    username: Mapped[str] = mapped_column(String(50))
    # Lower-cased copies carry the case-insensitive uniqueness on both dialects.
    username_key: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(500))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    status: Mapped[UserStatus] = mapped_column(enum_column(UserStatus, "user_status"))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Tokens issued before this instant are refused (password change, disable).
    tokens_valid_after: Mapped[datetime] = mapped_column(default=utcnow)

    def set_username(self, username: str) -> None:
        self.username, self.username_key = username, username.lower()

    def set_email(self, email: str) -> None:
        self.email, self.email_key = email, email.lower()

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, EmailStr, Field, StringConstraints, model_validator

from bank_api.common.schemas import RequestSchema, ResponseSchema
from bank_api.models import Role, UserStatus

Username = Annotated[
    str,
    StringConstraints(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$"),
    Field(examples=["jane.doe"], description="3 to 50 of A-Z a-z 0-9 _ . -, unique ignoring case"),
]
# Passwords are taken exactly as typed: no stripping.
MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH = 8, 128
Password = Annotated[
    str,
    StringConstraints(
        min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH, strip_whitespace=False
    ),
    Field(examples=["correct horse battery"]),
]
Email = Annotated[EmailStr, StringConstraints(max_length=254), Field(examples=["jane@example.com"])]
FullName = Annotated[
    str, StringConstraints(min_length=1, max_length=200), Field(examples=["Jane Doe"])
]
Phone = Annotated[str, StringConstraints(max_length=32), Field(examples=["+1 555 0100"])]
Address = Annotated[
    str, StringConstraints(max_length=500), Field(examples=["1 Main St, Springfield"])
]


class UserCreate(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "jane.doe",
                    "password": "correct horse battery",
                    "email": "jane@example.com",
                    "full_name": "Jane Doe",
                    "phone": "+1 555 0100",
                    "address": "1 Main St, Springfield",
                    "role": "customer",
                }
            ]
        }
    )

    username: Username
    password: Password
    email: Email
    full_name: FullName
    phone: Phone | None = None
    address: Address | None = None
    role: Literal[Role.customer, Role.investor, Role.agent] = Field(
        description="`customer`, `investor` or `agent`; agents wait for an admin's approval"
    )


class UserUpdate(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"full_name": "Jane Q. Doe", "phone": "+1 555 0199"}]}
    )

    username: Username | None = None
    email: Email | None = None
    full_name: FullName | None = None
    phone: Phone | None = None
    address: Address | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> UserUpdate:
        if not self.model_fields_set:
            raise ValueError("at least one field must be given")
        for required in ("username", "email", "full_name"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be null")
        return self


class PasswordChange(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "correct horse battery",
                    "new_password": "battery staple horse correct",
                }
            ]
        }
    )

    current_password: Password
    new_password: Password


class UserRead(ResponseSchema):
    id: uuid.UUID
    username: str
    email: str
    full_name: str
    phone: str | None
    address: str | None
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime

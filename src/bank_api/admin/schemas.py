from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bank_api.admin.pool import PoolFigures
from bank_api.common.money import MoneyOut, format_fraction
from bank_api.common.schemas import RequestSchema


class PoolRead(BaseModel):
    currency: str
    investors_available: MoneyOut
    investors_invested: MoneyOut
    active_loans: int
    outstanding_principal: MoneyOut
    overdue_principal: MoneyOut
    npl_principal: MoneyOut
    npl_ratio: str = Field(
        description="NPL principal / outstanding principal, four decimals", examples=["0.0125"]
    )

    @classmethod
    def of(cls, figures: PoolFigures, currency: str) -> PoolRead:
        return cls(
            currency=currency,
            investors_available=figures.investors_available,
            investors_invested=figures.investors_invested,
            active_loans=figures.active_loans,
            outstanding_principal=figures.outstanding_principal,
            overdue_principal=figures.overdue_principal,
            npl_principal=figures.npl_principal,
            npl_ratio=format_fraction(figures.npl_ratio, 4),
        )


class BusinessDateIn(RequestSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"date": "2027-03-31"}]})

    date: dt.date


class BusinessDateRead(BaseModel):
    date: dt.date


class ProductFeeRead(BaseModel):
    loan_type: str
    fee: MoneyOut


class RevenueRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from": "2026-11-01",
                    "to": "2026-11-30",
                    "total": "1234.56",
                    "by_product": [
                        {"loan_type": "car_loan", "fee": "400.06"},
                        {"loan_type": "personal_loan", "fee": "834.50"},
                    ],
                }
            ]
        }
    )

    from_: dt.date | None = Field(serialization_alias="from")
    to: dt.date | None
    total: MoneyOut
    by_product: list[ProductFeeRead]


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor_id: uuid.UUID
    actor_role: str
    action: str = Field(examples=["loan.approve"])
    target_type: str = Field(examples=["loan"])
    target_id: str
    changes: dict[str, dict[str, Any]]
    request_id: str | None

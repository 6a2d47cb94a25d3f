from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict

from bank_api.common.money import MoneyIn, MoneyOut
from bank_api.common.schemas import RequestSchema, ResponseSchema
from bank_api.models import LoanStatus


class AmountIn(RequestSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": "1250.00"}]})

    amount: MoneyIn


class PortfolioRead(ResponseSchema):
    currency: str
    available: MoneyOut
    invested: MoneyOut
    interest_earned: MoneyOut
    losses: MoneyOut
    total: MoneyOut
    active_allocations: int
    overdue_principal: MoneyOut
    npl_principal: MoneyOut


class MovementRead(ResponseSchema):
    id: int
    type: Literal["deposit", "withdrawal"]
    amount: MoneyOut
    created_at: datetime
    portfolio: PortfolioRead


class TransactionRead(ResponseSchema):
    id: int
    entry_id: int
    type: str
    account: Literal["available", "invested"]
    amount: MoneyOut
    loan_id: uuid.UUID | None
    created_at: datetime


class InvestorAllocationRead(ResponseSchema):
    loan_id: uuid.UUID
    amount: MoneyOut
    outstanding_principal: MoneyOut
    principal_repaid: MoneyOut
    interest_earned: MoneyOut
    loss: MoneyOut
    loan_status: LoanStatus
    days_past_due: int

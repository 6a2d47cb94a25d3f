from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict

from bank_api.common.money import MoneyIn, MoneyOut
from bank_api.common.schemas import RequestSchema, ResponseSchema
from bank_api.models import AccountKind, LoanStatus


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

    @classmethod
    def of(cls, line: Any) -> TransactionRead:
        account = "available" if line.account_kind == AccountKind.INVESTOR_AVAILABLE else "invested"
        return cls(
            id=line.id,
            entry_id=line.entry_id,
            type=line.purpose.value,
            amount=line.amount,
            account=account,
            loan_id=line.loan_id,
            created_at=line.created_at,
        )


class InvestorAllocationRead(ResponseSchema):
    loan_id: uuid.UUID
    amount: MoneyOut
    outstanding_principal: MoneyOut
    principal_repaid: MoneyOut
    interest_earned: MoneyOut
    loss: MoneyOut
    loan_status: LoanStatus
    days_past_due: int

    @classmethod
    def of(cls, row: Any) -> InvestorAllocationRead:
        allocation = row.allocation
        return cls(
            loan_id=allocation.loan_id,
            amount=allocation.amount,
            outstanding_principal=allocation.outstanding_principal,
            principal_repaid=allocation.principal_received,
            interest_earned=allocation.interest_received,
            loss=allocation.loss,
            loan_status=row.loan_status,
            days_past_due=row.days_past_due,
        )

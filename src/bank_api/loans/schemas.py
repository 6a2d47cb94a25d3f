from __future__ import annotations

import uuid
from datetime import date, datetime
from fractions import Fraction
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from sqlalchemy import inspect

from bank_api.common.money import MoneyIn, MoneyOut, RateIn, RateOut, format_fraction
from bank_api.common.schemas import RequestSchema, ResponseSchema
from bank_api.domain.delinquency import is_npl
from bank_api.domain.early import Keep
from bank_api.domain.schedule import MAX_TERM_MONTHS
from bank_api.loans.overdue import loan_days_past_due
from bank_api.models import LoanEventKind, LoanStatus, Role, ScheduleKind

ProductCode = Annotated[
    str,
    StringConstraints(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]+$"),
    Field(examples=["home_loan"]),
]
Term = Annotated[int, Field(strict=True, ge=1, le=MAX_TERM_MONTHS, examples=[12])]


class _NonEmpty(RequestSchema):
    """A partial update: at least one field, and none of them null."""

    @model_validator(mode="after")
    def _not_empty(self) -> Any:
        if not self.model_fields_set:
            raise ValueError("at least one field must be given")
        nulls = [name for name in self.model_fields_set if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(sorted(nulls))} cannot be null")
        return self


class LoanProductRead(ResponseSchema):
    code: str
    name: str
    annual_rate: RateOut = Field(validation_alias="annual_rate_bp")
    min_amount: MoneyOut
    max_amount: MoneyOut
    min_term_months: int
    max_term_months: int
    schedule_type: ScheduleKind
    is_active: bool


class LoanProductCreate(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "green_loan",
                    "name": "Green loan",
                    "annual_rate": "3.50",
                    "min_amount": "1000.00",
                    "max_amount": "20000.00",
                    "min_term_months": 12,
                    "max_term_months": 48,
                    "schedule_type": "annuity",
                    "is_active": True,
                }
            ]
        }
    )

    code: ProductCode
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    annual_rate: RateIn
    min_amount: MoneyIn
    max_amount: MoneyIn
    min_term_months: Term
    max_term_months: Term
    schedule_type: ScheduleKind = ScheduleKind.ANNUITY
    is_active: bool = True

    @model_validator(mode="after")
    def _bounds(self) -> LoanProductCreate:
        if self.min_amount > self.max_amount:
            raise ValueError("min_amount must not exceed max_amount")
        if self.min_term_months > self.max_term_months:
            raise ValueError("min_term_months must not exceed max_term_months")
        return self


class LoanProductUpdate(_NonEmpty):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"annual_rate": "4.25", "is_active": False}]}
    )

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    annual_rate: RateIn | None = None
    min_amount: MoneyIn | None = None
    max_amount: MoneyIn | None = None
    min_term_months: Term | None = None
    max_term_months: Term | None = None
    schedule_type: ScheduleKind | None = None
    is_active: bool | None = None


class LoanCreate(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"loan_type": "personal_loan", "amount": "10000.00", "term_months": 12}]
        }
    )

    loan_type: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        examples=["personal_loan"]
    )
    amount: MoneyIn
    term_months: Term


class LoanUpdate(_NonEmpty):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": "8000.00", "term_months": 24}]}
    )

    loan_type: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    amount: MoneyIn | None = None
    term_months: Term | None = None


class LoanForward(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Income and identity verified"}]}
    )

    note: Annotated[str, StringConstraints(max_length=1000)] | None = None


class LoanReject(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Income could not be verified"}]}
    )

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        examples=["Income could not be verified"]
    )


class PendingApproval(BaseModel):
    admin_id: uuid.UUID
    at: datetime


def _no_sign_offs(value: Any) -> Any:
    return [] if value is None else value


class LoanRead(ResponseSchema):
    id: uuid.UUID
    customer_id: uuid.UUID
    agent_id: uuid.UUID | None
    loan_type: str
    amount: MoneyOut
    term_months: int
    annual_rate: RateOut = Field(validation_alias="annual_rate_bp")
    monthly_payment: MoneyOut
    total_interest: MoneyOut
    total_payable: MoneyOut
    status: LoanStatus
    outstanding_principal: MoneyOut
    days_past_due: int = 0
    is_npl: bool = False
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    closed_at: datetime | None
    pending_approvals: Annotated[list[PendingApproval], BeforeValidator(_no_sign_offs)] = Field(
        default_factory=list,
        validation_alias="sign_offs",
        description="Four-eyes: the admins who signed off the decision a second admin must make",
    )

    @classmethod
    def of(cls, loan: Any, today: date) -> LoanRead:
        """The loan (the ORM's object, or a page's row as a dict of its columns) with its days
        past due on the business date `today`. A dict, and an object whose columns are all
        loaded, are validated as dicts, which skips looking up each field as an attribute."""
        if isinstance(loan, dict):
            return cls.model_validate(
                loan | _delinquency(loan["status"], loan["oldest_unpaid_due"], today)
            )
        figures = _delinquency(loan.status, loan.oldest_unpaid_due, today)
        state = inspect(loan, raiseerr=False)
        if state is not None and not state.unloaded:
            return cls.model_validate(state.dict | figures)
        read = cls.model_validate(loan)
        read.days_past_due, read.is_npl = figures["days_past_due"], figures["is_npl"]
        return read


def _delinquency(status: LoanStatus, oldest_unpaid_due: date | None, today: date) -> dict[str, Any]:
    days = loan_days_past_due(status, oldest_unpaid_due, today)
    return {"days_past_due": days, "is_npl": is_npl(days)}


class LoanEventRead(ResponseSchema):
    id: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_role: Role | None
    event: LoanEventKind
    changes: dict[str, dict[str, Any]]
    note: str | None


class InstallmentRead(ResponseSchema):
    number: int
    due_date: date
    payment: MoneyOut
    principal: MoneyOut
    interest: MoneyOut
    paid_principal: MoneyOut = 0
    paid_interest: MoneyOut = 0
    status: str = "pending"


class ScheduleTotals(ResponseSchema):
    principal: MoneyOut
    interest: MoneyOut
    payable: MoneyOut
    paid: MoneyOut = 0


class ScheduleRead(ResponseSchema):
    loan_id: uuid.UUID | None
    preview: bool
    installments: list[InstallmentRead]
    totals: ScheduleTotals


class QuoteRead(ResponseSchema):
    loan_type: str
    amount: MoneyOut
    term_months: int
    annual_rate: RateOut
    schedule_type: ScheduleKind
    monthly_payment: MoneyOut
    total_interest: MoneyOut
    total_payable: MoneyOut
    installments: list[InstallmentRead]


class AllocationRead(ResponseSchema):
    investor_id: uuid.UUID
    amount: MoneyOut
    share: str = Field(description="Fraction of the loan, six decimals", examples=["0.250000"])
    outstanding_principal: MoneyOut

    @classmethod
    def of(cls, allocation: Any, loan_amount: int) -> AllocationRead:
        return cls(
            investor_id=allocation.investor_id,
            amount=allocation.amount,
            share=format_fraction(Fraction(allocation.amount, loan_amount), 6),
            outstanding_principal=allocation.outstanding_principal,
        )


class PaymentIn(RequestSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": "882.65"}]})

    amount: MoneyIn


class AppliedRead(ResponseSchema):
    number: int
    principal: MoneyOut
    interest: MoneyOut


class PaymentRead(ResponseSchema):
    id: uuid.UUID
    loan_id: uuid.UUID
    amount: MoneyOut
    principal: MoneyOut
    interest: MoneyOut
    fee: MoneyOut = Field(description="The platform's part of the interest")
    applied: list[AppliedRead]
    created_at: datetime
    loan_status: LoanStatus = Field(description="The loan's status right after this payment")
    outstanding: MoneyOut = Field(
        description="The loan's outstanding principal right after this payment"
    )

    @classmethod
    def of(cls, payment: Any, loan_status: LoanStatus, outstanding: int) -> PaymentRead:
        return cls(
            id=payment.id,
            loan_id=payment.loan_id,
            amount=payment.amount,
            principal=payment.principal,
            interest=payment.interest,
            fee=payment.fee,
            applied=payment.applied,
            created_at=payment.created_at,
            loan_status=loan_status,
            outstanding=outstanding,
        )


class PayoffRead(ResponseSchema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "loan_id": "6b1f0c1e-8c1a-4d3e-9a51-3f1c2d4e5f60",
                    "on": "2026-12-10",
                    "amount": "8214.37",
                    "principal": "8190.12",
                    "interest": "24.25",
                    "overdue": "0.00",
                    "accrued_interest": "24.25",
                    "day_count": "actual/period: 9 of 30 days",
                }
            ]
        },
    )

    loan_id: uuid.UUID
    on: date
    amount: MoneyOut = Field(description="What closes the loan on `on`")
    principal: MoneyOut
    interest: MoneyOut = Field(description="Overdue interest plus the accrued interest")
    overdue: MoneyOut = Field(description="Principal and interest due by `on` and not paid")
    accrued_interest: MoneyOut
    day_count: str = Field(
        description="Actual days of the current period so far over its days, applied to the "
        "period's scheduled interest"
    )


class SettlementIn(PaymentIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": "8214.37"}]})


class PrepaymentIn(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": "2000.00", "keep": "term"}]}
    )

    amount: MoneyIn
    keep: Keep = Field(
        description="`term`: the same installments with a lower payment; `payment`: the same "
        "payment with fewer installments"
    )


class PrepaymentRead(PaymentRead):
    schedule: ScheduleRead


class PrepaymentPreviewRead(ResponseSchema):
    loan_id: uuid.UUID
    amount: MoneyOut
    principal: MoneyOut
    interest: MoneyOut
    applied: list[AppliedRead]
    loan_status: LoanStatus
    outstanding: MoneyOut
    schedule: ScheduleRead

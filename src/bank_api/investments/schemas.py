from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter

from bank_api.common.money import MoneyIn, MoneyOrZeroIn, MoneyOut
from bank_api.common.schemas import RequestSchema, ResponseSchema
from bank_api.domain.preferences import NotCandidate, Preferences
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
    fees: MoneyOut = Field(description="The platform's fees taken from your interest so far")


class MovementRead(ResponseSchema):
    id: int
    type: Literal["deposit", "withdrawal"]
    amount: MoneyOut
    created_at: datetime
    portfolio: PortfolioRead


_ACCOUNT_NAMES = {
    AccountKind.INVESTOR_AVAILABLE: "available",
    AccountKind.INVESTOR_INVESTED: "invested",
}


def _account_name(kind: Any) -> Any:
    """An investor's journal account as the API names it (any other account fails the type)."""
    return _ACCOUNT_NAMES.get(kind, kind)


# One of the investor's journal lines, validated from its columns by name
# (`ledger.repository.INVESTOR_LINE`): `purpose` is its type, `account_kind` its account. (A
# comment, not a docstring: a docstring would become the schema's public description.)
class TransactionRead(ResponseSchema):
    id: int
    entry_id: int
    type: str = Field(validation_alias="purpose")
    account: Annotated[Literal["available", "invested"], BeforeValidator(_account_name)] = Field(
        validation_alias="account_kind"
    )
    amount: MoneyOut
    loan_id: uuid.UUID | None
    created_at: datetime
    value_date: date = Field(description="The business date on which the line was booked")

    @staticmethod
    def many(lines: Iterable[Mapping[str, Any]]) -> list[TransactionRead]:
        """Every line (its columns by name) validated at once (a month's statement can hold
        thousands)."""
        return _TRANSACTIONS.validate_python(lines)


_TRANSACTIONS = TypeAdapter(list[TransactionRead])


class InvestorAllocationRead(ResponseSchema):
    loan_id: uuid.UUID
    amount: MoneyOut
    outstanding_principal: MoneyOut
    principal_repaid: MoneyOut
    interest_earned: MoneyOut
    fee: MoneyOut = Field(description="The platform's fee taken from this interest")
    loss: MoneyOut
    loan_status: LoanStatus
    days_past_due: int
    expected_principal: MoneyOut = Field(description="Principal still scheduled to you")
    expected_interest: MoneyOut = Field(description="Interest still scheduled to you")

    @classmethod
    def of(cls, row: Any) -> InvestorAllocationRead:
        allocation = row.allocation
        return cls(
            loan_id=allocation.loan_id,
            amount=allocation.amount,
            outstanding_principal=allocation.outstanding_principal,
            principal_repaid=allocation.principal_received,
            interest_earned=allocation.interest_received,
            fee=allocation.fee,
            loss=allocation.loss,
            loan_status=row.loan_status,
            days_past_due=row.days_past_due,
            expected_principal=row.expected_principal,
            expected_interest=row.expected_interest,
        )


LoanTypeCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class PreferencesIn(RequestSchema):
    """The auto-invest preferences (SPEC §11.1). PUT replaces the whole object: a field left
    out takes its default."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "active": True,
                    "loan_types": ["car_loan", "personal_loan"],
                    "max_per_loan": "100.00",
                    "keep_available": "500.00",
                    "max_portfolio": "25000.00",
                }
            ]
        },
    )

    active: Annotated[bool, Field(strict=True)] = True
    loan_types: Annotated[list[LoanTypeCode], Field(min_length=1, max_length=50)] | None = None
    max_per_loan: MoneyIn | None = None
    keep_available: MoneyOrZeroIn = 0
    max_portfolio: MoneyIn | None = None

    def to_domain(self) -> Preferences:
        types = None if self.loan_types is None else frozenset(self.loan_types)
        return Preferences(
            self.active, types, self.max_per_loan, self.keep_available, self.max_portfolio
        )


class PreferencesRead(ResponseSchema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "active": True,
                    "loan_types": ["car_loan"],
                    "max_per_loan": "100.00",
                    "keep_available": "0.00",
                    "max_portfolio": None,
                }
            ]
        },
    )

    active: bool
    loan_types: list[str] | None
    max_per_loan: MoneyOut | None
    keep_available: MoneyOut
    max_portfolio: MoneyOut | None

    @classmethod
    def of(cls, preferences: Preferences) -> PreferencesRead:
        types = None if preferences.loan_types is None else sorted(preferences.loan_types)
        return cls(
            active=preferences.active,
            loan_types=types,
            max_per_loan=preferences.max_per_loan,
            keep_available=preferences.keep_available,
            max_portfolio=preferences.max_portfolio,
        )


class QueueRead(ResponseSchema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "position": 12,
                    "reason": None,
                    "ahead_amount": "48210.00",
                    "available": "1250.00",
                    "idle_since": "2026-11-20T09:30:00Z",
                    "idle_days": 11,
                    "estimated_deployment": "2026-12-03",
                    "estimate_basis": "loan 2 of those waiting for approval would reach it; ...",
                }
            ]
        },
    )

    position: int | None = Field(description="1-based among the current candidates; null: not one")
    reason: NotCandidate | None = Field(description="Why the investor is not a candidate")
    ahead_amount: MoneyOut
    available: MoneyOut
    idle_since: datetime | None
    idle_days: int
    estimated_deployment: date | None
    estimate_basis: str


class StatementBalances(ResponseSchema):
    available: MoneyOut
    invested: MoneyOut


class StatementTotals(ResponseSchema):
    """Each movement's size, positive (docs/DECISIONS.md "Statements" has the equations)."""

    deposit: MoneyOut
    withdrawal: MoneyOut
    allocation: MoneyOut
    principal_repayment: MoneyOut
    interest: MoneyOut
    write_off: MoneyOut
    fee: MoneyOut


class StatementRead(ResponseSchema):
    from_: date = Field(serialization_alias="from")
    to: date
    opening: StatementBalances
    closing: StatementBalances
    totals: StatementTotals
    lines: list[TransactionRead]


class ReturnsRead(ResponseSchema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "xirr": "0.0712",
                    "interest_earned": "412.35",
                    "fees": "0.00",
                    "losses": "25.10",
                    "net_profit": "387.25",
                    "from": "2026-01-01",
                    "to": "2026-12-01",
                }
            ]
        },
    )

    xirr: str | None = Field(
        description="Net annual return (XIRR) as a fraction with four places; null: no rate",
        examples=["0.0712"],
    )
    interest_earned: MoneyOut
    fees: MoneyOut
    losses: MoneyOut
    net_profit: MoneyOut
    from_: date | None = Field(serialization_alias="from")
    to: date

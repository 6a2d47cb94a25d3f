from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bank_api.admin.pool import PoolFigures
from bank_api.admin.reports import RiskReport
from bank_api.common.money import MoneyOut, format_cents, format_fraction
from bank_api.common.schemas import RequestSchema


class PoolRead(BaseModel):
    currency: str
    investors_available: MoneyOut
    investors_invested: MoneyOut
    active_loans: int
    outstanding_principal: MoneyOut
    overdue_loans_principal: MoneyOut = Field(
        description="Outstanding principal of the loans with anything overdue"
    )
    principal_past_due: MoneyOut = Field(description="Principal actually past due")
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
            overdue_loans_principal=figures.overdue_loans_principal,
            principal_past_due=figures.principal_past_due,
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


class BucketRead(BaseModel):
    bucket: str = Field(examples=["31-60"])
    loans: int
    principal: MoneyOut


class ProductRiskRead(BaseModel):
    loan_type: str
    loans: int
    outstanding_principal: MoneyOut
    principal_past_due: MoneyOut


class CashFlowRead(BaseModel):
    month: str = Field(examples=["2026-12"], description="YYYY-MM")
    principal: MoneyOut
    interest: MoneyOut


class RiskReportRead(BaseModel):
    as_of: dt.date
    outstanding_principal: MoneyOut
    principal_past_due: MoneyOut = Field(description="Principal actually past due")
    buckets: list[BucketRead]
    par30: str = Field(examples=["0.0412"], description="Four decimals")
    par90: str = Field(examples=["0.0150"], description="Four decimals")
    by_product: list[ProductRiskRead]
    written_off: MoneyOut = Field(description="Principal written off, to date")
    expected_cash_flows: list[CashFlowRead]

    @classmethod
    def of(cls, report: RiskReport) -> RiskReportRead:
        return cls(
            as_of=report.as_of,
            outstanding_principal=report.total.principal,
            principal_past_due=report.total.past_due,
            buckets=[
                BucketRead(bucket=name, loans=part.loans, principal=part.principal)
                for name, part in report.buckets.items()
            ],
            par30=format_fraction(report.par30, 4),
            par90=format_fraction(report.par90, 4),
            by_product=[
                ProductRiskRead(
                    loan_type=loan_type,
                    loans=part.loans,
                    outstanding_principal=part.principal,
                    principal_past_due=part.past_due,
                )
                for loan_type, part in report.by_product.items()
            ],
            written_off=report.written_off,
            expected_cash_flows=[
                CashFlowRead(month=month, principal=principal, interest=interest)
                for month, principal, interest in report.cash_flows
            ],
        )

    def csv_rows(self) -> list[list[str]]:
        """`section, name, loans, principal, interest` rows of every figure."""
        rows = [
            ["total", "outstanding_principal", "", format_cents(self.outstanding_principal), ""],
            ["total", "principal_past_due", "", format_cents(self.principal_past_due), ""],
            ["total", "par30", "", self.par30, ""],
            ["total", "par90", "", self.par90, ""],
            ["total", "written_off", "", format_cents(self.written_off), ""],
        ]
        rows += [
            ["bucket", b.bucket, str(b.loans), format_cents(b.principal), ""] for b in self.buckets
        ]
        rows += [
            ["product", p.loan_type, str(p.loans), format_cents(p.outstanding_principal), ""]
            for p in self.by_product
        ]
        rows += [
            ["cash_flow", c.month, "", format_cents(c.principal), format_cents(c.interest)]
            for c in self.expected_cash_flows
        ]
        return rows

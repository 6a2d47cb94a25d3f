"""The portfolio risk report and the pool's two overdue figures (SPEC §11.5)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.flows import DATE_OVERRIDE, investor_with, new_loan, set_date, verify_ok
from tests.support.http import assert_problem
from tests.support.money import cents, money

pytestmark = [
    pytest.mark.usefixtures("backend"),
    pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE),
]

TODAY = date(2031, 6, 15)
# approval day -> days past due on TODAY (the first installment falls due a month later)
BOOK = [
    (date(2031, 6, 15), "personal_loan", "1000.00", 0),
    (date(2031, 4, 30), "personal_loan", "2000.00", 16),
    (date(2031, 4, 1), "car_loan", "3000.00", 45),
    (date(2031, 2, 10), "personal_loan", "4000.00", 97),
]


async def _book(api: Api) -> tuple[Any, list[dict[str, Any]]]:
    admin = await api.user("admin")
    await set_date(api, admin.headers, date(2031, 1, 1))
    await investor_with(api, "20000.00")
    customer = await api.user("customer")
    loans = []
    for approved_on, loan_type, amount, _ in BOOK:
        await set_date(api, admin.headers, approved_on)
        loan = await new_loan(api, customer, loan_type=loan_type, amount=amount, term_months=12)
        done = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
        assert done.status_code == 200, done.text
        loans.append(done.json())
    await set_date(api, admin.headers, TODAY)
    return admin, loans


async def test_the_report_splits_the_book_by_bucket_and_product_exactly(api: Api) -> None:
    admin, loans = await _book(api)
    states = [
        (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=admin.headers)).json()
        for loan in loans
    ]
    assert [s["days_past_due"] for s in states] == [days for *_, days in BOOK]
    schedules = [
        (
            await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=admin.headers)
        ).json()["installments"]
        for loan in loans
    ]
    past_due = sum(
        cents(i["principal"]) for rows in schedules for i in rows if i["due_date"] < "2031-06-15"
    )
    report = await api.client.get("/api/v1/admin/reports/portfolio", headers=admin.headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["as_of"] == TODAY.isoformat()
    assert body["outstanding_principal"] == "10000.00"
    assert cents(body["principal_past_due"]) == past_due
    assert body["buckets"] == [
        {"bucket": "current", "loans": 1, "principal": "1000.00"},
        {"bucket": "1-30", "loans": 1, "principal": "2000.00"},
        {"bucket": "31-60", "loans": 1, "principal": "3000.00"},
        {"bucket": "61-90", "loans": 0, "principal": "0.00"},
        {"bucket": "90+", "loans": 1, "principal": "4000.00"},
    ]
    assert (body["par30"], body["par90"]) == ("0.7000", "0.4000")
    assert [
        (p["loan_type"], p["loans"], p["outstanding_principal"]) for p in body["by_product"]
    ] == [
        ("car_loan", 1, "3000.00"),
        ("personal_loan", 3, "7000.00"),
    ]
    assert body["written_off"] == "0.00"
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for rows in schedules:
        for i in rows:
            if "2031-06-15" <= i["due_date"] < "2032-06-01":
                expected[i["due_date"][:7]][0] += cents(i["principal"])
                expected[i["due_date"][:7]][1] += cents(i["interest"])
    flows = body["expected_cash_flows"]
    assert [f["month"] for f in flows] == [f"2031-{m:02d}" for m in range(6, 13)] + [
        f"2032-{m:02d}" for m in range(1, 6)
    ]
    assert {
        f["month"]: [cents(f["principal"]), cents(f["interest"])]
        for f in flows
        if f["month"] in expected
    } == dict(expected)
    pool = (await api.client.get("/api/v1/admin/pool", headers=admin.headers)).json()
    assert pool["principal_past_due"] == body["principal_past_due"]
    assert pool["overdue_loans_principal"] == "9000.00"

    as_csv = await api.client.get(
        "/api/v1/admin/reports/portfolio", headers={**admin.headers, "Accept": "text/csv"}
    )
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["name"]: r["principal"] for r in rows if r["section"] == "bucket"} == {
        b["bucket"]: b["principal"] for b in body["buckets"]
    }
    assert [r["principal"] for r in rows if r["name"] == "par90"] == ["0.4000"]
    await verify_ok(api, admin)


async def test_write_offs_show_and_only_admins_read_the_report(api: Api) -> None:
    admin, loans = await _book(api)
    written = await api.client.post(
        f"/api/v1/loans/{loans[3]['id']}/write-off", headers=admin.headers
    )
    assert written.status_code == 200, written.text
    body = (await api.client.get("/api/v1/admin/reports/portfolio", headers=admin.headers)).json()
    assert body["written_off"] == "4000.00"
    assert body["outstanding_principal"] == money(600_000)
    assert body["par90"] == "0.0000"
    for role in ("agent", "customer", "investor"):
        other = await api.user(role)
        response = await api.client.get("/api/v1/admin/reports/portfolio", headers=other.headers)
        assert_problem(response, 403, "forbidden")

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from bank_api.common.money import MAX_AMOUNT_CENTS, MoneyIn, MoneyOut, format_cents, parse_cents


class Body(BaseModel):
    amount: MoneyIn


class Out(BaseModel):
    amount: MoneyOut


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("1250.00", 125_000),
        ("12.5", 1250),
        ("0.01", 1),
        (" 7 ", 700),
        (100, 10_000),
        (19.99, 1999),
        (0.1, 10),
        (Decimal("3.10"), 310),
        ("1000000000000.00", MAX_AMOUNT_CENTS),
    ],
)
def test_accepted_amounts_become_exact_cents(value: object, cents: int) -> None:
    assert parse_cents(value) == cents
    assert Body(amount=value).amount == cents  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        "0",
        "0.00",
        "-1.00",
        "1.001",
        0.005,
        "1e3",
        "NaN",
        "Infinity",
        "",
        "abc",
        "1,000.00",
        True,
        None,
        [],
        "1000000000000.01",
        10**13,
        "١٢",
    ],
)
def test_refused_amounts(value: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked below via pydantic
        parse_cents(value)
    with pytest.raises(ValidationError):
        Body(amount=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (99, "0.99"),
        (100, "1.00"),
        (125_000, "1250.00"),
        (10**14, "1000000000000.00"),
        (-5, "-0.05"),
        (-100, "-1.00"),
        (-123_456, "-1234.56"),
    ],
)
def test_cents_render_as_two_decimal_strings(cents: int, text: str) -> None:
    assert format_cents(cents) == text
    assert Out(amount=cents).model_dump(mode="json") == {"amount": text}


def test_json_schema_says_decimal_string() -> None:
    assert Out.model_json_schema(mode="serialization")["properties"]["amount"]["type"] == "string"
    accepted = Body.model_json_schema()["properties"]["amount"]["anyOf"]
    assert {item["type"] for item in accepted} == {"string", "number"}

"""The `Money` type at the API edge: integer cents inside, two-decimal strings outside.

Requests accept a JSON string ("1250.00", "12.5") or a JSON number with at most two decimal
places; anything else (floats with more places, NaN, booleans, zero, negatives, more than
1,000,000,000,000.00) is a validation error. Responses always carry a string with exactly two
decimals. A float never takes part in arithmetic: a JSON number is converted through its
shortest decimal representation, which is exact for every value with two decimals.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from bank_api.domain.money import MAX_AMOUNT_CENTS, round_cents
from bank_api.domain.schedule import MAX_ANNUAL_RATE_BP

_MONEY_PATTERN = r"^\d{1,13}(\.\d{1,2})?$"


def format_fraction(value: Fraction, places: int) -> str:
    """A non-negative ratio as a decimal string, rounded half-even by the domain's helper:
    (1/3, 4) -> "0.3333"."""
    scaled = round_cents(value * 10**places)  # the one rounding helper, any scale
    whole, part = divmod(scaled, 10**places)
    return f"{whole}.{part:0{places}d}"


def format_cents(cents: int) -> str:
    """12345 -> "123.45"; -5 -> "-0.05". (Every money field of every response goes through
    here: a page of 20 loans calls it 140 times, and %-formatting of `divmod` takes a third
    less time than an f-string of its parts.)"""
    if cents >= 0:
        return "%d.%02d" % divmod(cents, 100)  # noqa: UP031 - faster, above
    return "-%d.%02d" % divmod(-cents, 100)  # noqa: UP031 - faster, above


_DECIMAL_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")  # ASCII digits only


def to_decimal(value: Any) -> Decimal:
    """A request value as an exact Decimal, or ValueError.

    Strings must be plain decimals (no exponent, no spaces inside); a JSON number is taken
    through its shortest round-trip representation.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a decimal string or a number")
    if isinstance(value, str) and not _DECIMAL_TEXT.match(value.strip()):
        raise ValueError("must be a decimal number such as 1250.00")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("must be a decimal number such as 1250.00") from None
    if not amount.is_finite():
        raise ValueError("must be a finite decimal number")
    return amount


def parse_cents(value: Any, *, zero: bool = False) -> int:
    """A positive amount (or zero, with `zero`) with at most two decimals, at most
    MAX_AMOUNT_CENTS, as int cents."""
    amount = to_decimal(value)
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        raise ValueError("must have at most two decimal places")
    if amount < 0 or (amount == 0 and not zero):
        raise ValueError("must be at least 0" if zero else "must be greater than 0")
    if amount > Decimal(MAX_AMOUNT_CENTS) / 100:
        raise ValueError("must be at most 1000000000000.00")
    return int(amount * 100)


_MONEY_EXAMPLE = "1250.00"

MoneyIn = Annotated[
    int,
    BeforeValidator(parse_cents),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _MONEY_PATTERN},
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000_000_000},
            ],
            "description": "Amount with at most two decimals, > 0, at most 1000000000000.00",
            "examples": [_MONEY_EXAMPLE],
        },
        mode="validation",
    ),
]
"""A money amount in a request body: validated and converted to integer cents."""


def _parse_cents_or_zero(value: Any) -> int:
    return parse_cents(value, zero=True)


MoneyOrZeroIn = Annotated[
    int,
    BeforeValidator(_parse_cents_or_zero),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _MONEY_PATTERN},
                {"type": "number", "minimum": 0, "maximum": 1_000_000_000_000},
            ],
            "description": "Amount with at most two decimals, >= 0, at most 1000000000000.00",
            "examples": ["0.00"],
        },
        mode="validation",
    ),
]
"""Like MoneyIn, but zero is allowed (a reserve of nothing)."""

MoneyOut = Annotated[
    int,
    PlainSerializer(format_cents, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?\d+\.\d{2}$",
            "format": "decimal",
            "examples": [_MONEY_EXAMPLE],
        },
        mode="serialization",
    ),
]
"""A money amount in a response: integer cents rendered as a two-decimal string."""


def parse_rate_bp(value: Any) -> int:
    """An annual percentage such as "6.90" as integer basis points of a percent (690)."""
    rate = to_decimal(value)
    exponent = rate.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        raise ValueError("must have at most two decimal places")
    if not 0 <= rate * 100 <= MAX_ANNUAL_RATE_BP:
        raise ValueError("must be between 0 and 1000.00")
    return int(rate * 100)


RateIn = Annotated[
    int,
    BeforeValidator(parse_rate_bp),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d{1,4}(\.\d{1,2})?$"},
                {"type": "number", "minimum": 0, "maximum": 1000},
            ],
            "description": "Annual rate in percent with at most two decimals",
            "examples": ["6.90"],
        },
        mode="validation",
    ),
]
"""An annual rate in a request: validated and converted to basis points of a percent."""

RateOut = Annotated[
    int,
    PlainSerializer(format_cents, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d+\.\d{2}$", "format": "decimal", "examples": ["6.90"]},
        mode="serialization",
    ),
]
"""An annual rate in a response: basis points rendered as a percent with two decimals."""

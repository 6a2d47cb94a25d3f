"""Money in tests: integer cents and the API's two-decimal strings."""

from __future__ import annotations


def cents(text: str) -> int:
    """'1234.56' -> 123456 (the API always sends exactly two decimals)."""
    whole, _, fraction = text.partition(".")
    assert len(fraction) == 2, text
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(fraction))


def money(amount: int) -> str:
    """123456 -> '1234.56'."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain import ledger
from bank_api.domain.ledger import AccountKind, Purpose
from bank_api.domain.statement import AVAILABLE, INVESTED, Position, close, totals
from tests.domain.strategies import PROPERTY

ME = "me"


def _mine(entry: ledger.Entry) -> list[tuple[AccountKind, Purpose, int]]:
    return [
        (line.kind, line.purpose, line.amount)
        for line in entry.lines
        if line.owner == ME and line.kind in (AVAILABLE, INVESTED)
    ]


def test_each_movement_is_counted_once_as_a_positive_size() -> None:
    lines = [
        *_mine(ledger.deposit_entry(ME, 100_000)),
        *_mine(ledger.disbursement_entry("loan", [(ME, 30_000), ("other", 30_000)])),
        *_mine(ledger.payment_entry("loan", 5_000, 700, [(ME, 2_500, 350), ("other", 2_500, 350)])),
        *_mine(ledger.withdrawal_entry(ME, 10_000)),
        *_mine(ledger.write_off_entry("loan", [(ME, 27_500), ("other", 27_500)])),
    ]
    assert totals(lines) == {
        Purpose.DEPOSIT: 100_000,
        Purpose.WITHDRAWAL: 10_000,
        Purpose.ALLOCATION: 30_000,
        Purpose.PRINCIPAL_REPAYMENT: 2_500,
        Purpose.INTEREST: 350,
        Purpose.WRITE_OFF: 27_500,
    }
    assert close(Position(0, 0), lines) == Position(100_000 - 30_000 + 2_850 - 10_000, 0)


def test_lines_of_other_accounts_and_purposes_change_nothing() -> None:
    lines = [(AccountKind.EXTERNAL, Purpose.PAYOUT, -500), (AVAILABLE, Purpose.PAYOUT, 7)]
    assert set(totals(lines).values()) == {0}
    assert close(Position(10, 20), lines) == Position(17, 20)


def _entry(kind: str, amount: int, interest: int) -> ledger.Entry:
    if kind == "deposit":
        return ledger.deposit_entry(ME, amount)
    if kind == "withdrawal":
        return ledger.withdrawal_entry(ME, amount)
    if kind == "fund":
        return ledger.disbursement_entry("loan", [(ME, amount)])
    if kind == "repay":
        return ledger.payment_entry("loan", amount, interest, [(ME, amount, interest)])
    return ledger.write_off_entry("loan", [(ME, amount)])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["deposit", "withdrawal", "fund", "repay", "lose"]),
            st.integers(1, 10**9),
            st.integers(0, 10**6),
        ),
        max_size=30,
    )
)
@PROPERTY
def test_opening_plus_movements_is_closing(events: list[tuple[str, int, int]]) -> None:
    lines: list[tuple[AccountKind, Purpose, int]] = []
    for kind, amount, interest in events:
        lines += _mine(_entry(kind, amount, interest))
    opening = Position(5_000, 7_000)
    t = totals(lines)
    closing = close(opening, lines)
    assert closing.available == (
        opening.available
        + t[Purpose.DEPOSIT]
        - t[Purpose.WITHDRAWAL]
        - t[Purpose.ALLOCATION]
        + t[Purpose.PRINCIPAL_REPAYMENT]
        + t[Purpose.INTEREST]
    )
    assert closing.invested == (
        opening.invested
        + t[Purpose.ALLOCATION]
        - t[Purpose.PRINCIPAL_REPAYMENT]
        - t[Purpose.WRITE_OFF]
    )

"""The wallet as use cases: balances, the allocation queue's clock, refusals that change nothing.

The HTTP shape (money strings, portfolio fields, codes) is in test_wallet.py.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from bank_api.common.clock import utc_today
from bank_api.errors import InsufficientFunds
from bank_api.investments import service as wallet
from tests.support.factories import Account, make_user
from tests.support.services import account_of, failing_checks, run

pytestmark = pytest.mark.usefixtures("backend")


async def _move(app: FastAPI, use_case: object, investor: Account, amount: int) -> None:
    await run(
        app,
        use_case,  # type: ignore[arg-type]
        actor=investor.principal,
        amount=amount,
        currency="USD",
        today=utc_today(),
    )


async def test_money_joins_the_queue_when_it_rises_from_zero_and_leaves_at_zero(
    app: FastAPI,
) -> None:
    investor = await make_user(app, "investor")
    assert (await account_of(app, investor)).queued_at is None
    await _move(app, wallet.deposit, investor, 10_000)
    first = await account_of(app, investor)
    assert (first.available, first.queued_at is not None) == (10_000, True)
    await _move(app, wallet.deposit, investor, 5_000)  # topping up keeps the place in the queue
    assert (await account_of(app, investor)).queued_at == first.queued_at
    await _move(app, wallet.withdraw, investor, 15_000)
    emptied = await account_of(app, investor)
    assert (emptied.available, emptied.queued_at) == (0, None)
    await _move(app, wallet.deposit, investor, 100)  # back at the end of the queue
    assert (await account_of(app, investor)).queued_at > first.queued_at  # type: ignore[operator]
    assert await failing_checks(app) == []


async def test_withdrawing_more_than_available_raises_with_the_figures_and_moves_nothing(
    app: FastAPI,
) -> None:
    investor = await make_user(app, "investor")
    await _move(app, wallet.deposit, investor, 5_000)
    with pytest.raises(InsufficientFunds) as refused:
        await _move(app, wallet.withdraw, investor, 5_001)
    assert refused.value.data == {"available": 5_000, "requested": 5_001}
    assert (await account_of(app, investor)).available == 5_000
    assert await failing_checks(app) == []

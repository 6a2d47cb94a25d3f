"""Set-based writes: one `UPDATE ... FROM (VALUES ...)` for many rows.

The VALUES list is a CTE (`WITH v(a, b) AS (VALUES ...) UPDATE ... FROM v`), which both
PostgreSQL and SQLite accept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, column, update, values
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE


async def update_from_values(
    session: AsyncSession,
    model: Any,
    columns: Sequence[tuple[str, Any]],
    rows: Sequence[tuple[Any, ...]],
    match: Callable[[CTE], ColumnElement[bool]],
    assignments: Callable[[CTE], Mapping[str, Any]],
) -> None:
    """UPDATE `model` SET assignments(v) FROM v WHERE match(v), v being `rows` as a CTE."""
    if not rows:
        return
    v = (
        values(*(column(name, type_) for name, type_ in columns), name="v")
        .data(list(rows))
        .cte("v")
    )
    stmt = (
        update(model)
        .where(match(v))
        .values(**assignments(v))
        .add_cte(v)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)

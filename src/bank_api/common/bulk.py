"""Set-based writes of many rows in one statement whose text does not depend on the row count.

The rows become a CTE `v`: on PostgreSQL `SELECT * FROM unnest($1::uuid[], $2::bigint[], ...)`
with one array parameter per column, so the statement is compiled once, prepared once by the
driver and sent in one round trip however many rows there are; on SQLite (no arrays) a
`VALUES` list. `update_rows` is `UPDATE ... FROM v`, `insert_rows` is `INSERT ... SELECT FROM v`.

They are Core statements on the model's table, built from its columns (`table.c`), not from
the mapped attributes: a statement that mentions an ORM attribute runs through the ORM's bulk
machinery, which costs about 2 ms of CPU per statement here and does nothing for us (these
rows are never loaded into the session).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Table,
    bindparam,
    column,
    func,
    insert,
    select,
    update,
    values,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE
from sqlalchemy.types import TypeEngine

from bank_api.models.base import table_of

Columns = Sequence[tuple[str, TypeEngine[Any]]]


def rows_cte(
    session: AsyncSession, columns: Columns, rows: Sequence[Sequence[Any]], name: str = "v"
) -> CTE:
    """`rows` (tuples in the order of `columns`) as a CTE with those columns."""
    if session.get_bind().dialect.name == "postgresql":
        arrays = [
            bindparam(f"{name}_{column_name}", [row[i] for row in rows], type_=ARRAY(type_))
            for i, (column_name, type_) in enumerate(columns)
        ]
        table = (
            func.unnest(*arrays)
            .table_valued(*(column(column_name, type_) for column_name, type_ in columns))
            .render_derived(name=f"{name}_rows")
        )
        return select(table).cte(name)
    return (
        values(*(column(column_name, type_) for column_name, type_ in columns), name=name)
        .data([tuple(row) for row in rows])
        .cte(name)
    )


async def update_rows(
    session: AsyncSession,
    model: Any,
    columns: Columns,
    rows: Sequence[Sequence[Any]],
    match: Callable[[Table, CTE], ColumnElement[bool]],
    assignments: Callable[[Table, CTE], Mapping[str, Any]],
) -> None:
    """UPDATE t SET assignments(t, v) FROM v WHERE match(t, v): t the model's table, v `rows`."""
    if not rows:
        return
    table = table_of(model)
    v = rows_cte(session, columns, rows)
    stmt = update(table).where(match(table, v)).values(**assignments(table, v)).add_cte(v)
    await session.execute(stmt)


async def insert_rows(
    session: AsyncSession,
    model: Any,
    columns: Columns,
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """INSERT INTO `model` one row per `rows` entry, plus the same `constants` in each."""
    if not rows:
        return
    v = rows_cte(session, columns, rows)
    fixed = dict(constants or {})
    table = table_of(model)
    given = [
        bindparam(f"fixed_{key}", value, type_=table.c[key].type) for key, value in fixed.items()
    ]
    source = select(*(v.c[name] for name, _ in columns), *given)
    names = [name for name, _ in columns] + list(fixed)
    await session.execute(insert(table).from_select(names, source).add_cte(v))

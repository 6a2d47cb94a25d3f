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

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
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


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _array_cte(columns: Columns, name: str) -> CTE:
    arrays = [
        bindparam(f"{name}_{column_name}", type_=ARRAY(type_)) for column_name, type_ in columns
    ]
    table = (
        func.unnest(*arrays)
        .table_valued(*(column(column_name, type_) for column_name, type_ in columns))
        .render_derived(name=f"{name}_rows")
    )
    return select(table).cte(name)


def _array_params(columns: Columns, rows: Sequence[Sequence[Any]], name: str) -> dict[str, Any]:
    """The arrays of `_array_cte`: one per column."""
    return {f"{name}_{c}": [row[i] for row in rows] for i, (c, _) in enumerate(columns)}


def rows_cte(
    session: AsyncSession, columns: Columns, rows: Sequence[Sequence[Any]], name: str = "v"
) -> tuple[CTE, dict[str, Any]]:
    """`rows` (tuples in the order of `columns`) as a CTE with those columns, and the
    parameters to execute it with (PostgreSQL: one array per column; SQLite: none, the rows
    are in the statement)."""
    if is_postgres(session):
        return _array_cte(columns, name), _array_params(columns, rows, name)
    values_cte = (
        values(*(column(column_name, type_) for column_name, type_ in columns), name=name)
        .data([tuple(row) for row in rows])
        .cte(name)
    )
    return values_cte, {}


# PostgreSQL statements whose text depends only on their shape, built once per shape: building
# and hashing a CTE statement costs more CPU than executing it (bench/README.md).
_BUILT: dict[Hashable, Any] = {}


def built_once(
    session: AsyncSession,
    shape: Hashable,
    columns: Columns,
    rows: Sequence[Sequence[Any]],
    build: Callable[[CTE], Any],
) -> tuple[Any, dict[str, Any]]:
    """The statement `build(v)` over `rows` as `v`, and its parameters; on PostgreSQL built
    the first time a `shape` is seen (`build` must then take every value as a parameter)."""
    if not is_postgres(session):
        v, params = rows_cte(session, columns, rows)
        return build(v), params
    statement = _BUILT.get(shape)
    if statement is None:
        statement = _BUILT[shape] = build(_array_cte(columns, "v"))
    return statement, _array_params(columns, rows, "v")


def _shape(columns: Columns) -> tuple[tuple[str, str], ...]:
    return tuple((name, type(type_).__name__) for name, type_ in columns)


async def update_rows(
    session: AsyncSession,
    model: Any,
    columns: Columns,
    rows: Sequence[Sequence[Any]],
    *,
    key: str,
    where: Mapping[str, Any],
    add: Mapping[str, str],
    set_to: Mapping[str, Any] | None = None,
) -> None:
    """UPDATE t SET x = x + v.y (for each `add` x: y), z = u (for each `set_to` z: u) FROM v
    WHERE t.key = v.key and t.c = w (for each `where` c: w): t the model's table, v `rows`.
    Built once per shape, like `insert_rows`: only `rows` and the `where` and `set_to` values
    vary between calls."""
    if not rows:
        return
    table = table_of(model)

    def build(v: CTE) -> Any:
        match = [table.c[key] == v.c[key]] + [
            table.c[name] == bindparam(f"where_{name}", type_=table.c[name].type) for name in where
        ]
        increments = {target: table.c[target] + v.c[source] for target, source in add.items()}
        fixed = {name: bindparam(f"set_{name}", type_=table.c[name].type) for name in given}
        return update(table).where(*match).values(**increments, **fixed).add_cte(v)

    given = dict(set_to or {})
    shape = ("update", table.name, _shape(columns), key, tuple(where), tuple(add.items()))
    stmt, params = built_once(session, (*shape, tuple(given)), columns, rows, build)
    params.update({f"where_{name}": value for name, value in where.items()})
    params.update({f"set_{name}": value for name, value in given.items()})
    await session.execute(stmt, params)


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
    fixed = dict(constants or {})
    table = table_of(model)

    def build(v: CTE) -> Any:
        given = [bindparam(f"fixed_{key}", type_=table.c[key].type) for key in fixed]
        source = select(*(v.c[name] for name, _ in columns), *given)
        names = [name for name, _ in columns] + list(fixed)
        return insert(table).from_select(names, source).add_cte(v)

    shape = ("insert", table.name, _shape(columns), tuple(fixed))
    stmt, params = built_once(session, shape, columns, rows, build)
    params.update({f"fixed_{key}": value for key, value in fixed.items()})
    await session.execute(stmt, params)

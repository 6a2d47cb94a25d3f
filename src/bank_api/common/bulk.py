"""Set-based writes of many rows in one statement whose text does not depend on the row count.

The rows become a CTE `v`: on PostgreSQL `SELECT * FROM unnest($1::uuid[], $2::bigint[], ...)`
with one array parameter per column, so the statement is compiled once, prepared once by the
driver and sent in one round trip however many rows there are; on SQLite (no arrays) a
`VALUES` list. A repository describes a write (`Write`: `updating` is `UPDATE ... FROM v`,
`inserting` is `INSERT ... SELECT FROM v`; a use case's own few rows, with their values as
parameters: `new_rows` inserts new mapped instances, `row_update` changes one row by key) and
`write` sends it, alone or with the other writes of the same step of a use case, which
PostgreSQL then runs as one statement (`write_one` when the use case needs a row from each of
them: a deposit's entry id and the balances after it).

They are Core statements on the model's table, built from its columns (`table.c`), not from
the mapped attributes: a statement that mentions an ORM attribute runs through the ORM's bulk
machinery, which costs about 2 ms of CPU per statement here and does nothing for us. The
session does not see these writes: a loaded instance a write changes is given the same values
as already stored (`history.change_written`), so its flush does not write them again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    bindparam,
    column,
    func,
    insert,
    inspect,
    select,
    true,
    union_all,
    update,
    values,
)
from sqlalchemy.engine import CursorResult, Dialect, Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlalchemy.sql.selectable import CTE
from sqlalchemy.types import TypeDecorator, TypeEngine

from bank_api.models.base import table_of

Columns = Sequence[tuple[str, TypeEngine[Any]]]


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class _Array(TypeDecorator[list[Any]]):
    """An array parameter of `item_type`, handed to the driver as the list it is when the item
    type needs no conversion (integers, UUIDs, dates, text): SQLAlchemy's own array type walks
    every element in Python even then (a payment -0.8 %, an approval -0.7 % of instructions;
    docs/DECISIONS.md, "Rows read without the ORM"). The statement is the same (`$1::UUID[]`)."""

    impl = ARRAY
    cache_ok = True

    def __init__(self, item_type: TypeEngine[Any]) -> None:
        super().__init__(item_type)
        self.item_type = item_type  # part of the statement cache's key

    def bind_processor(self, dialect: Dialect) -> Any:
        if self.item_type.dialect_impl(dialect).bind_processor(dialect) is None:
            return None
        return super().bind_processor(dialect)


def _array_cte(columns: Columns, name: str) -> CTE:
    arrays = [
        bindparam(f"{name}_{column_name}", type_=_Array(type_)) for column_name, type_ in columns
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


def _values_cte(columns: Columns, rows: Sequence[Sequence[Any]]) -> CTE:
    """SQLite (no arrays): `rows` as a `VALUES` list in the statement."""
    return (
        values(*(column(column_name, type_) for column_name, type_ in columns), name="v")
        .data([tuple(row) for row in rows])
        .cte("v")
    )


@dataclass(frozen=True)
class Write:
    """One set-based write, built but not sent: its statement is `build(v)`, with `rows` (tuples
    in the order of `columns`) as the CTE `v` and `params` as its other parameters. `shape`
    names everything the statement's text depends on (the rows and parameters do not), so
    PostgreSQL's statement is built once per shape. `sqlite`, when given, does the write on
    SQLite instead (for a write that needs more than one statement there) and returns the rows
    the statement would."""

    shape: Hashable
    columns: Columns
    rows: Sequence[Sequence[Any]]
    build: Callable[[Any], Any]
    """The statement, given the rows' CTE (None for a write without `columns`)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    sqlite: Callable[[AsyncSession], Awaitable[Sequence[Any]]] | None = None

    @classmethod
    def one(cls, shape: Hashable, build: Callable[[], Any], params: Mapping[str, Any]) -> Write:
        """A write whose values are all in `params` (no rows CTE): its statement is `build()`."""
        return cls(shape, (), ((),), lambda _: build(), params)


async def write(session: AsyncSession, *writes: Write) -> Sequence[Any]:
    """Send `writes`, in order; the rows the last one returns (none when it has no rows).
    Writes without rows are left out.

    PostgreSQL: one statement, one round trip. The last write is the statement and the others
    its data-modifying CTEs, each over rows of its own (`v0`, `v1`, ...). PostgreSQL runs every
    one to completion, all in the statement's snapshot: no write may read what another one of
    them writes (a foreign key is checked at the end of the statement, so a row may refer to a
    row another of them inserts). Two writes may share a parameter only with the same value.
    SQLite: one statement per write."""
    sent = [w for w in writes if w.rows]
    if not sent:
        return []
    params = _parameters(sent)  # checked on SQLite too: the same code runs on both
    if not is_postgres(session):
        for each in sent:
            rows = await _on_sqlite(session, each)
    else:
        statement = _built(tuple(each.shape for each in sent), lambda: _last_with_ctes(sent))
        rows = _returned(await session.execute(statement, params))
    return rows if writes[-1].rows else []


async def write_one(session: AsyncSession, *writes: Write) -> Sequence[Any] | None:
    """Send `writes`, in order, each returning one row or none: their rows side by side (the
    first's columns, then the second's, ...), or None when one of them returned none (all of
    them ran all the same: the caller rolls back).

    PostgreSQL: one statement, one round trip, every write a data-modifying CTE (as in
    `write`) and the statement the rows they return, joined. SQLite: one statement per write."""
    params = _parameters(writes)
    if not is_postgres(session):
        rows = [await _on_sqlite(session, each) for each in writes]
        return tuple(value for each in rows for value in each[0]) if all(rows) else None
    shape = ("side by side", *(each.shape for each in writes))
    statement = _built(shape, lambda: _side_by_side(writes))
    return (await session.execute(statement, params)).first()


# PostgreSQL statements whose text depends only on their shape, built once per shape: building
# and hashing a CTE statement costs more CPU than executing it (bench/README.md).
_BUILT: dict[Hashable, Any] = {}


def _built(shape: Hashable, build: Callable[[], Any]) -> Any:
    statement = _BUILT.get(shape)
    if statement is None:
        statement = _BUILT[shape] = build()
    return statement


def _last_with_ctes(writes: Sequence[Write]) -> Any:
    *before, last = writes
    statement = last.build(_rows(last, len(before)))
    for number, each in enumerate(before):
        statement = statement.add_cte(each.build(_rows(each, number)).cte(f"w{number}"))
    return statement


def _side_by_side(writes: Sequence[Write]) -> Any:
    ctes = [each.build(_rows(each, number)).cte(f"w{number}") for number, each in enumerate(writes)]
    joined = ctes[0]
    for cte in ctes[1:]:
        joined = joined.join(cte, true())  # a row each: their one row side by side, or none
    return select(*(c for cte in ctes for c in cte.c)).select_from(joined)


async def _on_sqlite(session: AsyncSession, each: Write) -> Sequence[Any]:
    """One write on SQLite (no data-modifying CTEs): its own statement, or its `sqlite`."""
    if each.sqlite is not None:
        return await each.sqlite(session)
    v = _values_cte(each.columns, each.rows) if each.columns else None
    return _returned(await session.execute(each.build(v), dict(each.params)))


def _returned(result: Result[Any]) -> Sequence[Any]:
    """The rows a Core write returned (its result is a cursor's), if it returns any."""
    cursor = cast(CursorResult[Any], result)
    return cursor.all() if cursor.returns_rows else []


def _rows(each: Write, number: int) -> CTE | None:
    return _array_cte(each.columns, f"v{number}") if each.columns else None


def _parameters(writes: Sequence[Write]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for number, each in enumerate(writes):
        own = _array_params(each.columns, each.rows, f"v{number}") | dict(each.params)
        for name, value in own.items():
            if params.setdefault(name, value) != value:
                raise ValueError(f"two writes sent together give {name!r} different values")
    return params


def _constant_defaults(table: Any, given: set[str]) -> dict[str, Any]:
    """The constant defaults of `table`'s columns that are not in `given`."""
    return {
        c.name: c.default.arg
        for c in table.columns
        if c.name not in given and isinstance(c.default, ScalarElementColumnDefault)
    }


def row_of(instance: Any) -> dict[str, Any]:
    """A new mapped `instance`'s row, for a Core insert: its column values, with the columns'
    constant defaults for those it leaves unset (set on it too, so it shows what is stored)."""
    table = table_of(type(instance))
    given = inspect(instance).dict  # the values set, without the attributes' machinery
    values = {c.name: given.get(c.name) for c in table.columns}
    defaults = _constant_defaults(table, {name for name, v in values.items() if v is not None})
    for name, value in defaults.items():
        setattr(instance, name, value)
    return values | defaults


def new_rows(prefix: str, *instances: Any) -> Write:
    """The write of new mapped `instances` of one model as plain rows (`row_of`), not through
    the session: one INSERT of them in their order (so ids the database numbers follow it).
    Its parameters are named `<prefix><n>_<column>`, so that several such writes go in one
    statement. A primary key left unset is the database's to number."""
    table = table_of(type(instances[0]))
    rows = [row_of(instance) for instance in instances]
    numbered = {c.name for c in table.primary_key.columns if rows[0][c.name] is None}
    names = [name for name in rows[0] if name not in numbered]
    key = ("insert", table.name, prefix, len(rows), *names)

    def build() -> Any:
        # INSERT ... SELECT ... UNION ALL SELECT ...: the rows in this order, and unlike a
        # VALUES list of several rows, a statement SQLAlchemy can cache. Each parameter's type
        # is stated (SQLAlchemy casts them on asyncpg); an enum is a VARCHAR (`enum_column`).
        selects = [
            select(*(bindparam(f"{prefix}{n}_{name}", type_=table.c[name].type) for name in names))
            for n in range(len(rows))
        ]
        return insert(table).from_select(
            names, union_all(*selects) if len(rows) > 1 else selects[0]
        )

    params = {f"{prefix}{n}_{name}": row[name] for n, row in enumerate(rows) for name in names}
    return Write.one(key, build, params)


def row_update(model: Any, key: Any, values: Mapping[str, Any], prefix: str) -> Write:
    """The write of `values` (column: value) on the row of `model` whose primary key is
    `key`, its parameters named `<prefix>_<column>` (the key's `<prefix>_key`)."""
    table = table_of(model)
    (primary,) = table.primary_key.columns
    shape = ("update", table.name, prefix, *values)

    def build() -> Any:
        key_param = bindparam(f"{prefix}_key", type_=primary.type)
        changed = {name: bindparam(f"{prefix}_{name}", type_=table.c[name].type) for name in values}
        return update(table).where(primary == key_param).values(changed)

    params = {f"{prefix}_{name}": value for name, value in values.items()}
    return Write.one(shape, build, params | {f"{prefix}_key": key})


def _shape(columns: Columns) -> tuple[tuple[str, str], ...]:
    return tuple((name, type(type_).__name__) for name, type_ in columns)


def updating(
    model: Any,
    columns: Columns,
    rows: Sequence[Sequence[Any]],
    *,
    key: str,
    where: Mapping[str, Any],
    add: Mapping[str, str],
    set_to: Mapping[str, Any] | None = None,
) -> Write:
    """UPDATE t SET x = x + v.y (for each `add` x: y), z = u (for each `set_to` z: u) FROM v
    WHERE t.key = v.key and t.c = w (for each `where` c: w): t the model's table, v `rows`.
    Only `rows` and the `where` and `set_to` values vary between calls of one shape."""
    table = table_of(model)
    given = dict(set_to or {})

    def build(v: CTE) -> Any:
        match = [table.c[key] == v.c[key]] + [
            table.c[name] == bindparam(f"where_{name}", type_=table.c[name].type) for name in where
        ]
        increments = {target: table.c[target] + v.c[source] for target, source in add.items()}
        fixed = {name: bindparam(f"set_{name}", type_=table.c[name].type) for name in given}
        return update(table).where(*match).values(**increments, **fixed).add_cte(v)

    shape = ("update", table.name, _shape(columns), key, tuple(where), tuple(add.items()))
    params = {f"where_{name}": value for name, value in where.items()}
    params |= {f"set_{name}": value for name, value in given.items()}
    return Write((*shape, tuple(given)), columns, rows, build, params)


def inserting(
    model: Any,
    columns: Columns,
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> Write:
    """INSERT INTO `model` one row per `rows` entry, plus the same `constants` in each, and the
    columns' own constant defaults for the columns neither gives (SQLAlchemy fills those in
    only for the statement it sends, not for one sent as another's CTE)."""
    table = table_of(model)
    fixed = dict(constants or {})
    fixed |= _constant_defaults(table, {name for name, _ in columns} | set(fixed))

    def build(v: CTE) -> Any:
        given = [bindparam(f"fixed_{key}", type_=table.c[key].type) for key in fixed]
        source = select(*(v.c[name] for name, _ in columns), *given)
        names = [name for name, _ in columns] + list(fixed)
        return insert(table).from_select(names, source).add_cte(v)

    shape = ("insert", table.name, _shape(columns), tuple(fixed))
    params = {f"fixed_{key}": value for key, value in fixed.items()}
    return Write(shape, columns, rows, build, params)

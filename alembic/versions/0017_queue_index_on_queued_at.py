"""the allocation queue's index keyed on `queued_at`, so balance updates are heap-only

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

The queue's partial index was `WHERE available > 0`. A column in an index's predicate makes
PostgreSQL write a new entry in every index of the table for each update that changes it, so
no update of an investor's balances was heap-only (HOT): a payment to 45 investors inserted 90
index entries for them. `queued_at` is NULL exactly when `available` is zero (money falling to
zero leaves the queue, money rising from zero joins it), so `WHERE queued_at IS NOT NULL` holds
the same rows, and an update that leaves `queued_at` as it was (a payment's credit, a deposit to
money already waiting) touches no index. A CHECK constraint now holds that equivalence, and the
rows are brought into line with it first. Standalone on purpose (no application imports).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_investor_account_queue"
CHECK = "ck_investor_account_queued_while_available"


def _queue_index(predicate: str) -> None:
    op.create_index(
        INDEX,
        "investor_account",
        ["queued_at", "investor_id"],
        postgresql_where=sa.text(predicate),
        sqlite_where=sa.text(predicate),
    )


def upgrade() -> None:
    op.execute("UPDATE investor_account SET queued_at = NULL WHERE available = 0")
    op.execute(
        "UPDATE investor_account SET queued_at = coalesce(last_funded_at, updated_at)"
        " WHERE available > 0 AND queued_at IS NULL"
    )
    op.drop_index(INDEX, table_name="investor_account")
    with op.batch_alter_table("investor_account") as batch:
        batch.create_check_constraint(op.f(CHECK), sa.text("(available = 0) = (queued_at IS NULL)"))
    _queue_index("queued_at IS NOT NULL")


def downgrade() -> None:
    op.drop_index(INDEX, table_name="investor_account")
    with op.batch_alter_table("investor_account") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
    _queue_index("available > 0")

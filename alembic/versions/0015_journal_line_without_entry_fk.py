"""journal lines keep their entry's id without a foreign key

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

PostgreSQL checks a foreign key once per inserted row, by a query of its own, and a payment
inserts a journal line for every part of every investor's share (about 135 for a loan funded
by 45 investors). That check was about a third of the database's work for a payment. A line is
only ever inserted by the statement that inserts its entry, and `ledger verify` now checks that
every line has its entry (`lines_belong_to_entries`), so the key goes. Standalone on purpose
(no application imports).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_journal_line_entry_id_journal_entry"


def upgrade() -> None:
    with op.batch_alter_table("journal_line") as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("journal_line") as batch:
        batch.create_foreign_key(FOREIGN_KEY, "journal_entry", ["entry_id"], ["id"])

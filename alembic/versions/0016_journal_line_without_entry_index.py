"""journal lines without an index by entry

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

The index on `journal_line.entry_id` served the foreign key to the entry, which migration 0015
removed. Nothing else looks lines up by their entry: `ledger verify` reads every line and
groups them, which PostgreSQL does without it. Every money write inserts one index entry per
line (about 185 for a payment to 45 investors), and the index was 39 MB after the bench's full
run. Standalone on purpose (no application imports).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journal_line") as batch:
        batch.drop_index("ix_journal_line_entry")


def downgrade() -> None:
    with op.batch_alter_table("journal_line") as batch:
        batch.create_index("ix_journal_line_entry", ["entry_id"], unique=False)

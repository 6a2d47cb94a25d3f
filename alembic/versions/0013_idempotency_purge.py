"""idempotency records purged by age

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

`bank-api idempotency purge` deletes the records older than a retention (at least 24 hours,
the contract's promise) in batches; an index on `created_at` makes each batch a range scan
instead of a scan of every record ever stored. Standalone on purpose.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_idempotency_record_created_at", "idempotency_record", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_record_created_at", table_name="idempotency_record")

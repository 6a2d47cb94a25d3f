"""credit pool and ledger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('business_date',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Date(), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_business_date_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_date'))
    )
    op.create_table('idempotency_record',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idempotency_record_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_record'))
    )
    op.create_table('investor_account',
    sa.Column('investor_id', sa.Uuid(), nullable=False),
    sa.Column('available', sa.BigInteger(), nullable=False),
    sa.Column('invested', sa.BigInteger(), nullable=False),
    sa.Column('interest_earned', sa.BigInteger(), nullable=False),
    sa.Column('losses', sa.BigInteger(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('available >= 0', name=op.f('ck_investor_account_available_not_negative')),
    sa.CheckConstraint('interest_earned >= 0', name=op.f('ck_investor_account_interest_not_negative')),
    sa.CheckConstraint('invested >= 0', name=op.f('ck_investor_account_invested_not_negative')),
    sa.CheckConstraint('losses >= 0', name=op.f('ck_investor_account_losses_not_negative')),
    sa.ForeignKeyConstraint(['investor_id'], ['user_account.id'], name=op.f('fk_investor_account_investor_id_user_account')),
    sa.PrimaryKeyConstraint('investor_id', name=op.f('pk_investor_account'))
    )
    with op.batch_alter_table('investor_account', schema=None) as batch_op:
        batch_op.create_index('ix_investor_account_queue', ['queued_at', 'investor_id'], unique=False, postgresql_where=sa.text('available > 0'), sqlite_where=sa.text('available > 0'))

    op.create_table('allocation',
    sa.Column('loan_id', sa.Uuid(), nullable=False),
    sa.Column('investor_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('principal_received', sa.BigInteger(), nullable=False),
    sa.Column('interest_received', sa.BigInteger(), nullable=False),
    sa.Column('loss', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_allocation_amount_positive')),
    sa.CheckConstraint('interest_received >= 0', name=op.f('ck_allocation_interest_not_negative')),
    sa.CheckConstraint('principal_received >= 0 AND loss >= 0 AND principal_received + loss <= amount', name=op.f('ck_allocation_principal_bounds')),
    sa.ForeignKeyConstraint(['investor_id'], ['user_account.id'], name=op.f('fk_allocation_investor_id_user_account')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_allocation_loan_id_loan')),
    sa.PrimaryKeyConstraint('loan_id', 'investor_id', name=op.f('pk_allocation'))
    )
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.create_index('ix_allocation_investor', ['investor_id', 'created_at'], unique=False)

    op.create_table('installment',
    sa.Column('loan_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=False),
    sa.Column('paid_principal', sa.BigInteger(), nullable=False),
    sa.Column('paid_interest', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('paid_principal >= 0 AND paid_principal <= principal AND paid_interest >= 0 AND paid_interest <= interest', name=op.f('ck_installment_paid_bounds')),
    sa.CheckConstraint('principal >= 0 AND interest >= 0', name=op.f('ck_installment_parts_not_negative')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_installment_loan_id_loan')),
    sa.PrimaryKeyConstraint('loan_id', 'number', name=op.f('pk_installment'))
    )
    with op.batch_alter_table('installment', schema=None) as batch_op:
        batch_op.create_index('ix_installment_due', ['due_date'], unique=False)

    op.create_table('payment',
    sa.Column('loan_id', sa.Uuid(), nullable=False),
    sa.Column('payer_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=False),
    sa.Column('applied', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('amount > 0 AND principal >= 0 AND interest >= 0', name=op.f('ck_payment_amounts')),
    sa.CheckConstraint('principal + interest = amount', name=op.f('ck_payment_parts_add_up')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_payment_loan_id_loan')),
    sa.ForeignKeyConstraint(['payer_id'], ['user_account.id'], name=op.f('fk_payment_payer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_loan', ['loan_id', 'created_at'], unique=False)

    op.create_table('journal_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('deposit', 'withdrawal', 'disbursement', 'payment', 'write_off', name='entry_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('investor_id', sa.Uuid(), nullable=True),
    sa.Column('loan_id', sa.Uuid(), nullable=True),
    sa.Column('payment_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['investor_id'], ['user_account.id'], name=op.f('fk_journal_entry_investor_id_user_account')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_journal_entry_loan_id_loan')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_journal_entry_payment_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entry_loan', ['loan_id'], unique=False)

    op.create_table('journal_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_kind', sa.Enum('external', 'investor_available', 'investor_invested', 'loan_receivable', name='account_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.Enum('deposit', 'withdrawal', 'allocation', 'payout', 'principal_repayment', 'interest', 'write_off', name='purpose', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('loan_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_journal_line_amount_not_zero')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_journal_line_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_line'))
    )
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.create_index('ix_journal_line_account', ['account_kind', 'owner_id', 'id'], unique=False)
        batch_op.create_index('ix_journal_line_entry', ['entry_id'], unique=False)

    # Every investor has a stored-balance row; create them for investors registered earlier.
    op.execute(
        "INSERT INTO investor_account "
        "(investor_id, available, invested, interest_earned, losses, updated_at) "
        "SELECT id, 0, 0, 0, 0, CURRENT_TIMESTAMP FROM user_account WHERE role = 'investor'"
    )


def downgrade() -> None:
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_line_entry')
        batch_op.drop_index('ix_journal_line_account')

    op.drop_table('journal_line')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_loan')

    op.drop_table('journal_entry')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_loan')

    op.drop_table('payment')
    with op.batch_alter_table('installment', schema=None) as batch_op:
        batch_op.drop_index('ix_installment_due')

    op.drop_table('installment')
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_index('ix_allocation_investor')

    op.drop_table('allocation')
    with op.batch_alter_table('investor_account', schema=None) as batch_op:
        batch_op.drop_index('ix_investor_account_queue', postgresql_where=sa.text('available > 0'), sqlite_where=sa.text('available > 0'))

    op.drop_table('investor_account')
    op.drop_table('idempotency_record')
    op.drop_table('business_date')

"""cancellation, ICS sequence, round-robin credit-back, reminders, webhooks

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queues') as batch:
        batch.add_column(sa.Column('credit_back_on_cancel', sa.Boolean(), server_default='1', nullable=False))
        batch.add_column(sa.Column('reminder_minutes', sa.String(length=100), server_default='1440,60', nullable=False))
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('sequence', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('cancelled_at', bot.store.models.UTCDateTime(), nullable=True))
    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('events', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('webhooks')
    with op.batch_alter_table('bookings') as batch:
        batch.drop_column('cancelled_at')
        batch.drop_column('sequence')
    with op.batch_alter_table('queues') as batch:
        batch.drop_column('reminder_minutes')
        batch.drop_column('credit_back_on_cancel')

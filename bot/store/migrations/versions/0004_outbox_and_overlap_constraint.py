"""transactional outbox; on Postgres, an exclusion constraint against overlapping bookings

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

#: Belt and braces on Postgres: besides the booking_blocks primary key (which works on every
#: database), no two pending/confirmed bookings of one agent may overlap in time at all.
EXCLUDE = (
    'ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist '
    '(agent_id WITH =, tsrange(start, "end") WITH &&) WHERE (status IN (\'pending\', \'confirmed\'))'
)


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=500), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('locked_until', bot.store.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('sent_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        op.execute(EXCLUDE)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')

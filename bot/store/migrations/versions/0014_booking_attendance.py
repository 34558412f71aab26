"""whether a past meeting was held or the visitor did not come (no-show), as its agent marked it,
and when; existing bookings start unmarked

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('attendance', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('attendance_at', bot.store.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bookings') as batch:
        batch.drop_column('attendance_at')
        batch.drop_column('attendance')

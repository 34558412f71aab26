"""a calendar connection's health: when its calendar was last read successfully
(last_ok_at) and when the last error happened (last_error_at), so the portal can tell an agent
whose calendar cannot be read right now; existing connections start with neither known

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calendar_connections') as batch:
        batch.add_column(sa.Column('last_ok_at', bot.store.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('last_error_at', bot.store.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calendar_connections') as batch:
        batch.drop_column('last_error_at')
        batch.drop_column('last_ok_at')

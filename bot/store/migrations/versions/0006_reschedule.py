"""reschedule: an offer may be a new time for an existing booking

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('offers') as batch:
        batch.add_column(sa.Column('moves_booking', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('offers') as batch:
        batch.drop_column('moves_booking')

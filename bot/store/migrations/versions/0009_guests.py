"""guests on a booking (and on a local calendar event); a queue's limit of guests per booking

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # server_default: bookings and events made before this read as having no guests
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('guests', sa.Text(), server_default='[]', nullable=False))
    with op.batch_alter_table('calendar_events') as batch:
        batch.add_column(sa.Column('guests', sa.Text(), server_default='[]', nullable=False))
    with op.batch_alter_table('queues') as batch:
        batch.add_column(sa.Column('max_guests', sa.Integer(), server_default='10', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('queues') as batch:
        batch.drop_column('max_guests')
    with op.batch_alter_table('calendar_events') as batch:
        batch.drop_column('guests')
    with op.batch_alter_table('bookings') as batch:
        batch.drop_column('guests')

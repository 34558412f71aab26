"""an agent's own buffers and notice (the larger of the agent's and the queue's applies)

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.add_column(sa.Column('buffer_before_minutes', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('buffer_after_minutes', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('min_notice_minutes', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.drop_column('min_notice_minutes')
        batch.drop_column('buffer_after_minutes')
        batch.drop_column('buffer_before_minutes')

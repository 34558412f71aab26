"""portal accounts (admins, agents) and sign-in attempts

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agent_id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('signin_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('at', bot.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_signin_email_at', 'signin_attempts', ['email', 'at'], unique=False)
    op.create_index('ix_signin_ip_at', 'signin_attempts', ['ip', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_signin_ip_at', table_name='signin_attempts')
    op.drop_index('ix_signin_email_at', table_name='signin_attempts')
    op.drop_table('signin_attempts')
    op.drop_table('accounts')

"""Alembic environment: runs on the connection that ``bot.store.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from bot.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via bot.store.migrate
    raise RuntimeError("run migrations with `python -m bot migrate`")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

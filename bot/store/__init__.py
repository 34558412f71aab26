"""Persistence: models, engine/session factory, migrations."""

from bot.store.db import Store, migrate

__all__ = ["Store", "migrate"]

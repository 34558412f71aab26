from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.booking import BookingService
from bot.calendars.local import LocalCalendar
from bot.messages.outbox import FileOutbox
from bot.ops import runtime
from bot.settings import Settings
from bot.store import Store
from tests.helpers import Clock, utc


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", public_url="http://localhost:8000")


@pytest.fixture
def store(settings: Settings) -> Store:
    s = Store(settings.db_url)
    s.migrate()
    yield s
    s.dispose()


@pytest.fixture
def clock() -> Clock:
    # Tuesday 1 December 2026, 08:00 UTC.
    return Clock(utc(2026, 12, 1, 8, 0))


@pytest.fixture
def service(store: Store, settings: Settings, clock: Clock) -> BookingService:
    svc = BookingService(
        store,
        {"local": LocalCalendar(store, settings.public_url)},
        FileOutbox(settings.outbox_dir),
        offer_ttl=timedelta(minutes=15),
        clock=clock,
    )
    runtime.use_service(svc)
    yield svc
    runtime.use_service(None)
    svc.close()

"""Wiring: settings → store → providers → outbox → booking service. Built lazily, once."""

from __future__ import annotations

import threading
from datetime import timedelta

from bot.booking import BookingService
from bot.calendars.local import LocalCalendar
from bot.messages.outbox import make_outbox
from bot.settings import Settings, load_settings
from bot.store import Store

_lock = threading.Lock()
_service: BookingService | None = None


def build_service(settings: Settings, store: Store | None = None) -> BookingService:
    store = store or Store(settings.db_url)
    return BookingService(
        store,
        {"local": LocalCalendar(store, settings.public_url)},
        make_outbox(settings.smtp_url, settings.outbox_dir),
        mail_from=settings.mail_from,
        default_queue=settings.default_queue,
        offer_ttl=timedelta(minutes=settings.offer_ttl_minutes),
        provider_timeout=settings.provider_timeout_seconds,
    )


def service() -> BookingService:
    """The process-wide service, built on first use from the environment."""
    global _service
    with _lock:
        if _service is None:
            _service = build_service(load_settings())
        return _service


def use_service(svc: BookingService | None) -> None:
    """Swap the process-wide service (tests)."""
    global _service
    with _lock:
        _service = svc

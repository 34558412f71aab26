"""The one object the parts of the booking service share: where bookings are stored, the
calendar providers, the outbox, the settings of the booking path and the clock."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from bot.calendars.base import CalendarProvider
from bot.messages.delivery import Delivery
from bot.store import Store

#: (booking id, sequence, start, end, "cancel" | "reschedule") → a signed link for the e-mails
ManageLink = Callable[[str, int, datetime, datetime, str], str]


@dataclass
class Context:
    store: Store
    providers: Mapping[str, CalendarProvider]
    #: Confirmations are queued with the booking's commit and delivered from the outbox.
    delivery: Delivery
    mail_from: str
    default_queue: str
    offer_ttl: timedelta
    provider_timeout: float
    page_size: int
    clock: Callable[[], datetime]
    #: a signed link for the e-mails, if the app serves the pages
    manage_link: ManageLink | None
    #: routing rules (routing.yml): which queue a visitor meets, or none; None: the page's queue
    routing: Any = None
    #: calendar look-ups run here, concurrently, each with ``provider_timeout``
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="calendar")
    )

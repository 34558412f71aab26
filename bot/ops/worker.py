"""The background worker: delivers the outbox and settles interrupted bookings.

Runs inside the web process by default (``WEB_RUNS_WORKER=1``), or on its own as
``python -m bot worker`` (the scaled topology). Any number of workers may run at once: outbox
rows are claimed one UPDATE at a time and a booking is confirmed or released by a conditional
UPDATE, so nothing is sent or settled twice.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from bot.booking import BookingService
from bot.settings import Settings

log = logging.getLogger(__name__)

#: How often the reconciler looks for interrupted bookings.
RECONCILE_EVERY = 10.0


class Worker:
    def __init__(self, service: BookingService, settings: Settings):
        self.service = service
        self.interval = max(0.05, settings.worker_interval_seconds)
        self.reconcile_after = timedelta(seconds=settings.reconcile_after_seconds)
        self._next_reconcile = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> tuple[int, dict[str, list[str]] | None]:
        """One round: deliver what is due; every RECONCILE_EVERY seconds, settle stale bookings."""
        settled = None
        if time.monotonic() >= self._next_reconcile:
            self._next_reconcile = time.monotonic() + RECONCILE_EVERY
            settled = self.service.reconcile(self.reconcile_after)
        sent = self.service.delivery.deliver_due()
        return sent, settled

    def run(self) -> None:
        log.info("worker: delivering the outbox every %.1f s", self.interval)
        while not self._stop.is_set():
            try:
                sent, settled = self.tick()
                if sent:
                    log.info("worker: delivered %d message(s)", sent)
                if settled and (settled["confirmed"] or settled["released"]):
                    log.warning(
                        "worker: settled interrupted bookings: %d confirmed, %d released",
                        len(settled["confirmed"]),
                        len(settled["released"]),
                    )
            except Exception:  # a database blip must not end the worker
                log.exception("worker round failed; trying again")
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="outbox-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

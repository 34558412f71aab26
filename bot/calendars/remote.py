"""What the OAuth calendar providers (Google, Microsoft) share: the agent's connection, marking
it as needing reconnection, a retry budget, and a short per-agent busy-time cache."""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.calendars.base import AgentRef
from bot.crypto import Vault
from bot.errors import ProviderAuthError, ProviderError, ProviderUnavailable
from bot.scheduling import Busy
from bot.scheduling.engine import to_minute
from bot.store import Store
from bot.store.models import CalendarConnection

log = logging.getLogger(__name__)


class Backoff:
    """Waits between retries: ``Retry-After`` when given, else exponential with jitter; gives up
    (ProviderUnavailable) before the total wait would pass the budget — a visitor is waiting."""

    def __init__(self, budget: float, sleep: Callable[[float], None], provider: str, agent_id: int):
        self.budget, self.sleep, self.provider, self.agent_id = budget, sleep, provider, agent_id
        self.started, self.waited, self.attempt = time.monotonic(), 0.0, 0

    def wait(self, retry_after: float | None = None) -> None:
        delay = retry_after if retry_after is not None else min(2.0, 0.25 * 2**self.attempt) * random.uniform(0.5, 1.5)
        # The slept total counts too, so the budget holds with any sleep function.
        if max(time.monotonic() - self.started, self.waited) + delay > self.budget:
            raise ProviderUnavailable(
                f"{self.provider} did not answer in time", provider=self.provider, agent_id=self.agent_id
            )
        self.sleep(delay)
        self.waited += delay
        self.attempt += 1


class RemoteCalendar:
    name = "remote"
    label = "calendar"
    sends_invitations = True

    def __init__(
        self,
        store: Store,
        vault: Vault,
        config: Any,  # GoogleConfig | MicrosoftConfig: retry_budget, busy_ttl, timeout, ...
        *,
        on_needs_reconnect: Callable[[int, str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store = store
        self.vault = vault
        self.config = config
        self.retry_budget = config.retry_budget
        self.busy_ttl = config.busy_ttl
        self.on_needs_reconnect = on_needs_reconnect
        self.sleep = sleep
        self._lock = threading.Lock()
        self._busy_cache: dict[int, tuple[float, datetime, datetime, Busy]] = {}
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix=self.name)
        self._setup()

    def _setup(self) -> None:
        """Provider-specific clients (after the shared state exists)."""

    def _connection(self, agent_id: int) -> CalendarConnection:
        with self.store.session() as s:
            conn = s.execute(
                select(CalendarConnection).where(
                    CalendarConnection.agent_id == agent_id, CalendarConnection.provider == self.name
                )
            ).scalar_one_or_none()
        if conn is None or conn.status != "connected":
            raise ProviderAuthError("calendar not connected", provider=self.name, agent_id=agent_id)
        return conn

    def _backoff(self, agent_id: int) -> Backoff:
        return Backoff(self.retry_budget, self.sleep, self.name, agent_id)

    def _mark_needs_reconnect(self, agent_id: int, error: str) -> None:
        with self.store.session() as s:
            conn = s.execute(
                select(CalendarConnection).where(CalendarConnection.agent_id == agent_id)
            ).scalar_one_or_none()
            if conn is None or conn.status == "needs_reconnect":
                return
            conn.status = "needs_reconnect"
            conn.last_error = error[:500]
        log.warning("%s of agent %s needs reconnecting: %s", self.label, agent_id, error)
        if self.on_needs_reconnect is not None:
            try:
                self.on_needs_reconnect(agent_id, error)
            except Exception:
                log.exception("could not tell agent %s to reconnect", agent_id)

    # ---- busy ---------------------------------------------------------------------------------------
    def _fetch_busy(self, agent_id: int, start: datetime, end: datetime) -> Busy:
        raise NotImplementedError

    def _health(self, agent_id: int, error: str | None) -> None:
        """Remember the last good read, or the last failed one and why (shown in the portal)."""
        now = datetime.now(timezone.utc)
        values = {"last_ok_at": now} if error is None else {"last_error_at": now, "last_error": error[:500]}
        try:
            with self.store.session() as s:
                s.execute(update(CalendarConnection).where(CalendarConnection.agent_id == agent_id).values(**values))
        except SQLAlchemyError as exc:  # health is a courtesy; never fail a visitor's turn for it
            log.warning("could not record the calendar health of agent %s: %s", agent_id, type(exc).__name__)

    def _busy_one(self, agent_id: int, start: datetime, end: datetime) -> Busy:
        now = time.monotonic()
        with self._lock:
            hit = self._busy_cache.get(agent_id)
        if hit is None or now - hit[0] > self.busy_ttl or hit[1] > start or hit[2] < end:
            try:
                busy = self._fetch_busy(agent_id, start, end)
            except ProviderAuthError:
                raise  # needs_reconnect already says it
            except ProviderError as exc:
                self._health(agent_id, str(exc))
                raise
            self._health(agent_id, None)
            with self._lock:
                self._busy_cache[agent_id] = (now, start, end, busy)
        else:
            busy = hit[3]
        lo, hi = to_minute(start), to_minute(end, ceil=True)
        keep = (busy.starts < hi) & (busy.ends > lo)
        return Busy(busy.starts[keep], busy.ends[keep])

    def busy(self, agents: Sequence[AgentRef], start: datetime, end: datetime) -> Mapping[int, Busy]:
        """Busy time per agent, fetched concurrently; an agent whose calendar fails is left out
        (never treated as free)."""
        futures = {a.id: self._pool.submit(self._busy_one, a.id, start, end) for a in agents}
        out: dict[int, Busy] = {}
        for agent_id, fut in futures.items():
            try:
                out[agent_id] = fut.result()
            except ProviderError as exc:
                log.warning("%s busy for agent %s failed: %s", self.name, agent_id, type(exc).__name__)
        return out

    def forget(self, agent_id: int) -> None:
        """Drop the cached busy time (after we changed the calendar)."""
        with self._lock:
            self._busy_cache.pop(agent_id, None)

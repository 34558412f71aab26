"""The transactional outbox: queue a message in the same transaction as the change it reports,
deliver it afterwards, retry with backoff until it goes through.

Why: a booking and its confirmation must not part ways. Before this, the e-mail was sent after
the booking's commit; a crash in between lost it, and an SMTP outage lost it for good. Now the
confirmed booking and its queued e-mail commit together (``queue_email(session, ...)``), and
delivery happens after the commit — right away when possible (``kick``), otherwise by the worker
(``python -m bot worker``, or the web process), which retries with exponential backoff.

Claiming: a sender moves a row's ``locked_until`` forward in one conditional UPDATE; only the
process whose UPDATE matched sends it, so two workers (two web processes, a worker and an action
server) never deliver the same row at the same time. The lease outlives the SMTP timeout. The
one window left is a crash after the SMTP server accepted a message and before we marked it
sent: then it is sent again after the lease — at least once, with the same Message-ID, which
receiving systems use to drop the duplicate.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Callable, Iterable

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.messages.outbox import FileOutbox, Outbox
from bot.store import Store
from bot.store.models import OutboxMessage

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 5.0
    max_seconds: float = 900.0
    max_attempts: int = 20
    lease_seconds: float = 120.0

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with up to 20 % jitter, capped."""
        seconds = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=seconds * (1 + random.random() * 0.2))


def _recipients(msg: EmailMessage) -> str:
    return ", ".join(str(v) for v in (msg.get_all("To") or []))[:500]


def queue_email(
    s: Session, msg: EmailMessage, *, key: str | None = None, now: datetime | None = None, due: datetime | None = None
) -> OutboxMessage:
    """Add ``msg`` to the outbox inside the caller's transaction, to go out now or at ``due``
    (reminders). Returns the row (flushed)."""
    now = now or utcnow()
    row = OutboxMessage(
        key=key or f"mail:{uuid.uuid4().hex}",
        kind="email",
        recipient=_recipients(msg),
        payload=base64.b64encode(bytes(msg)).decode("ascii"),
        status="pending",
        attempts=0,
        next_attempt_at=due or now,
        created_at=now,
    )
    s.add(row)
    s.flush()
    return row


def load_email(row: OutboxMessage) -> EmailMessage:
    return message_from_bytes(base64.b64decode(row.payload), policy=policy.default)  # type: ignore[return-value]


class Delivery:
    """Delivers queued messages through a transport (file outbox or SMTP)."""

    def __init__(
        self,
        store: Store,
        transport: Outbox,
        *,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        webhooks: Any = None,
    ):
        self.store = store
        self.transport = transport
        #: bot.messages.webhooks.WebhookSender, for rows of kind "webhook"
        self.webhooks = webhooks
        self.retry = retry or RetryPolicy()
        self.clock = clock
        # Writing a file is quick: do it in the caller's thread, so the .eml exists when the chat
        # turn ends. SMTP may be slow or down: a background thread, the chat does not wait.
        self._inline = isinstance(transport, FileOutbox)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="outbox")
        self._lock = threading.Lock()

    # ---- queueing ---------------------------------------------------------------------------
    def send(self, msg: EmailMessage) -> str:
        """Outbox protocol: queue in a transaction of its own, then try to deliver."""
        with self.store.session() as s:
            row = queue_email(s, msg, now=self.clock())
            row_id = row.id
        self.kick([row_id])
        return f"outbox:{row_id}"

    def kick(self, ids: Iterable[int], *, background: bool = False) -> None:
        """Try these rows now (after their transaction committed). Failures are retried later.
        ``background``: never in the caller's thread (webhooks: a slow endpoint must not hold up
        the chat)."""
        ids = list(ids)
        if not ids:
            return
        if self._inline and not background:
            self.deliver(ids)
        else:
            self._pool.submit(self._deliver_logged, ids)

    def _deliver_logged(self, ids: list[int]) -> None:
        try:
            self.deliver(ids)
        except Exception:  # the worker retries; never let a thread die silently
            log.exception("outbox delivery of %s failed", ids)

    # ---- delivering -------------------------------------------------------------------------
    def _claim(self, row_id: int) -> OutboxMessage | None:
        now = self.clock()
        with self.store.session() as s:
            res = s.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row_id,
                    OutboxMessage.status == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                )
                .values(
                    locked_until=now + timedelta(seconds=self.retry.lease_seconds),
                    attempts=OutboxMessage.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:
                return None
            return s.get(OutboxMessage, row_id)

    def _finish(self, row_id: int, error: str | None, attempts: int) -> None:
        now = self.clock()
        with self.store.session() as s:
            row = s.get(OutboxMessage, row_id)
            row.locked_until = None
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                return
            row.last_error = error[:500]
            if attempts >= self.retry.max_attempts:
                row.status = "dead"
                log.error(
                    "outbox message %s to %s given up after %d attempts: %s", row_id, row.recipient, attempts, error
                )
            else:
                row.next_attempt_at = now + self.retry.delay(attempts)

    def deliver(self, ids: Iterable[int]) -> int:
        """Claim and deliver each of ``ids`` that is due; returns how many went out."""
        sent = 0
        for row_id in ids:
            row = self._claim(row_id)
            if row is None:
                continue
            try:
                if row.kind == "webhook":
                    if self.webhooks is None:
                        raise RuntimeError("webhooks are not set up in this process")
                    self.webhooks.send(row)
                else:
                    self.transport.send(load_email(row))
            except Exception as exc:  # SMTP down, disk full, ...: retried with backoff
                log.warning("outbox message %s: attempt %d failed: %s", row_id, row.attempts, type(exc).__name__)
                self._finish(row_id, f"{type(exc).__name__}: {exc}", row.attempts)
            else:
                self._finish(row_id, None, row.attempts)
                sent += 1
        return sent

    def due(self, limit: int = 100) -> list[int]:
        now = self.clock()
        with self.store.session() as s:
            return list(
                s.execute(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.status == "pending",
                        OutboxMessage.next_attempt_at <= now,
                        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                    )
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(limit)
                ).scalars()
            )

    def deliver_due(self, limit: int = 100) -> int:
        return self.deliver(self.due(limit))

    def listing(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self.store.session() as s:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if kind:
                query = query.where(OutboxMessage.kind == kind)
            rows = s.execute(query).scalars().all()
            return [
                {
                    "id": r.id,
                    "key": r.key,
                    "kind": r.kind,
                    "recipient": r.recipient,
                    "status": r.status,
                    "attempts": r.attempts,
                    "next_attempt_at": r.next_attempt_at.isoformat(),
                    "last_error": r.last_error,
                    "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                }
                for r in rows
            ]

    def close(self) -> None:
        self._pool.shutdown(wait=True)


__all__ = ["Delivery", "RetryPolicy", "queue_email", "load_email"]

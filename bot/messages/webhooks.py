"""Webhooks: ``booking.created``, ``booking.cancelled``, ``booking.rescheduled``, ``booking.updated`` and
``booking.guests_added`` POSTed
as JSON to the configured URLs, signed with HMAC-SHA256, delivered through the outbox (same
transaction as the change, retried with backoff until a 2xx).

Signature header (Stripe-style, so the usual verification code applies)::

    X-Booking-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

A receiver recomputes the HMAC over ``f"{t}.{body}"`` with its secret, compares in constant time,
and refuses a ``t`` older than a few minutes (replays). ``X-Booking-Delivery`` is the same on
every retry of one delivery: use it to drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.crypto import Vault
from bot.errors import ConfigError
from bot.store.models import OutboxMessage, Webhook

EVENTS = (
    "booking.created",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.updated",
    "booking.guests_added",
    "booking.no_show",
)
SIGNATURE_HEADER = "X-Booking-Signature"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (and our tests do): check the signature and its age."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def add_webhook(s: Session, vault: Vault, url: str, events: list[str] | None = None) -> tuple[Webhook, str]:
    """Register an endpoint; returns it and its signing secret (shown once)."""
    u = urlparse(url)
    if u.scheme not in ("https", "http") or not u.hostname:
        raise ConfigError("a webhook URL must look like https://example.com/hooks/bookings")
    chosen = events or ["*"]
    unknown = [e for e in chosen if e != "*" and e not in EVENTS]
    if unknown:
        raise ConfigError(f"unknown webhook events {unknown}; known: {', '.join(EVENTS)}")
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook = Webhook(url=url, secret=vault.encrypt(secret), events=",".join(chosen), active=True)
    s.add(hook)
    s.flush()
    return hook, secret


def queue_event(s: Session, event: str, data: dict[str, Any], *, key: str, now: datetime) -> list[int]:
    """One outbox row per active webhook that wants ``event``, in the caller's transaction.
    Returns their ids (flushed), for delivery once the transaction commits."""
    rows = []
    for hook in s.execute(select(Webhook).where(Webhook.active.is_(True))).scalars():
        wanted = hook.events.split(",")
        if "*" not in wanted and event not in wanted:
            continue
        delivery = uuid.uuid4().hex
        body = {"id": delivery, "type": event, "created": now.isoformat().replace("+00:00", "Z"), "data": data}
        rows.append(
            OutboxMessage(
                key=f"webhook:{hook.id}:{key}",
                kind="webhook",
                recipient=hook.url[:500],
                payload=json.dumps({"webhook_id": hook.id, "event": event, "delivery": delivery, "body": body}),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    s.add_all(rows)
    s.flush()
    return [r.id for r in rows]


class WebhookSender:
    """Delivers one queued webhook: a 2xx is success; anything else raises (the outbox retries)."""

    def __init__(self, store: Any, vault: Vault, timeout: float = 10.0):
        self.store = store
        self.vault = vault
        self.timeout = timeout

    def send(self, row: OutboxMessage) -> None:
        job = json.loads(row.payload)
        with self.store.session() as s:
            hook = s.get(Webhook, job["webhook_id"])
            if hook is None or not hook.active:
                return  # removed since: nothing to deliver
            url, secret = hook.url, self.vault.decrypt(hook.secret)
        body = json.dumps(job["body"], separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "meeting-booking-webhooks/1",
            "X-Booking-Event": job["event"],
            "X-Booking-Delivery": job["delivery"],
            SIGNATURE_HEADER: sign(secret, body),
        }
        r = httpx.post(url, content=body, headers=headers, timeout=self.timeout, follow_redirects=False)
        if not 200 <= r.status_code < 300:
            raise RuntimeError(f"webhook endpoint answered {r.status_code}")


__all__ = ["EVENTS", "sign", "verify", "add_webhook", "queue_event", "WebhookSender", "SIGNATURE_HEADER"]

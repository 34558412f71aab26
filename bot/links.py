"""Signed links in the visitor's e-mails (HMAC, expiring, bound to the booking's sequence).

A link names one booking and the ``sequence`` it was sent with: once the booking changes
(cancelled, moved), the sequence moves on and every older link stops working — a cancel link
works once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.crypto import Vault

#: A link stays valid until a day after the meeting ends.
GRACE = timedelta(days=1)


def manage_token(vault: Vault, booking_id: str, sequence: int, end: datetime, now: datetime) -> str:
    ttl = max(60, int((end + GRACE - now).total_seconds()))
    return vault.sign({"a": "cancel", "b": booking_id, "s": sequence}, ttl)


def check_manage_token(vault: Vault, token: str, booking_id: str) -> int | None:
    """The sequence the link was issued for, if the token is ours, unexpired and for this booking."""
    body = vault.verify(token) if isinstance(token, str) and len(token) < 2048 else None
    if not body or body.get("a") != "cancel" or body.get("b") != booking_id or not isinstance(body.get("s"), int):
        return None
    return int(body["s"])


def manage_url(public_url: str, vault: Vault, booking_id: str, sequence: int, end: datetime, now: datetime) -> str:
    return f"{public_url}/booking/{booking_id}/cancel?t={manage_token(vault, booking_id, sequence, end, now)}"

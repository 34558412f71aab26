"""Signed links in the visitor's e-mails (HMAC, expiring, bound to the booking's sequence).

A link names one booking, what it does (``cancel`` or ``reschedule``) and the ``sequence`` it
was sent with: once the booking changes (cancelled, moved), the sequence moves on and every
older link stops working — each link works once. A cancel link lasts until a day after the
meeting; a reschedule link until the meeting starts (a started meeting cannot be moved).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.crypto import Vault

#: A cancel link stays valid until a day after the meeting ends.
GRACE = timedelta(days=1)
ACTIONS = ("cancel", "reschedule")


def manage_token(
    vault: Vault, booking_id: str, sequence: int, end: datetime, now: datetime, action: str = "cancel",
    start: datetime | None = None,
) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown link action {action!r}")
    until = (start or end) if action == "reschedule" else end + GRACE
    ttl = max(60, int((until - now).total_seconds()))
    return vault.sign({"a": action, "b": booking_id, "s": sequence}, ttl)


def check_manage_token(vault: Vault, token: str, booking_id: str, action: str = "cancel") -> int | None:
    """The sequence the link was issued for, if the token is ours, unexpired, for this booking
    and this action."""
    body = vault.verify(token) if isinstance(token, str) and len(token) < 2048 else None
    if not body or body.get("a") != action or body.get("b") != booking_id or not isinstance(body.get("s"), int):
        return None
    return int(body["s"])


def manage_url(
    public_url: str, vault: Vault, booking_id: str, sequence: int, end: datetime, now: datetime,
    action: str = "cancel", start: datetime | None = None,
) -> str:
    token = manage_token(vault, booking_id, sequence, end, now, action, start)
    return f"{public_url}/booking/{booking_id}/{action}?t={token}"

"""A time an admin types (the CLI's ``explain-slot``, the portal's "why is a time not offered?")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError


def parse_when(text: str, zone_name: str | None, default_zone: str) -> datetime:
    """``2026-12-10T15:00`` in ``zone_name`` (else ``default_zone``); an offset in the text wins.
    The result is in that zone."""
    name = zone_name or default_zone
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder, too long a name
        raise ConfigError(f"{name[:80]!r} is not a time zone like Europe/Paris") from None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{text[:80]!r} is not a date and time like 2026-12-10T15:00") from None
    return when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)

"""Locale negotiation and formatting with babel (CLDR), always with ``zoneinfo`` zones."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, get_timezone_location, get_timezone_name

if TYPE_CHECKING:
    from bot.scheduling import Interval

log = logging.getLogger(__name__)

SUPPORTED = ("en", "fr", "de", "es", "pt", "it")
DEFAULT_LOCALE = "en"


def negotiate(tag: object) -> str:
    """A BCP 47 tag (``fr-FR``, ``en_US``) → the best supported locale; ``en`` otherwise.

    Keeps the region when the language is supported (``en-GB`` → ``en_GB``) so dates follow it.
    """
    if not isinstance(tag, str) or not tag.strip():
        return DEFAULT_LOCALE
    try:
        loc = Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        log.info("ignoring unknown locale %r", tag)
        return DEFAULT_LOCALE
    if loc.language not in SUPPORTED:
        return DEFAULT_LOCALE
    return f"{loc.language}_{loc.territory}" if loc.territory else loc.language


def zone(name: object, default: str = "UTC") -> ZoneInfo:
    """An IANA name → ZoneInfo; anything else → the default (logged)."""
    if isinstance(name, str) and name and "\x00" not in name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            log.info("ignoring unknown time zone %r", name)
    return ZoneInfo(default)


def format_slot(start: datetime, tz: ZoneInfo, locale: str) -> str:
    """A button label: weekday, date and time in the visitor's zone and locale."""
    local = start.astimezone(tz)
    return _join(locale, format_skeleton("MMMEd", local, locale=locale), format_time(local, "short", locale=locale))


def format_when(start: datetime, end: datetime, tz: ZoneInfo, locale: str) -> str:
    """``Tuesday, December 1, 2026, 10:00 AM – 10:30 AM`` style, in the visitor's zone."""
    day = format_skeleton("yMMMMEEEEd", start.astimezone(tz), locale=locale)
    t0 = format_time(start.astimezone(tz), "short", locale=locale)
    t1 = format_time(end.astimezone(tz), "short", locale=locale)
    return _join(locale, day, f"{t0} – {t1}")


def _join(locale: str, date_part: str, time_part: str) -> str:
    """Date and time joined the way the locale joins them (``{1}, {0}`` in English)."""
    pattern = Locale.parse(locale).datetime_formats.get("medium", "{1} {0}")
    return str(pattern).replace("{1}", date_part).replace("{0}", time_part)


def zone_label(tz: ZoneInfo, locale: str) -> str:
    """A readable zone name in the visitor's language: "Central European Time (Paris)",
    "heure d'Europe centrale (Paris)", "Eastern Time (New York)"."""
    if tz.key in ("UTC", "Etc/UTC", "GMT"):
        return "UTC"
    try:
        name = get_timezone_name(tz, "long", locale=locale)
        city = get_timezone_location(tz, locale=locale, return_city=True)
        return f"{name} ({city})"
    except Exception:  # babel lacks data for a few zones
        return tz.key


def format_window(window: Interval, tz: ZoneInfo, locale: str) -> str:  # noqa: F821
    """A visitor's window in words: ``Thursday, December 3, 12:00 – 7:00 PM`` style, their zone."""
    return format_when(window.start, window.end, tz, locale)

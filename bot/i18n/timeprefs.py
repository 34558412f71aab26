"""Time preferences in words → a window in UTC, with Duckling running in-process
(pyduckling-native-phihos): "Thursday afternoon", "demain matin", "nächste Woche Dienstag",
"el viernes por la tarde", "amanhã à tarde", "giovedì mattina"."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.scheduling import Interval

log = logging.getLogger(__name__)

#: Duckling reads compiled zone files; the "slim" ones of the tzdata wheel give it wrong DST
#: offsets, the system's (Debian tzdata) are right.
ZONEINFO_DIRS = [Path("/usr/share/zoneinfo")]
GRAINS = {
    "second": timedelta(minutes=1),
    "minute": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=31),
}
_lock = threading.Lock()
_zones = None


def _time_zones():  # noqa: ANN202 - duckling's opaque object
    global _zones
    with _lock:
        if _zones is None:
            import duckling

            duckling.init()
            folder = next((d for d in ZONEINFO_DIRS if (d / "Europe" / "Paris").exists()), None)
            if folder is None:
                import tzdata

                folder = Path(tzdata.__file__).parent / "zoneinfo"
                log.warning("no system zoneinfo: Duckling may get DST offsets wrong")
            _zones = duckling.load_time_zones(str(folder))
        return _zones


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def parse_window(text: str, lang: str, tz: ZoneInfo, now: datetime) -> Interval | None:
    """The first time expression in ``text`` as a window, read in the visitor's zone and language."""
    if not text or text.startswith("/"):
        return None
    import duckling

    zones = _time_zones()
    try:
        ref = duckling.parse_ref_time(zones, tz.key, int(now.timestamp()))
        ctx = duckling.Context(ref, duckling.default_locale_lang(duckling.parse_lang(lang.upper())))
        found = duckling.parse(text, ctx, duckling.parse_dimensions(["time"]), False)
    except Exception as exc:  # an unparsable text is not an error for the visitor
        log.info("duckling could not read %r: %s", text[:80], type(exc).__name__)
        return None
    for item in found:
        value = item.get("value", {})
        if value.get("type") == "interval":
            lo, hi = value.get("from"), value.get("to")
            start = _at(lo["value"]) if lo else now
            end = (
                _at(hi["value"])
                if hi
                else start + GRAINS.get(lo.get("grain", "day") if lo else "day", timedelta(days=1))
            )
        elif value.get("type") == "value" and value.get("value"):
            start = _at(value["value"])
            end = start + GRAINS.get(value.get("grain", "day"), timedelta(days=1))
        else:
            continue
        if end > start:
            return Interval(start, end).utc()
    return None

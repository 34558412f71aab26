"""Time preferences in words → a window in UTC, with Duckling running in-process
(pyduckling-native-phihos): "Thursday afternoon", "demain matin", "nächste Woche Dienstag",
"el viernes por la tarde", "amanhã à tarde", "giovedì mattina"."""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.scheduling.preferences import TimePref

log = logging.getLogger(__name__)

#: Duckling reads compiled zone files; the "slim" ones of the tzdata wheel give it wrong DST
#: offsets, the system's (Debian tzdata) are right.
ZONEINFO_DIRS = [Path("/usr/share/zoneinfo")]
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


# ---- what a visitor says about time → a TimePref (bot/scheduling/preferences.py) ------------

_H = r"(\d{1,2})(?:\s*(?::|h|\.)\s*(\d{2}))?\s*(a\.?m\.?|p\.?m\.?|h\b|uhr|hrs?\b|hs\b|heures?|horas?|ore\b)?"
_NOON = r"(noon|midday|midi|mittag|mediodia|meio[- ]dia|mezzogiorno)"
_HOUR = rf"(?:{_NOON}|{_H})"
_LO = (
    r"not before|no earlier than|not earlier than|after|from|starting at|later than|"
    r"pas avant|apres|a partir de|des|"
    r"nicht vor|nicht fruher als|fruhestens um|fruhestens|nach|ab|"
    r"no antes de(?: las| la)?|despues de(?: las| la)?|a partir de(?: las| la)?|desde(?: las| la)?|"
    r"nao antes d(?:as|a|e)|depois d(?:as|a|e)|a partir d(?:as|a|e)|"
    r"non prima d(?:elle|ell'|i)|dopo(?: le| l')?|a partire dalle|dalle"
)
_HI = (
    r"not after|no later than|not later than|before|until|till|by|"
    r"pas apres|au plus tard a|avant|jusqu'a|"
    r"nicht nach|nicht spater als|spatestens um|spatestens|vor|bis|"
    r"no despues de(?: las| la)?|antes de(?: las| la)?|hasta(?: las| la)?|"
    r"nao depois d(?:as|a)|antes d(?:as|a|e)|ate(?: as| a)?|"
    r"non dopo(?: le| l')?|prima d(?:elle|ell'|i)|entro(?: le| l')?|fino alle"
)
_BETWEEN = (
    rf"(?:between|entre(?: las| les| as)?|zwischen|tra le|fra le|from|de|von|dalle|das|desde(?: las)?)\s+{_HOUR}"
    rf"\s*(?:and|et|und|y(?: las)?|e(?: as| le)?|to|a|bis|alle|as|-|–)\s*{_HOUR}"
)
_RANGE_RE = re.compile(rf"(?<![\w@]){_BETWEEN}(?![\w@])")
_LO_RE = re.compile(rf"(?<![\w@])(?:{_LO})\s+(?:(?:the |les |las |le |as |l')?)\s*{_HOUR}(?![\w@])")
_HI_RE = re.compile(rf"(?<![\w@])(?:{_HI})\s+(?:(?:the |les |las |le |as |l')?)\s*{_HOUR}(?![\w@])")
_BARE_HOUR_IN_RANGE = re.compile(rf"^{_HOUR}$")
#: Not time: e-mail addresses, links, payloads, booking codes and other long digit runs.
_STRIP = re.compile(r"\S+@\S+|https?://\S+|/\w+\{.*\}|\b(?=\w*\d)(?=\w*[a-zA-Z])\w{6,}\b|\b\d{5,}\b")
#: Duckling's day parts (local hours from, to) → a receptionist's.
DAY_PART_HOURS = {(0, 12): (8, 12), (4, 12): (8, 12), (12, 19): (12, 18), (18, 0): (17, 21), (18, 24): (17, 21)}
PLAUSIBLE = (7 * 60, 21 * 60)
#: An ordinal alone, which Duckling reads as a day of the month.
_ORDINAL = re.compile(
    r"^(?:the |le |la |der |die |das |el |o |a |il |l')?(?:first|second|third|fourth|fifth|last|premier|premiere|"
    r"deuxieme|second|seconde|troisieme|erste|erster|ersten|zweite|zweiten|dritte|dritten|primero|primera|segundo|"
    r"segunda|tercero|tercera|primeiro|primeira|terceiro|terceira|primo|prima|secondo|seconda|terzo|terza|"
    r"\d{1,2}(?:st|nd|rd|th|er|e|eme|o|a|º|ª)?)(?: one| un| une| uno| una| um| uma)?$"
)
#: Words visitors type that Duckling does not know.
#: "next" before (or, in French, Spanish and Italian, after) a weekday: "next tuesday", "nachsten
#: Dienstag", "el proximo martes", "mardi prochain", "martes que viene", "martedi prossimo" (folded).
_NEXT_DAY = re.compile(
    r"\b(?:next|nachste[nmrs]?|naechste[nmrs]?|prochain|proxim[oa]|prossim[oa])\s+(?:\w+\s+)?"
    r"(?:mon|tue|wed|thu|fri|sat|sun|lun|mar|mer|jeu|ven|sam|dim|mon|die|mit|don|fre|sam|son|lun|mie|jue|vie|sab|dom"
    r"|seg|ter|qua|qui|sex|gio)\w*"
    r"|\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miercoles|jueves|viernes|sabado|domingo"
    r"|lunedi|martedi|mercoledi|giovedi|venerdi|sabato|domenica)\s+(?:prochain|que viene|prossimo)\b"
)


def _next_weekday(pref: TimePref, folded: str, tz: ZoneInfo, now: datetime) -> TimePref:
    """"next Tuesday" is the Tuesday of next week. Duckling takes it as the Tuesday after the
    coming one, so on a Saturday it skips a whole week (the 22nd instead of the 15th); that
    reading is moved back to next week's day."""
    if pref.first is None or pref.first != pref.last or not _NEXT_DAY.search(folded):
        return pref
    today = now.astimezone(tz).date()
    next_monday = today + timedelta(days=7 - today.weekday())
    if pref.first - timedelta(days=7) >= next_monday:
        day = pref.first - timedelta(days=7)
        return TimePref(first=day, last=day, lo=pref.lo, hi=pref.hi, at=pref.at, bound=pref.bound)
    return pref


#: Weekday names in our six languages (folded), for "thursday morning?" said on a Thursday night.
_WEEKDAY = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|vendredi"
    r"|samedi|dimanche|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lunes|martes|miercoles"
    r"|jueves|viernes|sabado|domingo|segunda|terca|quarta|quinta|sexta|lunedi|martedi|mercoledi|giovedi"
    r"|venerdi|sabato|domenica)\b"
)


def _weekday_passed(pref: TimePref, folded: str, tz: ZoneInfo, now: datetime) -> TimePref:
    """A weekday named on that very day, for hours already over ("anything thursday morning?" at
    23:30 on a Thursday): next week's, as the visitor means — not a day whose morning is gone."""
    local = now.astimezone(tz)
    if pref.first is None or pref.first != pref.last or pref.first != local.date() or not _WEEKDAY.search(folded):
        return pref
    end = pref.hi if pref.hi is not None else (pref.at + 60 if pref.at is not None else 19 * 60)  # the working day's end
    if local.hour * 60 + local.minute < end:
        return pref
    day = pref.first + timedelta(days=7)
    return TimePref(first=day, last=day, lo=pref.lo, hi=pref.hi, at=pref.at, bound=pref.bound)


SLANG = [
    (re.compile(r"\baprem\b", re.IGNORECASE), "après-midi"),
    (re.compile(r"\bapr[eè]s[- ]?m\b", re.IGNORECASE), "après-midi"),
]


def _hour(groups: tuple[str | None, ...]) -> int | None:
    """Minutes of the day from (noon, hour, minute, marker); bare 1–7 are afternoon hours."""
    noon, hour, minute, marker = groups
    if noon:
        return 12 * 60
    if hour is None:
        return None
    h, m = int(hour), int(minute or 0)
    mark = (marker or "").replace(".", "")
    if h > 24 or m > 59:
        return None
    if mark == "pm" and h < 12:
        h += 12
    elif mark == "am" and h == 12:
        h = 0
    elif not mark and not minute and 1 <= h <= 7:
        h += 12
    return min(h * 60 + m, 24 * 60)


def _bounds(folded: str) -> tuple[int | None, int | None, list[tuple[int, int]]]:
    """(lo, hi, spans): hour bounds and ranges read by pattern (Duckling misreads "not before 9"
    as "before 9"), and where they stand in the text."""
    lo = hi = None
    spans: list[tuple[int, int]] = []
    for m in _RANGE_RE.finditer(folded):
        a, b = _hour(m.groups()[0:4]), _hour(m.groups()[4:8])
        if a is not None and b is not None:
            if b <= a and b + 12 * 60 <= 24 * 60:
                b += 12 * 60
            if b > a:
                lo, hi = a, b
                spans.append(m.span())
                break
    if lo is None:
        m = _LO_RE.search(folded)
        if m and (v := _hour(m.groups()[0:4])) is not None:
            lo = v
            spans.append(m.span())
    if hi is None:
        for a, b in spans:  # "not before 9" holds "before 9": read each words once
            folded = folded[:a] + " " * (b - a) + folded[b:]
        m = _HI_RE.search(folded)
        if m and (v := _hour(m.groups()[0:4])) is not None:
            hi = v
            spans.append(m.span())
    return lo, hi, spans


def _value_start(v: dict) -> datetime | None:
    if v.get("type") == "interval":
        edge = v.get("from") or v.get("to")
        return _at(edge["value"]) if edge else None
    return _at(v["value"]) if v.get("value") else None


def _minutes(t: datetime) -> int:
    return t.hour * 60 + t.minute


def _plausibility(v: dict, tz: ZoneInfo) -> int:
    start = _value_start(v)
    if start is None:
        return -1
    m = _minutes(start.astimezone(tz))
    return 1 if PLAUSIBLE[0] <= m < PLAUSIBLE[1] else 0


def _pref_from_duckling(item: dict, tz: ZoneInfo) -> TimePref | None:
    value = item.get("value") or {}
    values = [v for v in value.get("values") or [value] if isinstance(v, dict)]
    if not values:
        return None
    starts = [s for s in (_value_start(v) for v in values[:2]) if s is not None]
    daily = len(starts) == 2 and abs((starts[1] - starts[0]).total_seconds() - 86400) < 3700
    # Among the readings (3 am or 3 pm, this week or next), the one inside business hours.
    best = max(values, key=lambda v: _plausibility(v, tz))
    if best.get("type") == "interval":
        lo_v, hi_v = best.get("from"), best.get("to")
        start = _at(lo_v["value"]).astimezone(tz) if lo_v else None
        end = _at(hi_v["value"]).astimezone(tz) if hi_v else None
        if start is not None and end is not None and end - start > timedelta(days=1):
            return TimePref(first=start.date(), last=(end - timedelta(minutes=1)).date())
        day = None if daily else (start or end).date()  # type: ignore[union-attr]
        lo = _minutes(start) if start is not None else None
        hi = (_minutes(end) or 24 * 60) if end is not None else None
        if lo is not None and hi is not None:
            part = DAY_PART_HOURS.get((lo // 60, (hi // 60) % 24 if hi < 24 * 60 else 24)) or DAY_PART_HOURS.get(
                (lo // 60, hi // 60)
            )
            if part:
                lo, hi = part[0] * 60, part[1] * 60
            elif lo < 7 * 60 and hi <= 13 * 60:  # a morning by another name ("Vormittag" from 03:00)
                lo = 8 * 60
        return TimePref(first=day, last=day, lo=lo, hi=hi, bound=lo is None or hi is None)
    start = _value_start(best)
    if start is None:
        return None
    local = start.astimezone(tz)
    grain = best.get("grain") or value.get("grain") or "day"
    if grain in ("hour", "minute", "second"):
        day = None if daily else local.date()
        return TimePref(first=day, last=day, at=_minutes(local))
    if grain == "week":
        return TimePref(first=local.date(), last=local.date() + timedelta(days=6))
    if grain in ("month", "quarter"):
        nxt = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
        return TimePref(first=local.date(), last=nxt.date() - timedelta(days=1))
    if grain == "year":
        return None
    return TimePref(first=local.date(), last=local.date())


def _is_now(item: dict, now: datetime) -> bool:
    """A reading that starts now to the second ("right now", "ora", "in an hour")."""
    value = item.get("value") or {}
    if value.get("type") == "interval":
        edge = value.get("from") or {}
        start, grain = (_at(edge["value"]) if edge.get("value") else None), edge.get("grain")
    else:
        start, grain = _value_start(value), value.get("grain")
    return start is not None and grain in ("second", "minute") and abs((start - now).total_seconds()) < 120


def read_pref(text: str, lang: str, tz: ZoneInfo, now: datetime) -> TimePref | None:
    """What ``text`` says about when: days, parts of days, exact times, ranges and bounds, in the
    visitor's zone ("next Tuesday afternoon", "entre 8h et midi", "nicht vor 9 Uhr")."""
    if not text or text.startswith("/"):
        return None
    from bot.i18n.detect import fold

    cleaned = _STRIP.sub(" ", text)
    folded = fold(cleaned)
    lo, hi, spans = _bounds(folded)
    # Duckling reads the visitor's own spelling ("nächste", "mañana"), without the bounds read
    # above; folding keeps positions unless a character changed length (then it reads the fold).
    rest = cleaned if len(folded) == len(cleaned) else folded
    for a, b in spans:
        rest = rest[:a] + " " * (b - a) + rest[b:]
    days = None
    for slang, word in SLANG:
        rest = slang.sub(word, rest)
    found = _duckling(rest, lang, tz, now)
    for item in found:
        try:
            p = _pref_from_duckling(item, tz)
        except (ValueError, KeyError, TypeError, OverflowError):  # a reading we cannot use
            continue
        if p is None or p.is_empty() or (p.first is not None and abs((p.first - now.date()).days) > 400):
            continue
        if _is_now(item, now):  # "ora italiana", "right now?": a word for now, not a time asked for
            continue
        if _ORDINAL.match(fold(rest[item.get("start", 0) : item.get("end", 0)]).strip(" ?!.,")):
            continue  # "the first one" picks a button; it is not the 1st of the month
        if days is None:
            days = p
            continue
        # "el viernes … sobre las 2 de la tarde" read as two expressions: the day of the one,
        # the hours of the other.
        if days.first is not None and days.lo is None and days.hi is None and days.at is None and p.first is None:
            days = TimePref(first=days.first, last=days.last, lo=p.lo, hi=p.hi, at=p.at)
        elif days.first is None and p.first is not None and (days.lo is not None or days.at is not None):
            days = TimePref(first=p.first, last=p.last, lo=days.lo, hi=days.hi, at=days.at)
        break
    if days is None and lo is None and hi is None:
        return None
    pref = _weekday_passed(_next_weekday(days, folded, tz, now), folded, tz, now) if days is not None else TimePref()
    if lo is not None or hi is not None:
        pref = TimePref(first=pref.first, last=pref.last, lo=lo, hi=hi, bound=True)
    return pref


def _duckling(text: str, lang: str, tz: ZoneInfo, now: datetime) -> list[dict]:
    if not text.strip():
        return []
    import duckling

    zones = _time_zones()
    try:
        ref = duckling.parse_ref_time(zones, tz.key, int(now.timestamp()))
        ctx = duckling.Context(ref, duckling.default_locale_lang(duckling.parse_lang(lang.upper())))
        return list(duckling.parse(text, ctx, duckling.parse_dimensions(["time"]), False))
    except Exception as exc:  # an unparsable text is not an error for the visitor
        log.info("duckling could not read %r: %s", text[:80], type(exc).__name__)
        return []

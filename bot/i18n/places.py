"""A time zone from what a visitor writes: "I'm in Tokyo", "show times in CET",
"je suis à Montréal", "Europe/Lisbon". City names come from CLDR (babel) in our six languages,
plus the IANA names and a few common abbreviations and big cities without a zone of their own."""

from __future__ import annotations

import re
import threading
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import get_timezone_location

from bot.i18n import SUPPORTED
from bot.i18n.detect import fold

ABBREVIATIONS = {
    "utc": "UTC",
    "gmt": "UTC",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "mez": "Europe/Berlin",
    "mesz": "Europe/Berlin",
    "wet": "Europe/Lisbon",
    "eet": "Europe/Athens",
    "bst": "Europe/London",
    "est": "America/New_York",
    "edt": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "pazifik": "America/Los_Angeles",
    "pacifique": "America/Los_Angeles",
    "pacifico": "America/Los_Angeles",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "brt": "America/Sao_Paulo",
    "brasilia": "America/Sao_Paulo",
}
CITIES = {
    "montreal": "America/Toronto",
    "quebec": "America/Toronto",
    "ottawa": "America/Toronto",
    "boston": "America/New_York",
    "washington": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "dallas": "America/Chicago",
    "houston": "America/Chicago",
    "austin": "America/Chicago",
    "munich": "Europe/Berlin",
    "munchen": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "koln": "Europe/Berlin",
    "barcelona": "Europe/Madrid",
    "sevilla": "Europe/Madrid",
    "valencia": "Europe/Madrid",
    "milan": "Europe/Rome",
    "milano": "Europe/Rome",
    "roma": "Europe/Rome",
    "napoli": "Europe/Rome",
    "torino": "Europe/Rome",
    "lyon": "Europe/Paris",
    "marseille": "Europe/Paris",
    "toulouse": "Europe/Paris",
    "geneve": "Europe/Zurich",
    "geneva": "Europe/Zurich",
    "porto": "Europe/Lisbon",
    "rio de janeiro": "America/Sao_Paulo",
    "rio": "America/Sao_Paulo",
    "brasil": "America/Sao_Paulo",
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "quito": "America/Guayaquil",
    "guadalajara": "America/Mexico_City",
    "queretaro": "America/Mexico_City",
    "medellin": "America/Bogota",
    "cali": "America/Bogota",
    "bilbao": "Europe/Madrid",
    "malaga": "Europe/Madrid",
    "zaragoza": "Europe/Madrid",
    "curitiba": "America/Sao_Paulo",
    "brasilia cidade": "America/Sao_Paulo",
    "osaka": "Asia/Tokyo",
    "beijing": "Asia/Shanghai",
    "pekin": "Asia/Shanghai",
    "canberra": "Australia/Sydney",
}
#: Countries that span several zones: the zone most people there mean.
PRIMARY = {
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "CL": "America/Santiago",
    "AR": "America/Argentina/Buenos_Aires",
    "EC": "America/Guayaquil",
    "DE": "Europe/Berlin",
    "NL": "Europe/Amsterdam",
    "GB": "Europe/London",
    "NZ": "Pacific/Auckland",
}
INFORMAL = {
    "cdmx": "America/Mexico_City",
    "df": "America/Mexico_City",
    "peninsular": "Europe/Madrid",
    "hora peninsular": "Europe/Madrid",
    "west coast": "America/Los_Angeles",
    "east coast": "America/New_York",
}
_IANA = re.compile(r"\b([A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_-]+)+)\b")
_lock = threading.Lock()
_index: dict[str, str] | None = None


def _build() -> dict[str, str]:
    names: dict[str, str] = {}
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/")))
    for z in zones:
        names.setdefault(fold(z.rsplit("/", 1)[1].replace("_", " ")), z)
        for lang in SUPPORTED:
            try:
                city = get_timezone_location(ZoneInfo(z), locale=lang, return_city=True)
            except Exception:
                continue
            names.setdefault(fold(city), z)
    from babel.core import Locale, get_global

    for code, zones_of in get_global("territory_zones").items():
        zone = PRIMARY.get(code) or (zones_of[0] if len(zones_of) == 1 else None)
        if not zone:
            continue
        for lang in SUPPORTED:
            name = Locale.parse(lang).territories.get(code)
            if name:
                names.setdefault(fold(name), zone)
    names.update(CITIES)
    names.update(INFORMAL)
    names.update(ABBREVIATIONS)
    return names


#: Abbreviations that are also everyday words ("c'est", "wie spät ist es", "cet après-midi",
#: "wet"): zones only when written in capitals (EST, IST, CET, WET), and only when no place is named.
WORDLIKE = {"est", "ist", "cet", "wet"}


def find_zone(text: str) -> ZoneInfo | None:
    """The time zone a visitor names, or None."""
    global _index
    m = _IANA.search(text or "")
    if m and m.group(1) in available_timezones():
        return ZoneInfo(m.group(1))
    with _lock:
        if _index is None:
            _index = _build()
        index = _index
    words = re.findall(r"[^\W\d_]+", fold(text or ""))
    # Longest names first: "new york" before "york", "rio de janeiro" before "rio".
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            key = " ".join(words[i : i + size])
            zone = index.get(key) if key not in WORDLIKE else None
            if zone:
                return ZoneInfo(zone)
    for token in re.findall(r"[^\W\d_]+", text or ""):
        if token.isupper() and token.lower() in WORDLIKE and token.lower() in index:
            return ZoneInfo(index[token.lower()])
    return None

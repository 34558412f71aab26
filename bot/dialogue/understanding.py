"""What one message says besides its intent: a time zone the visitor is in, and when they would
like to meet. Read from every message, the first one included, by the actions' context step, and
kept in slots until the visitor says otherwise.

Care is taken not to hear what was not said: a company called "Paris Baguette" answered to the
company question is not a zone, a first name "April" is not a month, the digits of an e-mail
address are not a year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.dialogue.questions import asks
from bot.i18n.detect import fold
from bot.i18n.places import find_zone
from bot.i18n.timeprefs import read_pref
from bot.scheduling.preferences import TimePref

#: Words that say "this is where I am / the zone I want", in our six languages (folded).
ZONE_CUES = [
    "i'm in", "im in", "i am in", "i'm based in", "based in", "located in", "i live in", "we're in", "we are in",
    "time in", "times in", "timezone", "time zone", "my time",
    "je suis a", "je suis au", "je suis en", "nous sommes a", "j'habite a", "heure de", "heure d'", "fuseau",
    "ich bin in", "wir sind in", "ich wohne in", "uhrzeit", "zeitzone", "zeit in", "ortszeit",
    "estoy en", "estamos en", "vivo en", "hora de", "horario de", "zona horaria",
    "estou em", "estou no", "estou na", "estamos em", "moro em", "hora de", "horario de", "fuso",
    "sono a", "sono in", "siamo a", "abito a", "ora di", "orario di", "fuso orario",
]
_CUE = re.compile("|".join(re.escape(c) for c in sorted(ZONE_CUES, key=len, reverse=True)))
_EMAIL = re.compile(r"\S+@\S+")


def zone_cue(text: str) -> bool:
    """Whether ``text`` has words that say "this is where I am" ("I'm in", "je suis à")."""
    return bool(_CUE.search(fold(text)))


def states_zone(text: str) -> bool:
    """Words that say "I am in <a place we know>" ("ich bin in Wien", "estou em Lisboa esta
    semana"), not a question ("I'm in London next week, any tips?")."""
    return not text.rstrip().endswith("?") and zone_cue(text) and find_zone(text) is not None


@dataclass(frozen=True)
class Heard:
    zone: ZoneInfo | None = None
    pref: TimePref | None = None


def heard(
    text: str,
    lang: str,
    tz: ZoneInfo,
    now: datetime,
    *,
    answering: str | None = None,
    intent: str | None = None,
) -> Heard:
    """The zone and time preference in ``text``. ``answering`` is the form question being
    answered (``email``, ``first_name``, ``company``) or None; ``tz`` the zone the visitor's
    words are read in."""
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return Heard()
    words = len(text.split())
    if answering in ("first_name", "company") and words <= 3:
        return Heard()  # "April", "Paris Baguette", "Monday.com" are answers
    place = None
    if (intent == "inform_timezone" or zone_cue(text)) and asks(text) != "zone":
        # "what time is that in New York?" asks about a place; it does not move the visitor there
        place = find_zone(text)
    pref = read_pref(_EMAIL.sub(" ", text), lang, place or tz, now)
    return Heard(zone=place, pref=pref if pref is not None and not pref.is_empty() else None)

"""Six languages: every text translated, language choice, time preferences, places."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import SUPPORTED, format_slot
from bot.i18n.catalog import catalog
from bot.i18n.detect import detect_language, requested_language
from bot.i18n.places import find_zone
from bot.i18n.texts import TEXTS, say
from bot.i18n.timeprefs import read_pref
from bot.scheduling import Interval
from bot.scheduling.preferences import windows
from tests.helpers import utc

PLACEHOLDER = re.compile(r"{(\w+)}")


@pytest.mark.parametrize("lang", [lang for lang in SUPPORTED if lang != "en"])
def test_every_text_exists_in_every_language(lang):
    translated = catalog(lang)
    missing = [key for key in TEXTS if not translated.get(key)]
    assert missing == [], f"{lang} lacks {missing}"
    for key, english in TEXTS.items():
        assert set(PLACEHOLDER.findall(translated[key])) == set(PLACEHOLDER.findall(english)), (lang, key)
        assert translated[key] != english or len(english) < 8, (lang, key)  # really translated
    assert set(translated) <= set(TEXTS), "the catalog has texts the code no longer says"


def test_say_falls_back_to_english_and_fills_values():
    assert say("callback_stored", "xx", email="a@b.c").startswith("Done: I've passed a@b.c")
    assert "a@b.c" in say("callback_stored", "fr", email="a@b.c")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("can we speak French?", "fr"),
        ("Parlez-vous anglais ?", "en"),
        ("auf Deutsch bitte", "de"),
        ("¿hablas español?", "es"),
        ("pode ser em português", "pt"),
        ("possiamo parlare italiano?", "it"),
        ("PORTUGUES por favor", "pt"),
        ("no language here", None),
    ],
)
def test_requested_language(text, lang):
    assert requested_language(text) == lang


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        ("hola", "en", "en"),  # too short to trust: keep the previous language
        ("Hallo!", "fr", "fr"),
        ("merci", "de", "de"),
        ("jo.visitor@example.org", "fr", "fr"),  # an e-mail answer says nothing about language
        ('/choose_slot{"slot_id":"abc"}', "it", "it"),  # a button payload either
        ("je voudrais prendre rendez-vous avec votre équipe", "en", "fr"),
        ("ich möchte gerne einen Termin mit dem Vertrieb", "en", "de"),
        ("quisiera reservar una reunión con ventas", "fr", "es"),
        ("gostaria de marcar uma reunião com vocês", "en", "pt"),
        ("vorrei prenotare un incontro con il vostro team", "en", "it"),
        ("I would like to book a meeting with sales", "de", "en"),  # a switch mid-way
    ],
)
def test_detection_keeps_the_previous_language_unless_sure(text, previous, expected):
    assert detect_language(text, previous) == expected


NOW = utc(2026, 12, 1, 8)  # Tuesday


@pytest.mark.parametrize(
    ("lang", "text", "tz", "start_local", "end_local"),
    [
        ("en", "do you have anything Thursday afternoon?", "Europe/London", "2026-12-03 12:00", "2026-12-03 18:00"),
        ("fr", "demain matin", "Europe/Paris", "2026-12-02 08:00", "2026-12-02 12:00"),
        ("de", "nächste Woche Dienstag", "Europe/Berlin", "2026-12-08 08:00", "2026-12-08 19:00"),
        ("es", "el viernes por la tarde", "Europe/Madrid", "2026-12-04 12:00", "2026-12-04 18:00"),
        ("pt", "amanhã à tarde", "America/Sao_Paulo", "2026-12-02 12:00", "2026-12-02 18:00"),
        ("it", "giovedì mattina", "Europe/Rome", "2026-12-03 08:00", "2026-12-03 12:00"),
    ],
)
def test_time_preferences_in_each_language(lang, text, tz, start_local, end_local):
    z = ZoneInfo(tz)
    [window] = windows(read_pref(text, lang, z, NOW), z, NOW, 14)
    assert window.start.astimezone(z).strftime("%Y-%m-%d %H:%M") == start_local
    assert window.end.astimezone(z).strftime("%Y-%m-%d %H:%M") == end_local


def test_time_preference_on_a_dst_change_day():
    # Saturday 24 Oct 2026; "tomorrow morning" in Paris is Sunday 25 Oct, when CEST ends at 03:00.
    paris = ZoneInfo("Europe/Paris")
    now = utc(2026, 10, 24, 8)
    [window] = windows(read_pref("demain matin", "fr", paris, now), paris, now, 14)
    assert window == Interval(utc(2026, 10, 25, 7), utc(2026, 10, 25, 11))  # 08:00 CET … 12:00 CET
    summer = utc(2026, 10, 23, 8)
    [window] = windows(read_pref("tomorrow morning", "en", paris, summer), paris, summer, 14)
    assert window == Interval(utc(2026, 10, 24, 6), utc(2026, 10, 24, 10))  # 08:00 … 12:00 CEST


def test_no_time_expression_is_none():
    assert read_pref("I'd like to book a meeting", "en", ZoneInfo("UTC"), NOW) is None
    assert read_pref('/choose_slot{"slot_id":"x"}', "en", ZoneInfo("UTC"), NOW) is None


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("I'm in Tokyo", "Asia/Tokyo"),
        ("show times in CET", "Europe/Paris"),
        ("je suis à Montréal", "America/Toronto"),
        ("ich bin in München", "Europe/Berlin"),
        ("estou em São Paulo", "America/Sao_Paulo"),
        ("sono a Milano", "Europe/Rome"),
        ("estoy en Ciudad de México", "America/Mexico_City"),
        ("use America/Chicago", "America/Chicago"),
        ("hello there", None),
        # abbreviations that are words: only in capitals, never before a named place
        ("wie spät ist es in Singapur?", "Asia/Singapore"),
        ("quelle heure est-il à Paris ?", "Europe/Paris"),
        ("cet après-midi ?", None),
        ("times in EST please", "America/New_York"),
        ("what is that in IST", "Asia/Kolkata"),
    ],
)
def test_places_to_zones(text, zone):
    found = find_zone(text)
    assert (found.key if found else None) == zone


def test_dates_follow_the_locale():
    start = utc(2026, 12, 1, 14)
    assert format_slot(start, ZoneInfo("Europe/Paris"), "fr") == "mar. 1 déc., 15:00"
    assert format_slot(start, ZoneInfo("Europe/Berlin"), "de") == "Di., 1. Dez., 15:00"
    assert format_slot(start, ZoneInfo("America/New_York"), "en_US") == "Tue, Dec 1, 9:00\u202fAM"
    assert date(2026, 12, 1).isoformat() in "2026-12-01"

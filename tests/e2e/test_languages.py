"""A whole booking in each language over REST: questions, slot labels, confirmation and e-mail
in the visitor's language; language requests, time preferences and zones in words."""

from __future__ import annotations

import email
import email.policy
import json
import re

import pytest

from bot.i18n.texts import say, template
from tests.helpers import mails_to

pytestmark = pytest.mark.e2e

ASK = {
    "en": "I'd like to book a meeting with your sales team",
    "fr": "Je voudrais prendre rendez-vous avec votre équipe commerciale",
    "de": "Ich möchte einen Termin mit Ihrem Vertrieb vereinbaren",
    "es": "Quisiera reservar una reunión con su equipo de ventas",
    "pt": "Gostaria de agendar uma reunião com a equipe de vendas",
    "it": "Vorrei prenotare un incontro con il vostro team commerciale",
}


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def prefix(key, lang):
    """The fixed start of a translated text, before its first placeholder."""
    return re.split(r"{\w+}", template(key, lang))[0].strip()


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es", "pt", "it"])
def test_full_booking_in_each_language(stack, var_dir, lang):
    sender = f"e2e-lang-{lang}"
    # fr and es are detected from the text; the others come with the widget's locale.
    meta = (
        {} if lang in ("fr", "es") else {"locale": {"en": "en-GB", "de": "de-DE", "pt": "pt-BR", "it": "it-IT"}[lang]}
    )
    r = stack.say(sender, ASK[lang], meta)
    assert say("ask_email", lang) in texts(r), r
    r = stack.say(sender, f"visitor.{lang}@example.com", meta)
    assert say("ask_first_name", lang) in texts(r), r
    r = stack.say(sender, "Alex", meta)
    assert say("ask_company", lang) in texts(r), r
    r = stack.say(sender, "Globex", meta)
    buttons = [b for x in r for b in x.get("buttons", [])]
    assert buttons and prefix("offer_intro", lang) in texts(r), r
    r = stack.say(sender, buttons[0]["payload"], meta)
    assert prefix("booked", lang) in texts(r), r
    [row] = [
        b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == f"visitor.{lang}@example.com"
    ]
    assert row["locale"].split("_")[0] == lang
    [eml] = [p for p in mails_to(var_dir / "outbox", row["visitor_email"]) if row["id"] in p.name]
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["Content-Language"] == lang
    body = msg.get_body(("plain",)).get_content()
    assert f"{say('email_when', lang)}: " in body and f"{say('email_code', lang)}: {row['id']}" in body


def test_switching_language_mid_way_and_asking_for_one(stack):
    sender = "e2e-switch"
    r = stack.say(sender, "hello there")
    assert prefix("greet", "en") in texts(r)
    r = stack.say(sender, "can we speak Spanish please?")
    assert say("language_switched", "es") in texts(r), r
    r = stack.say(sender, "hello")  # short, ambiguous text: the chosen language holds
    assert prefix("greet", "es") in texts(r), r


def test_zone_in_words_and_a_time_window(stack):
    sender = "e2e-window"
    meta = {"person": {"first_name": "Wen", "email": "wen@example.com"}, "company": {"name": "Window Co"}}
    r = stack.say(sender, "I'd like to book a meeting", meta)
    assert [b for x in r for b in x.get("buttons", [])]
    r = stack.say(sender, "I'm in Tokyo", meta)
    assert "Tokyo" in texts(r) and [b for x in r for b in x.get("buttons", [])], r
    r = stack.say(sender, "do you have anything Thursday afternoon?", meta)
    text = texts(r)
    assert prefix("offer_window", "en") in text or prefix("no_slots_in_window", "en") in text, r

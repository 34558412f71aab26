"""The booking form's questions: asked once per turn, and without "Thanks!" when the visitor's
answer did not do ("Sorry, I didn't get that. What's your first name?" is not followed by
"Thanks! And your first name?")."""

from __future__ import annotations

import asyncio

import pytest

from actions.action_ask_company import ActionAskCompany
from actions.action_ask_email import ActionAskEmail
from actions.action_ask_first_name import ActionAskFirstName
from bot.i18n.texts import say
from tests.helpers import make_tracker, run

LANGS = ["en", "fr", "de", "es", "pt", "it"]


def _turn(asked: str | None, answer: str, said: list[str], lang: str = "en") -> list[dict]:
    """Events of a conversation: the form asked for ``asked`` (None: no question yet), the
    visitor answered ``answer``, and the assistant has said ``said`` since."""
    events: list[dict] = [{"event": "action", "name": "action_listen"}]
    if asked is not None:
        events += [
            {"event": "action", "name": "booking_form"},
            {"event": "bot", "text": say(f"ask_{asked}", lang)},
            {"event": "slot", "name": "requested_slot", "value": asked},
            {"event": "action", "name": "action_listen"},
        ]
    events.append({"event": "user", "text": answer, "parse_data": {}})
    events.append({"event": "action", "name": "booking_form"})
    events += [{"event": "bot", "text": t} for t in said]
    return events


def _said(action, events, lang="en") -> list[str]:
    tracker = make_tracker(
        text=[e for e in events if e["event"] == "user"][-1]["text"],
        slots={"language": lang, "requested_slot": action.slot},
        events=events,
        active_loop="booking_form",
    )
    messages, _ = asyncio.run(run(action, tracker))
    return [m["text"] for m in messages]


@pytest.mark.parametrize("lang", LANGS)
def test_the_first_question_is_the_friendly_one(lang):
    assert _said(ActionAskEmail(), _turn(None, "book a demo", [], lang), lang) == [say("ask_email", lang)]
    assert _said(ActionAskFirstName(), _turn("email", "jo@acme.example", [], lang), lang) == [say("ask_first_name", lang)]


@pytest.mark.parametrize("lang", LANGS)
def test_a_refusal_that_already_asks_again_is_not_followed_by_the_question(lang):
    events = _turn("first_name", "<b>Jo</b>", [say("invalid_first_name", lang)], lang)
    assert _said(ActionAskFirstName(), events, lang) == []


@pytest.mark.parametrize("lang", LANGS)
def test_after_an_answer_that_did_not_do_the_question_comes_without_thanks(lang):
    events = _turn("first_name", "http://spam.example", [say("name_not_plain", lang)], lang)
    again = _said(ActionAskFirstName(), events, lang)
    assert again == [say("reask_first_name", lang)]
    assert again != [say("ask_first_name", lang)]
    events = _turn("company", "how long is the meeting?", ["The meeting is 30 minutes."], lang)
    assert _said(ActionAskCompany(), events, lang) == [say("reask_company", lang)]
    events = _turn("email", "nope", [say("invalid_email", lang)], lang)
    assert _said(ActionAskEmail(), events, lang) == [say("reask_email", lang)]


def test_the_next_question_after_a_good_answer_is_the_friendly_one():
    """The e-mail was taken: the name question is new, not a repeat."""
    events = _turn("email", "jo@acme.example", [], "en")
    assert _said(ActionAskFirstName(), events) == [say("ask_first_name", "en")]
    assert _said(ActionAskCompany(), _turn("first_name", "Jo", [], "en")) == [say("ask_company", "en")]


@pytest.mark.parametrize("lang", LANGS)
def test_every_repeat_is_a_question_in_the_visitors_language(lang):
    for slot in ("email", "first_name", "company"):
        text = say(f"reask_{slot}", lang)
        assert text.rstrip().endswith("?")
        assert lang == "en" or text != say(f"reask_{slot}", "en")

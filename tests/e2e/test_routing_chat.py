"""Routing rules through the chat (issue 19), in English and German, on the real three processes
with tests/e2e/routing.yml: a disqualified visitor is answered in their language with the link
and offered no times; a big account books, and the booking's explanation names the rule."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def buttons(replies):
    return [b for r in replies for b in r.get("buttons", [])]


@pytest.mark.parametrize(
    "locale, message, industry, expected",
    [
        ("en-US", "hi, can i book a demo for next week?", "education", "We don't run demos for students"),
        ("de-DE", "Hallo, ich haette gern einen Termin fuer eine Demo", "Bildung", "Für Studierende bieten wir keine Demos an"),
    ],
)
def test_a_disqualified_visitor_hears_why_in_their_language_and_gets_no_times(stack, locale, message, industry, expected):
    sender = f"e2e-routing-dq-{locale}"
    email = f"student.{locale.lower()}@uni.example"
    meta = {
        "locale": locale,
        "timezone": "Europe/Berlin",
        "person": {"first_name": "Sam", "email": email},
        "company": {"name": "Uni", "industry": industry, "e2e_routing": "yes"},
    }
    replies = stack.say(sender, message, meta)
    assert expected in texts(replies) and "https://example.com/guides" in texts(replies), replies
    assert not buttons(replies), replies
    again = stack.say(sender, "other times?" if locale.startswith("en") else "andere Zeiten?", meta)
    assert not buttons(again), again
    assert not [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == email]


def test_a_big_account_books_and_the_explanation_names_the_rule(stack):
    sender = "e2e-routing-big"
    meta = {
        "locale": "en-GB",
        "timezone": "Europe/London",
        "person": {"first_name": "Bea", "email": "bea@megacorp.example"},
        "company": {"name": "MegaCorp", "size": "25,000", "e2e_routing": "yes"},
    }
    replies = stack.say(sender, "I'd like to book a meeting", meta)
    offered = buttons(replies)
    assert offered, replies
    replies = stack.say(sender, offered[0]["payload"], meta)
    assert "You're booked!" in texts(replies), replies
    [row] = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "bea@megacorp.example"]
    assert row["queue"] == "sales"
    explained = stack.cli("explain", row["id"])
    assert "Routing rule 'big accounts' (routing.yml line" in explained and "company.size = '25,000'" in explained

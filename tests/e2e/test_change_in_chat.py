"""Move and cancel a booking in chat (issue 9), through Rasa's REST channel against the real
three processes: identified by the conversation, or by e-mail and booking code from elsewhere."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from tests.helpers import mails_to

pytestmark = pytest.mark.e2e


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def buttons(replies):
    return [b for r in replies for b in r.get("buttons", [])]


def _parsed(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _ics(path) -> list[str]:
    return [p.get_payload(decode=True).decode() for p in _parsed(path).iter_attachments()
            if p.get_content_type() == "text/calendar"]


def _ics_methods(path) -> list[str]:
    return [text.split("METHOD:", 1)[1].split()[0] for text in _ics(path)]


def _book(stack, sender, meta):
    r = stack.say(sender, "I'd like to book a meeting", meta)
    offered = buttons(r)
    assert offered, r
    r = stack.say(sender, offered[0]["payload"], meta)
    assert "You're booked!" in texts(r), r
    [row] = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == meta["person"]["email"]]
    return row


def test_move_in_the_same_conversation_keeps_the_host(stack, var_dir):
    meta = {"person": {"first_name": "Rae", "email": "rae@example.com"}, "company": {"name": "Hooli"}, "queue": "sales"}
    sender = "e2e-mover"
    booked = _book(stack, sender, meta)
    r = stack.say(sender, "I need to move my meeting", meta)
    offered = buttons(r)
    assert offered and f"new times with {booked['agent_name']}" in texts(r), r
    r = stack.say(sender, "other times please", meta)
    later = buttons(r)
    assert later and not {b["payload"] for b in later} & {b["payload"] for b in offered}, r
    r = stack.say(sender, later[0]["payload"], meta)
    assert "moved to" in texts(r) and booked["agent_name"] in texts(r), r
    [row] = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "rae@example.com"]
    assert row["id"] == booked["id"] and row["status"] == "confirmed" and row["start"] != booked["start"]
    assert row["agent_email"] == booked["agent_email"]
    moved = [p for p in mails_to(var_dir / "outbox", "rae@example.com") if "-moved-1@" in _parsed(p)["Message-ID"]]
    assert len(moved) == 1 and _ics_methods(moved[0]) == ["REQUEST"]
    assert "SEQUENCE:1" in _ics(moved[0])[0] and f"UID:{booked['id']}@" in _ics(moved[0])[0]


def test_cancel_from_another_conversation_with_email_and_code(stack, var_dir):
    meta = {"person": {"first_name": "Sam", "email": "sam@example.com"}, "company": {"name": "Umbrella"}}
    booked = _book(stack, "e2e-first-visit", meta)
    sender = "e2e-second-visit"  # another browser: the conversation knows no booking
    r = stack.say(sender, "cancel my appointment")
    assert "booking code" in texts(r), r
    r = stack.say(sender, f"sam@example.com {'0123abcd' * 2}")
    assert "couldn't find" in texts(r), r
    r = stack.say(sender, f"sam@example.com {booked['id'][:12]}")
    assert "Do you want to cancel" in texts(r), r
    assert [b["payload"] for b in buttons(r)] == ["/affirm", "/deny"]
    r = stack.say(sender, "/affirm")
    assert "is cancelled" in texts(r), r
    [row] = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "sam@example.com"]
    assert row["status"] == "cancelled"
    cancel_mails = [p for p in mails_to(var_dir / "outbox", "sam@example.com") if _ics_methods(p) == ["CANCEL"]]
    assert len(cancel_mails) == 1
    # A later "yes" cancels nothing more, and asking again finds no upcoming meeting.
    r = stack.say(sender, "cancel my appointment")
    assert "booking code" in texts(r), r


def test_move_in_german(stack):
    meta = {
        "person": {"first_name": "Uwe", "email": "uwe@example.de"},
        "company": {"name": "Initech"},
        "locale": "de-DE",
        "timezone": "Europe/Berlin",
    }
    sender = "e2e-verschieben"
    _book_r = stack.say(sender, "Ich möchte einen Termin buchen", meta)
    offered = buttons(_book_r)
    assert offered, _book_r
    r = stack.say(sender, offered[0]["payload"], meta)
    assert "Termin" in texts(r), r
    r = stack.say(sender, "ich muss meinen Termin verschieben", meta)
    assert buttons(r) and "neue" in texts(r).lower(), r

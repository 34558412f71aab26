"""Whole conversations over Rasa's REST channel against the real three processes."""

from __future__ import annotations

import email
import email.policy
import json
import urllib.error
import urllib.request

import pytest

from bot.booking import CONTRACT_FIELDS
from tests.helpers import mails_to

pytestmark = pytest.mark.e2e


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def buttons(replies):
    return [b for r in replies for b in r.get("buttons", [])]


def test_full_booking_asks_for_everything_then_confirms(stack, var_dir):
    sender = "e2e-anon"
    r = stack.say(sender, "hello")
    assert "booking assistant" in texts(r)
    r = stack.say(sender, "I'd like to book a meeting")
    assert "e-mail" in texts(r)
    r = stack.say(sender, "not an address")
    assert "doesn't look like an e-mail" in texts(r)
    r = stack.say(sender, "my email is jo.visitor@example.org")
    assert "first name" in texts(r)
    r = stack.say(sender, "I'm Jo <script>alert(1)</script>")  # clearly not a name: asked again
    assert "first name" in texts(r) and "company" not in texts(r)
    r = stack.say(sender, "I'm Jo")
    assert "company" in texts(r)
    r = stack.say(sender, "Initech")
    offered = buttons(r)
    assert len(offered) == 5, r
    assert "(London)" in texts(r)  # no timezone metadata: the queue's zone, named
    assert all(b["payload"].startswith('/choose_slot{"slot_id":"') for b in offered)
    r = stack.say(sender, offered[0]["payload"])
    assert "You're booked!" in texts(r), r
    assert "/meet/" in texts(r)
    rows = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "jo.visitor@example.org"]
    assert len(rows) == 1 and rows[0]["status"] == "confirmed"
    booking = rows[0]
    assert set(CONTRACT_FIELDS) <= booking.keys()
    assert booking["queue"] == "sales" and booking["start"].endswith("Z")
    [eml] = [p for p in mails_to(var_dir / "outbox", booking["visitor_email"]) if booking["id"] in p.name]
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    body = msg.get_body(("plain",)).get_content()
    assert "Hi Jo," in body and "Initech" in body
    ics = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(ics) == 1 and b"METHOD:REQUEST" in ics[0].get_payload(decode=True)
    assert booking["conference_url"] in ics[0].get_payload(decode=True).decode()


def test_known_visitor_books_in_two_turns_in_their_zone(stack, var_dir):
    meta = {
        "person": {"first_name": "Kim", "email": "kim@example.com"},
        "company": {"name": "Globex <script>alert(1)</script>"},  # the page's data: kept, and inert
        "timezone": "America/Los_Angeles",
        "locale": "en-US",
        "queue": "sales",
    }
    sender = "e2e-known"
    r = stack.say(sender, "can I book a demo with your team?", meta)
    offered = buttons(r)
    assert offered and "Los Angeles" in texts(r), r
    r = stack.say(sender, "none of these work", meta)
    later = buttons(r)
    assert later and not {b["payload"] for b in later} & {b["payload"] for b in offered}
    r = stack.say(sender, later[0]["payload"], meta)
    assert "You're booked!" in texts(r) and "kim@example.com" in texts(r)
    [row] = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "kim@example.com"]
    assert row["timezone"] == "America/Los_Angeles" and row["locale"] == "en_US"
    [eml] = [p for p in mails_to(var_dir / "outbox", "kim@example.com") if row["id"] in p.name]
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert "Globex <script>alert(1)</script>" in msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",)).get_content()
    assert "<script>" not in html_part and "Globex &lt;script&gt;" in html_part


def test_forged_and_foreign_offers_book_nothing(stack):
    meta = {"person": {"first_name": "Eve", "email": "eve@example.com"}, "company": {"name": "Evil"}}
    r = stack.say("e2e-victim", "book a meeting", {**meta, "person": {"first_name": "Vic", "email": "v@example.com"}})
    victims = buttons(r)
    stack.say("e2e-eve", "book a meeting", meta)
    for payload in ['/choose_slot{"slot_id":"nope"}', victims[0]["payload"]]:
        r = stack.say("e2e-eve", payload, meta)
        assert "not available" in texts(r) and buttons(r)
    emails = {b["visitor_email"] for b in json.loads(stack.cli("bookings", "--json"))}
    assert "eve@example.com" not in emails


def test_stop_during_the_form_and_out_of_scope(stack):
    r = stack.say("e2e-stop", "i want to schedule a call")
    assert "e-mail" in texts(r)
    r = stack.say("e2e-stop", "stop")
    assert "stopped" in texts(r)
    r = stack.say("e2e-stop", "book me a flight to Paris")
    assert "can't help with that" in texts(r)


def test_malformed_metadata_is_ignored(stack):
    bad = {
        "timezone": "Mars/Olympus",
        "queue": {"x": 1},
        "person": "not an object",
        "locale": 42,
        "company": {"name": ["list"]},
    }
    r = stack.say("e2e-bad-meta", "book a meeting", bad)
    assert "e-mail" in texts(r)


def test_chat_page_and_relay(stack):
    with urllib.request.urlopen(f"{stack.web}/", timeout=10) as page:
        assert b"/static/chat.js" in page.read()
    r = stack.post(f"{stack.web}/chat", {"sender": "e2e-web", "message": "hello", "metadata": {}})
    assert "booking assistant" in texts(r)
    with pytest.raises(urllib.error.HTTPError) as err:
        stack.post(f"{stack.web}/chat", {"sender": "bad sender!", "message": "hi"})
    assert err.value.code == 400

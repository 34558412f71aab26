"""A visitor books with an Outlook-connected agent (the fake Microsoft), through the real processes."""

from __future__ import annotations

import json
import urllib.parse

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_agent_connects_outlook_then_a_visitor_gets_a_teams_link(stack, microsoft):
    stack.cli("queue", "set", "msales", "--name", "Outlook sales", "--timezone", "Europe/Dublin", "--notice", "60")
    links = stack.cli(
        "agent",
        "invite",
        "mo@contoso.example",
        "--queue",
        "msales",
        "--name",
        "Mo",
        "--timezone",
        "Europe/Dublin",
        "--provider",
        "microsoft",
    ).splitlines()
    invite = urllib.parse.urlsplit(links[0]).query
    start = requests.get(f"{stack.web}/oauth/microsoft/start?{invite}", allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    browser = requests.Session()
    browser.trust_env = False
    browser.verify = microsoft.ca_path
    consent = browser.get(start.headers["location"], allow_redirects=False, timeout=10)
    back = urllib.parse.urlsplit(consent.headers["location"])
    done = requests.get(f"{stack.web}{back.path}?{back.query}", timeout=30)
    assert done.status_code == 200 and "connected" in done.text, done.text

    meta = {
        "person": {"first_name": "Sean", "email": "sean@example.com"},
        "company": {"name": "Liffey"},
        "queue": "msales",
    }
    replies = stack.say("e2e-outlook", "can I book a call?", meta)
    offered = [b for r in replies for b in r.get("buttons", [])]
    assert offered, replies
    replies = stack.say("e2e-outlook", offered[0]["payload"], meta)
    text = " ".join(r.get("text", "") for r in replies)
    assert "You're booked! Mo" in text and "https://teams.microsoft.com/" in text, replies
    [row] = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "sean@example.com"]
    assert row["provider"] == "microsoft"
    [event] = [e for e in microsoft.events["mo@contoso.example"].values() if e.get("transactionId") == row["id"]]
    assert event["attendees"][0]["emailAddress"]["address"] == "sean@example.com"
    assert event["start"]["dateTime"].startswith(row["start"].replace("Z", ""))

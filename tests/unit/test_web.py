"""The web app through Sanic's test client, with a real store and a fake-free Rasa URL."""

from __future__ import annotations

import pytest

from bot.booking import Visitor
from bot.settings import Settings
from bot.web import create_app
from tests.helpers import add_queue


@pytest.fixture
def app(store, settings):
    # Nothing listens on port 9: the relay must fail cleanly, never hang or 500.
    cfg = Settings(var_dir=settings.var_dir, rasa_url="http://127.0.0.1:9")
    return create_app(cfg, store=store)


def test_health_and_security_headers(app):
    _, resp = app.test_client.get("/health")
    assert resp.status == 200 and resp.json == {"status": "ok", "database": "ok"}
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_chat_page_and_static_files(app):
    _, resp = app.test_client.get("/")
    assert resp.status == 200 and "/static/chat.js" in resp.text
    _, resp = app.test_client.get("/static/chat.js")
    assert resp.status == 200 and "textContent" in resp.text and "innerHTML" not in resp.text
    _, resp = app.test_client.get("/static/..%2f..%2fsettings.py")
    assert resp.status == 404


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"sender": "", "message": "hi"},
        {"sender": "a b", "message": "hi"},
        {"sender": "ok", "message": ""},
        {"sender": "ok", "message": "x" * 2001},
        {"sender": "ok", "message": "hi", "metadata": "nope"},
    ],
)
def test_chat_relay_rejects_bad_input(app, body):
    _, resp = app.test_client.post("/chat", json=body)
    assert resp.status == 400 and "error" in resp.json


def test_chat_relay_reports_rasa_down_plainly(app):
    _, resp = app.test_client.post("/chat", json={"sender": "ok", "message": "hi", "metadata": {}})
    assert resp.status == 503 and "not reachable" in resp.json["error"]


def test_meeting_room_escapes_and_404s(app, service, store):
    add_queue(store, subject="Meeting with {{person.first_name}}")
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    booking = service.book("c", offer.id, Visitor(email="x@example.com", first_name="<b>X</b>"))
    _, resp = app.test_client.get(f"/meet/{booking.booking_id}")
    assert resp.status == 200 and "&lt;b&gt;X&lt;/b&gt;" in resp.text and "<b>X</b>" not in resp.text
    _, resp = app.test_client.get("/meet/" + "0" * 32)
    assert resp.status == 404
    _, resp = app.test_client.get("/meet/not-a-key")
    assert resp.status == 404


def test_the_relay_keeps_a_visitor_on_one_rasa_server():
    from bot.settings import Settings
    from bot.web.app import rasa_for

    urls = Settings(rasa_url="http://127.0.0.1:5005, http://127.0.0.1:5006/,").rasa_urls
    assert urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    senders = [f"visitor-{i}" for i in range(400)]
    first = {s: rasa_for(urls, s) for s in senders}
    assert all(rasa_for(urls, s) == first[s] for s in senders)  # sticky
    share = sum(u == urls[0] for u in first.values()) / len(senders)
    assert 0.4 < share < 0.6  # and spread
    # A third server takes about a third of the visitors and moves nobody else.
    more = urls + ["http://127.0.0.1:5007"]
    moved = [s for s in senders if rasa_for(more, s) != first[s]]
    assert all(rasa_for(more, s) == more[2] for s in moved) and 0.2 < len(moved) / len(senders) < 0.45


def test_the_page_sets_the_sticky_visitor_cookie_once(settings, store):
    from bot.web import create_app

    app = create_app(settings, store)
    _req, resp = app.test_client.get("/")
    cookie = resp.cookies.get("bot_visitor")
    assert resp.status == 200 and cookie and len(cookie) >= 16
    header = [v for k, v in resp.headers.items() if k.lower() == "set-cookie"][0].lower()
    assert "httponly" in header and "samesite=lax" in header
    _req, again = app.test_client.get("/", cookies={"bot_visitor": cookie})
    assert "bot_visitor" not in again.cookies  # kept, not replaced

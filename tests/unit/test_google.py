"""Google Calendar with the real client libraries against the fake Google on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import urllib.parse
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from bot.booking import BookingService, Visitor
from bot.calendars.base import AgentRef, EventRequest
from bot.calendars.connect import invite_token
from bot.calendars.google import GoogleCalendar, event_id
from bot.calendars.local import LocalCalendar
from bot.errors import ProviderUnavailable
from bot.messages.outbox import FileOutbox
from bot.ops.runtime import _reconnect_notice, google_config, vault
from bot.settings import Settings
from bot.store.models import Agent, CalendarConnection, CalendarEvent, OAuthState
from bot.web import create_app
from tests.fakes.google import FakeGoogle
from tests.helpers import add_queue, mails_to, utc

AGENT = "gina@acme.example"


@pytest.fixture
def google(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks plain HTTP on loopback
    with FakeGoogle() as g:
        g.add_user(AGENT)
        g.add_user("someone.else@acme.example")
        yield g


@pytest.fixture
def gsettings(settings, google):
    return Settings(
        var_dir=settings.var_dir,
        public_url="http://localhost:8000",
        google_client_id=google.client_id,
        google_client_secret=google.client_secret,
        google_api_base_url=google.url,
        google_auth_uri=google.auth_uri,
        google_token_uri=google.token_uri,
        google_revoke_uri=google.revoke_uri,
        provider_timeout_seconds=2.0,
    )


@pytest.fixture
def app(store, gsettings):
    return create_app(gsettings, store=store)


def connect(app, gsettings, google, email_=AGENT, queue="sales"):
    """Walk the OAuth flow as a browser would: our start → Google consent → our callback."""
    token = invite_token(vault(gsettings), email_, queue, "Gina", "Europe/Rome")
    _, page = app.test_client.get(f"/portal/connect/google?invite={token}")
    assert page.status == 200 and "See when you are busy" in page.text
    _, start = app.test_client.get(f"/oauth/google/start?invite={token}", allow_redirects=False)
    assert start.status == 302
    consent = requests.get(start.headers["location"], allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    callback = urllib.parse.urlsplit(consent.headers["location"])
    _, done = app.test_client.get(f"/oauth/google/callback?{callback.query}")
    return done, callback.query


@pytest.fixture
def connected(app, gsettings, google, store):
    add_queue(store, agents=[])
    done, _ = connect(app, gsettings, google)
    assert done.status == 200, done.text
    with store.session() as s:
        return s.execute(select(Agent).where(Agent.email == AGENT)).scalar_one().id


def provider(store, gsettings, sleeps=None, outbox=None):
    v = vault(gsettings)
    notify = _reconnect_notice(gsettings, store, v, outbox) if outbox else None
    return GoogleCalendar(
        store,
        v,
        google_config(gsettings),
        on_needs_reconnect=notify,
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
    )


def test_connect_stores_an_encrypted_token_and_joins_the_queue(connected, store, google, gsettings):
    with store.session() as s:
        conn = s.execute(select(CalendarConnection)).scalar_one()
        agent = s.get(Agent, connected)
        assert conn.status == "connected" and conn.account_email == AGENT and agent.provider == "google"
        assert agent.timezone == "Europe/Rome" and agent.name == "Gina"
        assert "calendar.events" in conn.scopes and "auth/calendar " not in conn.scopes + " "
    [refresh] = google.issued_refresh_tokens()
    db_bytes = (gsettings.var_dir / "bot.db").read_bytes() + b"".join(
        p.read_bytes() for p in gsettings.var_dir.glob("bot.db-*")
    )
    assert refresh.encode() not in db_bytes
    consent = [r for r in google.requests if r["path"].startswith("/o/oauth2/auth")][0]
    assert consent["query"]["code_challenge_method"] == "S256" and consent["query"]["access_type"] == "offline"
    assert "https://www.googleapis.com/auth/calendar " not in consent["query"]["scope"] + " "


def test_reconnecting_replaces_the_connection(connected, app, gsettings, google, store):
    done, _ = connect(app, gsettings, google)
    assert done.status == 200
    with store.session() as s:
        assert len(s.execute(select(CalendarConnection)).all()) == 1


def test_oauth_failures_store_nothing(app, gsettings, google, store):
    add_queue(store, agents=[])
    _, bad = app.test_client.get("/oauth/google/callback?state=forged&code=x")
    assert bad.status == 400 and "not valid" in bad.text
    _, bad = app.test_client.get("/portal/connect/google?invite=tampered.token")
    assert bad.status == 400 and "expired" in bad.text
    google.deny_consent = True
    done, _ = connect(app, gsettings, google)
    assert done.status == 400 and "did not give access" in done.text
    google.deny_consent = False
    google.consent_as = "someone.else@acme.example"
    done, _ = connect(app, gsettings, google)
    assert done.status == 400 and "invitation is for" in done.text
    google.consent_as = AGENT
    done, query = connect(app, gsettings, google)
    assert done.status == 200
    _, replay = app.test_client.get(f"/oauth/google/callback?{query}")
    assert replay.status == 400 and "already used" in replay.text
    with store.session() as s:
        assert len(s.execute(select(CalendarConnection)).all()) == 1
        assert all(st.used_at is not None for st in s.execute(select(OAuthState)).scalars())


def test_missing_code_is_a_clear_error(app, gsettings, google, store):
    token = invite_token(vault(gsettings), AGENT, None)
    _, start = app.test_client.get(f"/oauth/google/start?invite={token}", allow_redirects=False)
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(start.headers["location"]).query)["state"][0]
    _, done = app.test_client.get(f"/oauth/google/callback?state={state}")
    assert done.status == 400 and "authorization code" in done.text


# ---- one contract, every provider -----------------------------------------------------------
@pytest.fixture(params=["local", "google"])
def any_provider(request, store, settings):
    if request.param == "local":
        [agent_id] = add_queue(store)

        def attendee(event_id):
            with store.session() as s:
                return s.get(CalendarEvent, int(event_id)).attendee_email

        return LocalCalendar(store, settings.public_url), AgentRef(agent_id, "ada@agents.example", "Ada"), attendee
    agent_id = request.getfixturevalue("connected")
    google = request.getfixturevalue("google")
    cal = provider(store, request.getfixturevalue("gsettings"))
    return cal, AgentRef(agent_id, AGENT, "Gina"), lambda event_id: google.events[AGENT][event_id]["attendees"][0]["email"]


def test_provider_contract(any_provider):
    run_contract(*any_provider)


def run_contract(cal, agent, attendee):
    """What every provider must do: idempotent create, find by key, busy, move, a new attendee
    (``attendee(event_id)`` reads it back), cancel (twice)."""
    window = (utc(2026, 12, 1), utc(2026, 12, 8))
    key = "a1" * 16
    req = EventRequest(
        key, agent, utc(2026, 12, 2, 10), utc(2026, 12, 2, 10, 30), "Meeting", "Body", "v@example.com", "Vic", True
    )
    assert cal.find_event(agent, key) is None  # the reconciler's question before anything exists
    first = cal.create_event(req)
    assert cal.find_event(agent, key) == first
    assert cal.find_event(agent, "b2" * 16) is None
    again = cal.create_event(req)  # a retry: the same event, not a second one
    assert again.provider_event_id == first.provider_event_id and first.conference_url
    busy = cal.busy([agent], *window)[agent.id].intervals()
    assert [(b.start, b.end) for b in busy] == [(utc(2026, 12, 2, 10), utc(2026, 12, 2, 10, 30))]
    cal.update_event(agent, first.provider_event_id, utc(2026, 12, 3, 9), utc(2026, 12, 3, 9, 30))
    assert [b.start for b in cal.busy([agent], *window)[agent.id].intervals()] == [utc(2026, 12, 3, 9)]
    assert attendee(first.provider_event_id) == "v@example.com"
    cal.update_attendee(agent, first.provider_event_id, "vic@example.org", "Vic")
    assert attendee(first.provider_event_id) == "vic@example.org"
    assert [b.start for b in cal.busy([agent], *window)[agent.id].intervals()] == [utc(2026, 12, 3, 9)]
    cal.cancel_event(agent, first.provider_event_id)
    cal.cancel_event(agent, first.provider_event_id)  # twice is fine
    assert len(cal.busy([agent], *window)[agent.id]) == 0
    assert cal.find_event(agent, key) is None  # a cancelled event does not confirm a booking


# ---- booking through Google -------------------------------------------------------------------
def service_for(store, gsettings, clock, outbox_dir, **kw):
    return BookingService(
        store,
        {"local": LocalCalendar(store, gsettings.public_url), "google": provider(store, gsettings, **kw)},
        FileOutbox(outbox_dir),
        clock=clock,
    )


VISITOR = Visitor(email="vic@example.com", first_name="Vic", company_name="Initech", timezone="Europe/Paris")


def test_booking_gets_a_meet_link_and_the_attendee(connected, store, gsettings, clock, google):
    google.add_busy(AGENT, utc(2026, 12, 1, 12), utc(2026, 12, 1, 14))  # 13:00-15:00 in Rome
    svc = service_for(store, gsettings, clock, gsettings.outbox_dir)
    page = svc.offer_slots("c", "sales", count=3, spread=False)
    assert page.slots[0].start == utc(2026, 12, 1, 14)  # after the busy block; Rome hours 9-17
    result = svc.book("c", page.slots[0].id, VISITOR)
    assert result.conference_url.startswith("https://meet.google.com/")
    ev = google.events[AGENT][event_id(result.booking_id)]
    assert ev["attendees"][0]["email"] == "vic@example.com"
    assert ev["start"]["dateTime"].startswith("2026-12-01T14:00:00")
    insert = [r for r in google.requests if r["method"] == "POST" and r["path"].endswith("/events")][0]
    assert insert["query"]["sendUpdates"] == "all" and insert["query"]["conferenceDataVersion"] == "1"
    [eml] = mails_to(gsettings.outbox_dir, VISITOR.email)
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert result.conference_url in msg.get_body(("plain",)).get_content()
    assert not [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]  # Google invites
    svc.close()


def test_reschedule_patches_the_event_and_google_tells_the_attendee(connected, store, gsettings, clock, google):
    svc = service_for(store, gsettings, clock, gsettings.outbox_dir)
    result = svc.book("c", svc.offer_slots("c", "sales", count=1).slots[0].id, VISITOR)
    page, same = svc.offer_reschedule("c", result.booking_id, count=3)
    assert same == 3
    # Google is down while moving: the booking stays where it was.
    google.fail_next("patch", 503, times=50)
    with pytest.raises(ProviderUnavailable):
        svc.reschedule("c", page.slots[1].id)
    assert svc.get_booking(result.booking_id)["sequence"] == 0
    google.recover("patch")
    moved = svc.reschedule("c", page.slots[1].id)
    assert moved.booking_id == result.booking_id and moved.conference_url == result.conference_url
    ev = google.events[AGENT][event_id(result.booking_id)]
    assert ev["start"]["dateTime"].startswith(page.slots[1].start.strftime("%Y-%m-%dT%H:%M"))
    patches = [r for r in google.requests if r["method"] == "PATCH"]
    assert patches and all(r["query"]["sendUpdates"] == "all" for r in patches)
    moved_mail = [p for p in mails_to(gsettings.outbox_dir, VISITOR.email) if "-moved-1@" in p.read_text()]
    msg = email.message_from_bytes(moved_mail[0].read_bytes(), policy=email.policy.default)
    assert not [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]  # Google invites
    svc.close()


def test_rate_limit_honours_retry_after_then_books(connected, store, gsettings, clock, google):
    sleeps: list[float] = []
    svc = service_for(store, gsettings, clock, gsettings.outbox_dir, sleeps=sleeps)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    google.fail_next("insert", 403, reason="rateLimitExceeded")  # no Retry-After: backoff with jitter
    assert svc.book("c", offer.id, VISITOR).conference_url
    assert len(sleeps) == 1 and 0 < sleeps[0] < 1
    offer = svc.offer_slots("c2", "sales", count=1).slots[0]
    google.fail_next("insert", 429, retry_after=1)
    assert svc.book("c2", offer.id, VISITOR).conference_url
    assert sleeps[1:] == [1.0]
    svc.close()


def test_outage_releases_the_hold_and_says_unavailable(connected, store, gsettings, clock, google):
    sleeps: list[float] = []
    svc = service_for(store, gsettings, clock, gsettings.outbox_dir, sleeps=sleeps)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    google.fail_next("insert", 503, times=50)
    with pytest.raises(ProviderUnavailable):
        svc.book("c", offer.id, VISITOR)
    assert sum(sleeps) <= 5.0 and len(sleeps) >= 2
    [row] = svc.list_bookings()
    assert row["status"] == "failed"
    assert svc.offer_slots("c2", "sales", count=1).slots[0].start == offer.start  # the time is free again
    svc.close()


def test_timeout_then_retry_reuses_the_event(connected, store, gsettings, clock, google):
    svc = service_for(store, gsettings, clock, gsettings.outbox_dir)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    google.delay_next("insert", 2.5)  # longer than the 2 s client timeout: Google made it, we did not hear
    result = svc.book("c", offer.id, VISITOR)
    assert len([e for e in google.events[AGENT].values() if e["status"] != "cancelled"]) == 1
    assert result.conference_url.startswith("https://meet.google.com/")
    svc.close()


def test_revoked_grant_fails_closed_and_tells_the_agent(connected, store, gsettings, clock, google):
    outbox = FileOutbox(gsettings.var_dir / "agent-mail")
    svc = BookingService(
        store, {"google": provider(store, gsettings, outbox=outbox)}, FileOutbox(gsettings.outbox_dir), clock=clock
    )
    for token in google.issued_refresh_tokens():
        google.revoke_refresh_token(token)
    assert svc.offer_slots("c", "sales").slots == []  # never treated as free
    with store.session() as s:
        conn = s.execute(select(CalendarConnection)).scalar_one()
        assert conn.status == "needs_reconnect" and "invalid_grant" in conn.last_error
    [notice] = (gsettings.var_dir / "agent-mail").glob("*.eml")
    text = notice.read_text()
    assert AGENT in text and "/portal/connect/google?invite=" in text
    svc.close()


def test_expired_access_token_is_refreshed_once(connected, store, gsettings, google):
    cal = provider(store, gsettings)
    agent = AgentRef(connected, AGENT, "Gina")
    assert len(cal.busy([agent], utc(2026, 12, 1), utc(2026, 12, 2))[connected]) == 0
    google.expire_access_tokens()
    cal.forget(connected)
    assert connected in cal.busy([agent], utc(2026, 12, 1), utc(2026, 12, 2))
    tokens = [r for r in google.requests if r["path"] == "/token"]
    assert len(tokens) >= 3  # code exchange, first access token, the refresh after 401


def test_long_windows_are_split_below_googles_limit(connected, store, gsettings, google):
    cal = provider(store, gsettings)
    agent = AgentRef(connected, AGENT, "Gina")
    google.add_busy(AGENT, utc(2027, 2, 10, 9), utc(2027, 2, 10, 10))
    got = cal.busy([agent], utc(2026, 12, 1), utc(2026, 12, 1) + timedelta(days=100))[connected].intervals()
    assert [b.start for b in got] == [utc(2027, 2, 10, 9)]
    calls = [r for r in google.requests if r["path"].endswith("/freeBusy")]
    assert len(calls) == 2


def test_disconnect_revokes_and_removes(connected, store, gsettings, google):
    from bot.calendars.connect import disconnect

    assert disconnect(store, vault(gsettings), google_config(gsettings), AGENT)
    assert any(r["path"].startswith("/revoke") for r in google.requests)
    with store.session() as s:
        assert s.execute(select(CalendarConnection)).all() == []
        assert s.get(Agent, connected).provider == "local"

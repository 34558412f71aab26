"""Outlook / Microsoft 365 with the real msal and httpx against the fake identity platform + Graph
(TLS with a throwaway CA) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import urllib.parse

import pytest
import requests
from sqlalchemy import select

from bot.booking import BookingService, Visitor
from bot.calendars.base import AgentRef
from bot.calendars.connect import invite_token
from bot.calendars.local import LocalCalendar
from bot.calendars.microsoft import MicrosoftCalendar
from bot.errors import ProviderUnavailable
from bot.messages.outbox import FileOutbox
from bot.ops.runtime import _reconnect_notice, microsoft_config, vault
from bot.settings import Settings
from bot.store.models import Agent, CalendarConnection
from bot.web import create_app
from tests.fakes.microsoft import FakeMicrosoft
from tests.helpers import add_queue, mails_to, utc

AGENT = "mo@contoso.example"


@pytest.fixture
def ms():
    with FakeMicrosoft() as fake:
        fake.add_user(AGENT, "Mo")
        fake.add_user("other@contoso.example")
        yield fake


@pytest.fixture
def msettings(settings, ms):
    return Settings(
        var_dir=settings.var_dir,
        public_url="http://localhost:8000",
        microsoft_client_id=ms.client_id,
        microsoft_client_secret=ms.client_secret,
        microsoft_authority=ms.authority,
        graph_base_url=ms.graph_url,
        microsoft_ca_bundle=ms.ca_path,
        provider_timeout_seconds=2.0,
    )


@pytest.fixture
def app(store, msettings):
    return create_app(msettings, store=store)


def browser(ms) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = ms.ca_path
    return session


def connect(app, msettings, ms, queue="sales"):
    token = invite_token(vault(msettings), AGENT, queue, "Mo", "Europe/Dublin")
    _, page = app.test_client.get(f"/portal/connect/microsoft?invite={token}")
    assert page.status == 200 and "Teams" in page.text and "Not your mail" in page.text
    _, start = app.test_client.get(f"/oauth/microsoft/start?invite={token}", allow_redirects=False)
    assert start.status == 302
    consent = browser(ms).get(start.headers["location"], allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    back = urllib.parse.urlsplit(consent.headers["location"])
    _, done = app.test_client.get(f"/oauth/microsoft/callback?{back.query}")
    return done, back.query


@pytest.fixture
def mconnected(app, msettings, ms, store):
    add_queue(store, agents=[])
    done, _ = connect(app, msettings, ms)
    assert done.status == 200, done.text
    with store.session() as s:
        return s.execute(select(Agent).where(Agent.email == AGENT)).scalar_one().id


def provider(store, msettings, sleeps=None, outbox=None):
    v = vault(msettings)
    notify = _reconnect_notice(msettings, store, v, outbox, "microsoft") if outbox else None
    return MicrosoftCalendar(
        store,
        v,
        microsoft_config(msettings),
        on_needs_reconnect=notify,
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
    )


def test_connect_keeps_an_encrypted_token_cache(mconnected, store, ms, msettings):
    with store.session() as s:
        conn = s.execute(select(CalendarConnection)).scalar_one()
        agent = s.get(Agent, mconnected)
        assert conn.provider == "microsoft" and conn.status == "connected" and agent.provider == "microsoft"
        assert "Calendars.ReadWrite" in conn.scopes and agent.timezone == "Europe/Dublin"
    db_bytes = (msettings.var_dir / "bot.db").read_bytes() + b"".join(
        p.read_bytes() for p in msettings.var_dir.glob("bot.db-*")
    )
    for token in ms.issued_refresh_tokens():
        assert token.encode() not in db_bytes
    auth = [r for r in ms.requests if r["path"].endswith("/oauth2/v2.0/authorize")][0]
    assert auth["query"]["code_challenge_method"] == "S256" and "Mail" not in auth["query"]["scope"]


def test_oauth_failures_store_nothing(app, msettings, ms, store):
    add_queue(store, agents=[])
    _, bad = app.test_client.get("/oauth/microsoft/callback?state=forged&code=x")
    assert bad.status == 400 and "not valid" in bad.text
    ms.deny_consent = True
    done, _ = connect(app, msettings, ms)
    assert done.status == 400 and "did not give access" in done.text
    ms.deny_consent = False
    ms.consent_as = "other@contoso.example"
    done, _ = connect(app, msettings, ms)
    assert done.status == 400 and "invitation is for" in done.text
    ms.consent_as = AGENT
    done, query = connect(app, msettings, ms)
    assert done.status == 200
    _, replay = app.test_client.get(f"/oauth/microsoft/callback?{query}")
    assert replay.status == 400 and "already used" in replay.text
    with store.session() as s:
        assert len(s.execute(select(CalendarConnection)).all()) == 1


def test_provider_contract_on_graph(mconnected, store, msettings, ms):
    from tests.unit.test_google import run_contract

    def attendee(event_id):
        return ms.events[AGENT][event_id]["attendees"][0]["emailAddress"]["address"]

    run_contract(provider(store, msettings), AgentRef(mconnected, AGENT, "Mo"), attendee)
    creates = [r for r in ms.requests if r["method"] == "POST" and r["path"].endswith("/me/events")]
    assert len(creates) == 2 and creates[0]["body"]["transactionId"] == creates[1]["body"]["transactionId"]


VISITOR = Visitor(email="vic@example.com", first_name="Vic", company_name="Initech", timezone="Europe/Paris")


def service_for(store, msettings, clock, **kw):
    return BookingService(
        store,
        {"local": LocalCalendar(store, msettings.public_url), "microsoft": provider(store, msettings, **kw)},
        FileOutbox(msettings.outbox_dir),
        clock=clock,
    )


def test_booking_gets_a_teams_link_and_graph_invites(mconnected, store, msettings, clock, ms):
    ms.add_busy(AGENT, utc(2026, 12, 1, 12), utc(2026, 12, 1, 13))  # Dublin = UTC in winter
    ms.add_busy(AGENT, utc(2026, 12, 1, 13), utc(2026, 12, 1, 14), show_as="free")  # free does not block
    svc = service_for(store, msettings, clock)
    page = svc.offer_slots("c", "sales", count=2, spread=False)
    assert [s.start for s in page.slots] == [utc(2026, 12, 1, 13), utc(2026, 12, 1, 13, 30)]
    result = svc.book("c", page.slots[0].id, VISITOR)
    assert result.conference_url.startswith("https://teams.microsoft.com/")
    [event] = [e for e in ms.events[AGENT].values() if e.get("transactionId") == result.booking_id]
    assert event["attendees"][0]["emailAddress"]["address"] == "vic@example.com"
    assert event["start"]["dateTime"].startswith("2026-12-01T13:00:00")
    schedule = [r for r in ms.requests if r["path"].endswith("/getSchedule")][0]
    assert schedule["headers"].get("prefer", schedule["headers"].get("Prefer")) == 'outlook.timezone="UTC"'
    [eml] = mails_to(msettings.outbox_dir, VISITOR.email)
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert result.conference_url in msg.get_body(("plain",)).get_content()
    assert not [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    svc.close()


def test_throttling_honours_retry_after_and_outage_fails_within_budget(mconnected, store, msettings, clock, ms):
    sleeps: list[float] = []
    svc = service_for(store, msettings, clock, sleeps=sleeps)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    ms.fail_next("create", 429, retry_after=2)
    assert svc.book("c", offer.id, VISITOR).conference_url
    assert sleeps == [2.0]
    offer = svc.offer_slots("c2", "sales", count=1).slots[0]
    ms.fail_next("create", 503, times=50)
    with pytest.raises(ProviderUnavailable):
        svc.book("c2", offer.id, VISITOR)
    assert len(sleeps) > 2 and sum(sleeps[1:]) <= 5.0  # the outage's waits stay within the budget
    assert [b["status"] for b in svc.list_bookings()] == ["confirmed", "failed"]
    svc.close()


def test_expired_access_token_is_refreshed_silently(mconnected, store, msettings, ms):
    cal = provider(store, msettings)
    agent = AgentRef(mconnected, AGENT, "Mo")
    assert mconnected in cal.busy([agent], utc(2026, 12, 1), utc(2026, 12, 2))
    ms.expire_access_tokens()
    cal.forget(mconnected)
    assert mconnected in cal.busy([agent], utc(2026, 12, 1), utc(2026, 12, 2))
    with store.session() as s:
        assert s.execute(select(CalendarConnection)).scalar_one().status == "connected"


def test_revoked_sign_in_fails_closed_and_tells_the_agent(mconnected, store, msettings, clock, ms):
    outbox = FileOutbox(msettings.var_dir / "agent-mail")
    svc = BookingService(
        store, {"microsoft": provider(store, msettings, outbox=outbox)}, FileOutbox(msettings.outbox_dir), clock=clock
    )
    ms.revoke_user(AGENT)
    ms.expire_access_tokens()
    assert svc.offer_slots("c", "sales").slots == []
    with store.session() as s:
        assert s.execute(select(CalendarConnection)).scalar_one().status == "needs_reconnect"
    [notice] = (msettings.var_dir / "agent-mail").glob("*.eml")
    assert "/portal/connect/microsoft?invite=" in notice.read_text()
    svc.close()

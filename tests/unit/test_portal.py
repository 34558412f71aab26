"""The portal (issue 7) through the real Sanic app: sign-in, roles, CSRF, an agent's own pages
only, the invitation editor reaching the next booking's e-mail, queues and weights."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.admin import accounts
from bot.booking import BookingService, Visitor
from bot.calendars.local import LocalCalendar
from bot.messages.outbox import FileOutbox
from bot.store.models import Agent, DateOverride, QueueMember, SignInAttempt, TimeOff
from bot.web import create_app
from bot.web.portal_kit import COOKIE
from tests.helpers import NINE_TO_FIVE, add_queue, mails_to

PASSWORD = "correct horse battery staple"


class Browser:
    """A cookie-keeping client over the app's test client (one server start per request)."""

    def __init__(self, app):
        self.app = app
        self.cookie = ""

    def request(self, method, path, *, data=None, headers=None, follow=False):
        cookies = {COOKIE: self.cookie} if self.cookie else None
        kw = {"cookies": cookies, "headers": headers or {}, "allow_redirects": follow}
        if data is not None:
            kw["data"] = data
        _req, resp = getattr(self.app.test_client, method.lower())(path, **kw)
        set_cookie = resp.headers.get("set-cookie", "")
        m = re.search(rf"{COOKIE}=([^;]*)", set_cookie)
        if m:
            self.cookie = m.group(1)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, data, **kw):
        return self.request("POST", path, data=data, **kw)

    def csrf(self, path):
        page = self.get(path)
        assert page.status == 200, page.text[:300]
        return re.search(r"name=csrf value='([^']+)'", page.text).group(1)

    def signin(self, email, password=PASSWORD):
        return self.post("/portal/signin", {"email": email, "password": password, "next": "/portal"})


@pytest.fixture
def world(store, settings):
    ada, bo = add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/Paris", NINE_TO_FIVE)])
    accounts.create_account(store, "root@example.com", PASSWORD, "admin")
    accounts.create_account(store, "ada@agents.example", PASSWORD, "agent", agent_id=ada)
    accounts.create_account(store, "bo@agents.example", PASSWORD, "agent", agent_id=bo)
    return {"app": create_app(settings, store), "ada": ada, "bo": bo}


def test_sign_in_cookie_headers_and_sign_out(world):
    b = Browser(world["app"])
    assert b.get("/portal/agents/1/calendar").status == 302  # not signed in: to the sign-in page
    resp = b.signin("ada@agents.example")
    assert resp.status == 302 and resp.headers["location"] == "/portal"
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/portal" in cookie
    # Over plain http no Secure attribute at all: RFC 6265 5.2.5 reads "Secure=False" as Secure,
    # and clients that follow it would never send the session back.
    assert "secure" not in cookie.lower()
    page = b.get(f"/portal/agents/{world['ada']}/calendar")
    assert page.status == 200 and "ada@agents.example" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    stolen = b.cookie
    token = b.csrf(f"/portal/agents/{world['ada']}/calendar")
    assert b.post("/portal/signout", {"csrf": token}).status == 302
    b.cookie = stolen  # a copy of the old cookie is dead too: sign-out ends every session
    assert b.get(f"/portal/agents/{world['ada']}/calendar").status == 302


def test_wrong_password_then_throttled(world, store):
    b = Browser(world["app"])
    for _ in range(accounts.MAX_FAILURES):
        resp = b.signin("ada@agents.example", "wrong password!!")
        assert resp.status == 401 and "do not match" in resp.text
    assert b.signin("ada@agents.example").status == 429  # even the right password, for 15 minutes
    assert b.signin("nobody@example.com", "whatever else!!").status == 401  # unknown e-mail: same answer
    with store.session() as s:
        assert s.execute(select(SignInAttempt)).scalars().first() is not None
    assert b.get("/portal").status == 302


def test_open_redirects_and_foreign_origins_are_refused(world):
    b = Browser(world["app"])
    resp = b.post("/portal/signin", {"email": "ada@agents.example", "password": PASSWORD, "next": "//evil.example/x"})
    assert resp.headers["location"] == "/portal"
    resp = b.post("/portal/signin", {"email": "ada@agents.example", "password": PASSWORD},
                  headers={"Origin": "https://evil.example"})
    assert resp.status == 403


@pytest.mark.parametrize("tab", ["calendar", "invitation", "availability", "bookings"])
def test_an_agent_cannot_open_another_agents_pages(world, tab):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    assert b.get(f"/portal/agents/{world['ada']}/{tab}").status == 200
    other = b.get(f"/portal/agents/{world['bo']}/{tab}")
    assert other.status == 403 and "Bo" not in other.text
    assert b.get("/portal/admin/dashboard").status == 403
    assert b.get("/portal/admin/bookings.csv").status == 403


def test_an_agent_cannot_change_another_agents_settings(world, store):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    token = b.csrf(f"/portal/agents/{world['ada']}/invitation")
    body = {"csrf": token, "subject": "Hi", "body": "pwned"}
    assert b.post(f"/portal/agents/{world['bo']}/invitation", body).status == 403
    assert b.post(f"/portal/agents/{world['bo']}/invitation/preview", body).status == 403
    assert b.post(f"/portal/agents/{world['bo']}/availability", {"csrf": token, "do": "hours", "timezone": "UTC",
                                                                 "hours": ""}).status == 403
    assert b.post("/portal/admin/queues", {"csrf": token, "slug": "mine"}).status == 403
    with store.session() as s:
        bo = s.get(Agent, world["bo"])
        assert bo.invitation_body != "pwned" and len(bo.hours) == 5


def test_forms_need_the_csrf_token(world, store):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    page = f"/portal/agents/{world['ada']}/invitation"
    for token in ("", "forged", None):
        data = {"subject": "Hi", "body": "changed"} | ({"csrf": token} if token is not None else {})
        assert b.post(page, data).status == 403
    other = Browser(world["app"])
    other.signin("bo@agents.example")
    assert b.post(page, {"csrf": other.csrf(f"/portal/agents/{world['bo']}/invitation"), "subject": "x",
                         "body": "changed"}).status == 403  # Bo's token is not Ada's
    with store.session() as s:
        assert s.get(Agent, world["ada"]).invitation_body != "changed"


def test_the_edited_invitation_reaches_the_next_booking(world, store, settings, clock):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    page = f"/portal/agents/{world['ada']}/invitation"
    token = b.csrf(page)
    assert "data-token='{{company.name}}'" in b.get(page).text  # the token picker
    bad = b.post(page, {"csrf": token, "subject": "Hi", "body": "Hello {{visitor.name}}"})
    assert bad.status == 400 and "Unknown token" in bad.text
    preview = b.post(f"{page}/preview", {"csrf": token, "subject": "For {{company.name}}",
                                         "body": "Hi {{person.first_name}} <b>"})
    assert preview.json == {"subject": "For Acme", "body": "Hi Dana <b>", "problem": None}
    saved = b.post(page, {"csrf": token, "subject": "Our call, {{person.first_name}}",
                          "body": "Dear {{person.first_name}} of {{company.name | \"your team\"}}, see you!",
                          "include_conference": "on"})
    assert saved.status == 200 and "Saved" in saved.text
    with store.session() as s:
        s.execute(QueueMember.__table__.delete().where(QueueMember.agent_id == world["bo"]))
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir),
                         clock=clock)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    svc.book("c", offer.id, Visitor(email="kim@globex.example", first_name="Kim", company_name="Globex"))
    svc.close()
    [mail] = mails_to(settings.outbox_dir, "kim@globex.example")
    text = mail.read_text()
    assert "Dear Kim of Globex, see you!" in text and "Subject: Our call, Kim" in text


def test_availability_changes_only_the_agents_own_rows(world, store):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    page = f"/portal/agents/{world['ada']}/availability"
    token = b.csrf(page)
    ok = b.post(page, {"csrf": token, "do": "hours", "timezone": "Europe/Berlin", "hours": "mon-thu 08:00-12:00",
                       "max_per_day": "3", "buffer_before": "15", "buffer_after": "10", "notice": "600"})
    assert ok.status == 200 and "saved" in ok.text
    assert b.post(page, {"csrf": token, "do": "hours", "timezone": "Europe/Berlin", "hours": "mon 08:00-12:00",
                         "notice": "-5"}).status == 400
    assert b.post(page, {"csrf": token, "do": "hours", "timezone": "Mars/Base", "hours": ""}).status == 400
    assert b.post(page, {"csrf": token, "do": "override", "day": "2026-12-24", "blocks": ""}).status == 200
    assert b.post(page, {"csrf": token, "do": "timeoff", "start": "2026-12-28T00:00", "end": "2027-01-02T00:00",
                         "reason": "Holidays"}).status == 200
    with store.session() as s:
        ada = s.get(Agent, world["ada"])
        assert (ada.timezone, ada.max_meetings_per_day, len(ada.hours)) == ("Europe/Berlin", 3, 4)
        assert (ada.buffer_before_minutes, ada.buffer_after_minutes, ada.min_notice_minutes) == (15, 10, 600)
        assert [o.day.isoformat() for o in ada.overrides] == ["2026-12-24"]
        [off] = ada.time_off
        bo_off = TimeOff(agent_id=world["bo"], start=off.start, end=off.end)
        s.add(bo_off)
        s.flush()
        bo_off_id = bo_off.id
    # Removing Bo's time off by its id through Ada's page removes nothing.
    b.post(page, {"csrf": token, "do": "remove-timeoff", "id": str(bo_off_id)})
    with store.session() as s:
        assert s.get(TimeOff, bo_off_id) is not None
    b.post(page, {"csrf": token, "do": "remove-override", "day": "2026-12-24"})
    with store.session() as s:
        assert s.execute(select(DateOverride)).first() is None


def test_admin_queue_members_and_weights(world, store):
    b = Browser(world["app"])
    b.signin("root@example.com")
    token = b.csrf("/portal/admin/queues")
    created = b.post("/portal/admin/queues", {"csrf": token, "slug": "emea", "name": "EMEA", "timezone": "Europe/Paris",
                                              "meeting_minutes": "45"})
    assert created.status == 303 and created.headers["location"] == "/portal/admin/queues/emea"
    assert b.post("/portal/admin/queues", {"csrf": token, "slug": "emea"}).status == 400  # exists
    page = b.get("/portal/admin/queues/emea")
    assert page.status == 200 and "No members yet" in page.text
    assert b.post("/portal/admin/queues/emea", {"csrf": token, "do": "add", "agent": str(world["bo"]),
                                                "weight": "100"}).status == 200
    assert b.post("/portal/admin/queues/emea", {"csrf": token, "do": "weight", "agent": str(world["bo"]),
                                                "weight": "250"}).status == 200
    assert b.post("/portal/admin/queues/emea", {"csrf": token, "do": "weight", "agent": str(world["bo"]),
                                                "weight": "-5"}).status == 400
    with store.session() as s:
        [m] = s.execute(select(QueueMember).where(QueueMember.agent_id == world["bo"],
                                                  QueueMember.queue_id != 1)).scalars()
        assert m.weight == 250
    assert b.get("/portal/admin/queues/nope").status == 404


def test_admin_invites_an_agent_who_joins_and_connects(world, store, settings):
    admin_b = Browser(world["app"])
    admin_b.signin("root@example.com")
    token = admin_b.csrf("/portal/admin/agents")
    resp = admin_b.post("/portal/admin/agents", {"csrf": token, "do": "invite", "email": "cy@agents.example",
                                                 "name": "Cy", "timezone": "America/New_York", "queue": "sales"})
    assert resp.status == 200 and "Invitation sent" in resp.text
    [mail] = mails_to(settings.outbox_dir, "cy@agents.example")
    text = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default).get_content()
    link = re.search(r"(http://\S+/portal/invite\?t=\S+)", text).group(1)
    path = link.split("localhost:8000", 1)[1]
    cy = Browser(world["app"])
    assert "Choose a password" in cy.get(path).text
    t = path.split("t=", 1)[1]
    assert cy.post("/portal/invite", {"t": t, "password": "short", "again": "short"}).status == 400
    joined = cy.post("/portal/invite", {"t": t, "password": PASSWORD, "again": PASSWORD})
    assert joined.status == 302
    calendar = cy.get(joined.headers["location"])
    assert calendar.status == 200 and "Connect Google Calendar" in calendar.text and "See when you are busy" in calendar.text
    assert cy.post("/portal/invite", {"t": t, "password": PASSWORD, "again": PASSWORD}).status == 400  # used
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == "cy@agents.example")).scalar_one()
        assert agent.timezone == "America/New_York"
        assert s.execute(select(QueueMember).where(QueueMember.agent_id == agent.id)).scalar_one().weight == 100
    # Deactivated: the agent's session ends and sign-in fails.
    resp = admin_b.post("/portal/admin/agents", {"csrf": token, "do": "deactivate", "agent": str(agent.id)})
    assert resp.status == 200
    assert cy.get(joined.headers["location"]).status == 302


def test_dashboard_and_csv(world, store, settings, clock):
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir))
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    svc.book("c", offer.id, Visitor(email="v@example.com", first_name="=cmd|' /C calc'!A0"))
    svc.close()
    b = Browser(world["app"])
    b.signin("root@example.com")
    page = b.get("/portal/admin/dashboard")
    assert page.status == 200 and "<svg" in page.text and "Ada" in page.text and "Chose a time" in page.text
    csv = b.get("/portal/admin/bookings.csv")
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "v@example.com" in csv.text and ",'=cmd" in csv.text
    assert b.get("/portal/admin/webhooks").status == 200


def test_admin_cli_creates_an_admin(store, settings, monkeypatch, capsys):
    import io

    from bot.__main__ import main

    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "create", "Boss@Example.com", "--password-stdin"]) == 0
    assert "can sign in" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("too short\n"))
    assert main(["admin", "create", "other@example.com", "--password-stdin"]) == 2
    assert accounts.authenticate(store, "boss@example.com", PASSWORD, "127.0.0.1") is not None


def test_throttle_window_passes(store, clock):
    accounts.create_account(store, "x@example.com", PASSWORD, "admin")
    for _ in range(accounts.MAX_FAILURES):
        assert accounts.authenticate(store, "x@example.com", "nope nope nope", "10.0.0.1", clock.now) is None
    with pytest.raises(accounts.SignInThrottled):
        accounts.authenticate(store, "x@example.com", PASSWORD, "10.0.0.2", clock.now)
    later = clock.now + accounts.WINDOW + timedelta(seconds=1)
    assert accounts.authenticate(store, "x@example.com", PASSWORD, "10.0.0.2", later) is not None


def test_the_session_cookie_is_secure_over_https(store, settings):
    import dataclasses

    accounts.create_account(store, "root@example.com", PASSWORD, "admin")
    app = create_app(dataclasses.replace(settings, public_url="https://chat.example.com"), store)
    headers = {"Origin": "https://chat.example.com", "Host": "chat.example.com"}
    _req, resp = app.test_client.post(
        "/portal/signin",
        data={"email": "root@example.com", "password": PASSWORD, "next": "/portal"},
        headers=headers,
        allow_redirects=False,
    )
    assert resp.status == 302, resp.text[:300]
    attrs = [a.strip().lower() for a in resp.headers["set-cookie"].split(";")]
    assert "secure" in attrs and not any(a.startswith("secure=") for a in attrs)


def test_admin_asks_why_a_time_is_not_offered(world, store):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    b = Browser(world["app"])
    b.signin("root@example.com")
    page = b.get("/portal/admin/queues/sales")
    assert "Why is a time not offered?" in page.text and "/portal/admin/queues/sales/explain" in page.text
    # A Wednesday 2–8 days ahead (the web app reads the real clock), 08:30 in London: Ada (London,
    # 9–17) is not working yet, Bo (Paris, 9–17: 09:30 there) is free.
    day = datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=2)
    day += timedelta(days=(2 - day.weekday()) % 7)
    got = b.get(f"/portal/admin/queues/sales/explain?when={day.isoformat()}T08:30&zone=Europe/London")
    assert got.status == 200
    assert re.findall(r"<tr><td>(Ada|Bo)<br>.*?</tr>", got.text, flags=re.S) == ["Ada", "Bo"]
    assert re.search(r"Ada<br>.*?<strong>hours</strong>.*?outside the agent", got.text, flags=re.S)
    assert re.search(r"Bo<br>[^<]*<span[^>]*>[^<]*</span></td><td>offered</td>", got.text)
    assert "is <strong>offered</strong>" in got.text
    bad = b.get("/portal/admin/queues/sales/explain?when=soon&zone=Europe/London")
    assert bad.status == 400 and "not a date and time" in bad.text
    assert b.get("/portal/admin/queues/sales/explain?when=2026-12-10T10:00&zone=America").status == 400
    assert b.get("/portal/admin/queues/nope/explain?when=2026-12-10T10:00").status == 404
    agent = Browser(world["app"])
    agent.signin("ada@agents.example")
    assert agent.get(f"/portal/admin/queues/sales/explain?when={day.isoformat()}T10:00").status == 403

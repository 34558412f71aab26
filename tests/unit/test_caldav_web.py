"""Connecting a CalDAV calendar from the invitation page, the portal's calendar tab and the CLI,
against a real Radicale: what is stored, the calendar choice, and plain errors that store nothing."""

from __future__ import annotations

import http.server
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.admin import accounts
from bot.calendars.connect import invite_token
from bot.ops.runtime import vault
from bot.store.models import Agent, CalendarConnection, QueueMember
from bot.web import create_app
from tests.helpers import NINE_TO_FIVE, add_queue
from tests.servers.radicale import Radicale
from tests.unit.test_portal import PASSWORD, Browser

USER, APP_PASSWORD = "ana", "app-pass-9x2q"


@pytest.fixture
def radicale(tmp_path):
    server = Radicale(tmp_path / "radicale", {USER: APP_PASSWORD, "ada": APP_PASSWORD})
    for user in (USER, "ada"):
        server.make_calendars(user, {"work": "Work", "family": "Family"})
    yield server
    server.close()


@pytest.fixture
def app(store, settings):
    add_queue(store, agents=[])
    return create_app(settings, store=store)


def token(settings, email="ana@dav.example"):
    return invite_token(vault(settings), email, "sales", "Ana", "Europe/Paris")


def post(app, data, headers=None):
    _, resp = app.test_client.post("/portal/connect/caldav", data=data, headers=headers or {})
    return resp


def connection(store):
    with store.session() as s:
        return s.execute(select(CalendarConnection)).scalar_one_or_none()


def test_the_invitation_page_asks_for_an_app_password_and_says_why(app, settings):
    _, page = app.test_client.get(f"/portal/connect/caldav?invite={token(settings)}")
    assert page.status == 200
    assert "name=password type=password" in page.text and "app password" in page.text.lower()
    assert "caldav.icloud.com" in page.text and "caldav.fastmail.com" in page.text and "remote.php/dav" in page.text
    _, forged = app.test_client.get("/portal/connect/caldav?invite=forged")
    assert forged.status == 400


def test_connecting_stores_the_account_encrypted_and_joins_the_queue(app, settings, store, radicale):
    done = post(app, {"invite": token(settings), "url": radicale.url, "username": USER, "password": APP_PASSWORD})
    assert done.status == 200, done.text[:500]
    assert "name=calendar" in done.text and "Family" in done.text and APP_PASSWORD not in done.text
    conn = connection(store)
    assert (conn.provider, conn.status, conn.calendar_id) == ("caldav", "connected", "Family")  # first by name
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == "ana@dav.example")).scalar_one()
        assert agent.provider == "caldav" and agent.timezone == "Europe/Paris"
        assert s.execute(select(QueueMember).where(QueueMember.agent_id == agent.id)).scalar_one()
    raw = b"".join(p.read_bytes() for p in settings.var_dir.glob("bot.db*"))
    assert APP_PASSWORD.encode() not in raw
    # the choice: book into Work, only Work is busy
    work = f"{radicale.url}{USER}/work/"
    saved = post(app, {"invite": token(settings), "do": "calendars", "calendar": work, "busy": work})
    assert saved.status == 200 and connection(store).calendar_id == "Work"
    from bot.calendars.dav import Account

    account = Account.load(vault(settings).decrypt(connection(store).secret))
    assert account.calendar == work and account.busy == (work,)
    bad = post(app, {"invite": token(settings), "do": "calendars", "calendar": "http://127.0.0.1:1/x/", "busy": work})
    assert bad.status == 400 and Account.load(vault(settings).decrypt(connection(store).secret)).calendar == work


class _NotCalDAV(http.server.BaseHTTPRequestHandler):
    def do_PROPFIND(self):  # noqa: N802 - what a plain web server says to WebDAV
        self.send_response(405)
        self.end_headers()

    do_GET = do_PROPFIND  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture
def plain_web():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotCalDAV)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.mark.parametrize(
    "case, expect",
    [("wrong password", "password"), ("closed port", "reached"), ("not caldav", "caldav"), ("plain http", "https")],
)
def test_a_bad_connection_says_what_is_wrong_and_stores_nothing(app, settings, store, radicale, plain_web, case, expect):
    url, password = {
        "wrong password": (radicale.url, "nope-nope"),
        "closed port": ("http://127.0.0.1:1/", APP_PASSWORD),
        "not caldav": (plain_web, APP_PASSWORD),
        "plain http": ("http://caldav.example.com/", APP_PASSWORD),
    }[case]
    page = post(app, {"invite": token(settings), "url": url, "username": USER, "password": password})
    assert page.status == 400 and expect in page.text.lower()
    assert password not in page.text and f"value='{USER}'" in page.text  # the user name kept, never the password
    assert connection(store) is None


def test_a_preset_fills_the_address_and_nextcloud_needs_the_host(app, settings, store):
    page = post(app, {"invite": token(settings), "preset": "nextcloud", "url": "", "username": USER, "password": "x"})
    assert page.status == 400 and "remote.php/dav" in page.text and connection(store) is None


def test_a_cross_site_post_is_refused(app, settings, store, radicale):
    page = post(app, {"invite": token(settings), "url": radicale.url, "username": USER, "password": APP_PASSWORD},
                headers={"origin": "https://evil.example"})  # fmt: skip
    assert page.status == 403 and connection(store) is None


# ---- the portal's calendar tab ---------------------------------------------------------------------
@pytest.fixture
def world(store, settings):
    ada, bo = add_queue(store, slug="team", agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/Paris", NINE_TO_FIVE)])
    accounts.create_account(store, "ada@agents.example", PASSWORD, "agent", agent_id=ada)
    accounts.create_account(store, "root@example.com", PASSWORD, "admin")
    return {"app": create_app(settings, store), "ada": ada, "bo": bo}


def test_the_agent_connects_caldav_in_the_portal_and_sees_its_health(world, store, radicale):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    tab = f"/portal/agents/{world['ada']}/calendar"
    csrf = b.csrf(tab)
    assert "CalDAV" in b.get(tab).text
    assert b.post(tab, {"do": "caldav", "url": radicale.url, "username": "ada", "password": APP_PASSWORD}).status == 403
    done = b.post(tab, {"csrf": csrf, "do": "caldav", "url": radicale.url, "username": "ada", "password": APP_PASSWORD})
    assert done.status == 200 and "Last successful read" in done.text and "not yet" in done.text
    assert "name=busy" in done.text  # the calendar choice
    work = f"{radicale.url}ada/work/"
    saved = b.post(tab, {"csrf": csrf, "do": "calendars", "calendar": work, "busy": work})
    assert saved.status == 200 and connection(store).calendar_id == "Work"
    now = datetime.now(timezone.utc)
    with store.session() as s:
        s.execute(update(CalendarConnection).values(last_ok_at=now - timedelta(hours=1), last_error_at=now,
                                                    last_error="the CalDAV server answered 503 (retried)"))  # fmt: skip
    page = b.get(tab).text
    assert "Needs attention" in page and "503" in page
    with store.session() as s:
        s.execute(update(CalendarConnection).values(last_ok_at=now + timedelta(minutes=1)))
    assert "Needs attention" not in b.get(tab).text


def test_an_admin_sees_an_agents_calendar_but_does_not_connect_it(world, store, radicale):
    b = Browser(world["app"])
    b.signin("root@example.com")
    tab = f"/portal/agents/{world['ada']}/calendar"
    csrf = b.csrf(tab)
    assert "Connect CalDAV calendar" not in b.get(tab).text
    refused = b.post(tab, {"csrf": csrf, "do": "caldav", "url": radicale.url, "username": "ada", "password": APP_PASSWORD})
    assert refused.status == 403 and connection(store) is None


# ---- the CLI ---------------------------------------------------------------------------------------------
def test_the_cli_lists_then_connects_with_the_password_from_the_environment(settings, store, radicale, monkeypatch, capsys):
    from bot.__main__ import main

    add_queue(store, agents=[])
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("PUBLIC_URL", settings.public_url)
    monkeypatch.setenv("DAV_PW", APP_PASSWORD)
    base = ["agent", "caldav", "ana@dav.example", "--url", radicale.url, "--username", USER, "--password-env", "DAV_PW"]
    assert main([*base, "--list"]) == 0
    out = capsys.readouterr().out
    assert f"{radicale.url}{USER}/work/" in out and "Family" in out and connection(store) is None
    assert main([*base, "--queue", "sales", "--calendar", f"{radicale.url}{USER}/work/"]) == 0
    assert connection(store).calendar_id == "Work"
    monkeypatch.setenv("DAV_PW", "wrong")
    assert main(base) == 2
    assert "password" in capsys.readouterr().err and connection(store).calendar_id == "Work"

"""Connecting a CalDAV calendar (the invitation page, the portal's calendar tab, ``agent caldav``)
against a real Radicale: what is stored and what is never shown or kept in the clear, the
calendar choice, plain errors that store nothing, who may connect, and the connection's health.
(tests/unit/test_caldav_web.py covers the presets and the cross-site POST.)"""

from __future__ import annotations

import functools
import http.server
import io
import re
import socket
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.admin import accounts
from bot.calendars import connect
from bot.calendars.dav import PRESETS, WHY_APP_PASSWORD, Account
from bot.ops.runtime import vault
from bot.store.models import Agent, CalendarConnection, Queue, QueueMember
from bot.web import create_app
from tests.helpers import NINE_TO_FIVE, add_queue
from tests.servers.radicale import Radicale
from tests.unit.test_portal import PASSWORD, Browser

EMAIL, USER, APP_PASSWORD = "cleo@dav.example", "cleo", "Zq7-app-secret-41x"


@pytest.fixture
def radicale(tmp_path):
    server = Radicale(tmp_path / "radicale", {USER: APP_PASSWORD, "ada": APP_PASSWORD})
    for user in (USER, "ada"):
        server.make_calendars(user, {"work": "Work", "family": "Family"})
    yield server
    server.close()


def cal(radicale, name, user=USER):
    return f"{radicale.url}{user}/{name}/"


@pytest.fixture
def app(store, settings):
    add_queue(store, agents=[])  # queue "sales"
    return create_app(settings, store=store)


def invite(settings, queue="sales", email=EMAIL):
    return connect.invite_token(vault(settings), email, queue, "Cleo", "Europe/Paris")


def post(app, data):
    _, resp = app.test_client.post("/portal/connect/caldav", data=data)
    return resp


def conn_of(store, email=EMAIL):
    with store.session() as s:
        return s.execute(
            select(CalendarConnection).join(Agent, Agent.id == CalendarConnection.agent_id).where(Agent.email == email)
        ).scalar_one_or_none()


def account_of(settings, store, email=EMAIL):
    return Account.load(vault(settings).decrypt(conn_of(store, email).secret))


def db_bytes(settings):
    return b"".join(p.read_bytes() for p in settings.var_dir.glob("bot.db*"))


def checked(page, kind):
    """The calendar URLs whose ``kind`` input (radio ``calendar`` / checkbox ``busy``) is checked."""
    return set(re.findall(rf"name={kind} value='([^']+)' checked", page))


def offered(page, kind):
    return set(re.findall(rf"name={kind} value='([^']+)'", page))


# ---- the invitation page ---------------------------------------------------------------------------
def test_the_invitation_page_is_a_form_that_says_why_an_app_password(app, settings):
    _, page = app.test_client.get(f"/portal/connect/caldav?invite={invite(settings, queue='<b>sales</b>')}")
    assert page.status == 200
    text = page.text
    assert re.search(r"<input name=password type=password[^>]*autocomplete=off", text)
    assert "name=url" in text and "name=username" in text and "name=preset" in text
    assert "name=invite value=" in text and "action='/portal/connect/caldav'" in text
    assert WHY_APP_PASSWORD in text
    for label, url, where in PRESETS.values():
        assert label in text and url in text and where.split(" → ")[0] in text  # where each makes one
    assert "<b>sales</b>" not in text and "&lt;b&gt;sales&lt;/b&gt;" in text  # escaped
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)  # no inline script (the CSP forbids it)
    assert "meeting room" in text


@pytest.mark.parametrize("how", ["forged", "expired", "missing"])
def test_a_forged_or_expired_invitation_is_refused(app, settings, store, radicale, monkeypatch, how):
    if how == "expired":
        monkeypatch.setattr(connect, "INVITE_TTL_SECONDS", -60)
    token = {"forged": invite(settings)[:-4] + "AAAA", "expired": invite(settings), "missing": ""}[how]
    _, page = app.test_client.get(f"/portal/connect/caldav?invite={token}")
    assert page.status == 400 and "name=password" not in page.text
    done = post(app, {"invite": token, "url": radicale.url, "username": USER, "password": APP_PASSWORD})
    assert done.status == 400 and "invitation" in done.text.lower()
    assert conn_of(store) is None
    with store.session() as s:
        assert s.execute(select(Agent).where(Agent.email == EMAIL)).scalar_one_or_none() is None


def test_connecting_from_the_invitation_then_choosing_the_calendars(app, settings, store, radicale):
    token = invite(settings)
    done = post(app, {"invite": token, "url": radicale.url, "username": USER, "password": APP_PASSWORD})
    assert done.status == 200, done.text[:500]
    assert APP_PASSWORD not in done.text
    work, family = cal(radicale, "work"), cal(radicale, "family")
    # the choice form: every calendar to book into and to count as busy, the stored defaults checked
    assert offered(done.text, "calendar") == offered(done.text, "busy") == {work, family}
    assert checked(done.text, "calendar") == {family} and checked(done.text, "busy") == {work, family}
    assert f"name=invite value='{token}'" in done.text
    conn = conn_of(store)
    assert (conn.provider, conn.status, conn.account_email) == ("caldav", "connected", EMAIL)
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == EMAIL)).scalar_one()
        assert (agent.provider, agent.name, agent.timezone, agent.active) == ("caldav", "Cleo", "Europe/Paris", True)
        [queue] = s.execute(select(Queue.slug).join(QueueMember).where(QueueMember.agent_id == agent.id)).scalars()
        assert queue == "sales"
    assert APP_PASSWORD.encode() not in db_bytes(settings)  # kept encrypted
    assert account_of(settings, store) == Account(radicale.url, USER, APP_PASSWORD, family, (family, work))

    # book into Work, only Work busy (do=choose, as the brief names it; the form sends do=calendars)
    saved = post(app, {"invite": token, "do": "choose", "calendar": work, "busy": [work]})
    assert saved.status == 200 and checked(saved.text, "calendar") == {work} and checked(saved.text, "busy") == {work}
    assert (account_of(settings, store).calendar, account_of(settings, store).busy) == (work, (work,))
    assert conn_of(store).calendar_id == "Work"
    # Family busy too; nothing ticked: the booking calendar still counts
    post(app, {"invite": token, "do": "calendars", "calendar": work, "busy": [family, work]})
    assert account_of(settings, store).busy == (work, family)
    post(app, {"invite": token, "do": "calendars", "calendar": family})
    assert (account_of(settings, store).calendar, account_of(settings, store).busy) == (family, (family,))
    # a calendar that is not theirs: refused, unchanged
    other = post(app, {"invite": token, "do": "calendars", "calendar": cal(radicale, "work", "ada"), "busy": [work]})
    assert other.status == 400 and account_of(settings, store).calendar == family
    assert APP_PASSWORD.encode() not in db_bytes(settings)


def test_choosing_before_connecting_says_so(app, settings, store):
    page = post(app, {"invite": invite(settings), "do": "calendars", "calendar": "https://x.example/c/"})
    assert page.status == 400 and "connect" in page.text.lower() and conn_of(store) is None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def website(tmp_path):
    """A plain web server, not CalDAV (Python's own: it answers PROPFIND with 501)."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "index.html").write_text("<h1>hello</h1>")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=tmp_path / "www"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BAD = {  # what is wrong → what the message must name
    "wrong password": "password",
    "closed port": "reached",
    "not a caldav server": "caldav",
    "plain http to another host": "https",
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_connection_is_a_400_that_names_the_problem_and_stores_nothing(app, settings, store, radicale, website, case):
    password = "Wr0ng-pass-77q" if case == "wrong password" else APP_PASSWORD
    url = {"wrong password": radicale.url, "closed port": f"http://127.0.0.1:{closed_port()}/",
           "not a caldav server": website, "plain http to another host": "http://caldav.example.com/dav/"}[case]  # fmt: skip
    page = post(app, {"invite": invite(settings), "url": url, "username": USER, "password": password})
    assert page.status == 400 and BAD[case] in page.text.lower(), page.text[:800]
    assert password not in page.text  # never echoed
    assert f"name=url value='{url}'" in page.text and f"name=username value='{USER}'" in page.text  # kept
    assert "name=password type=password" in page.text  # the form again, to correct
    assert conn_of(store) is None
    with store.session() as s:
        assert s.execute(select(Agent).where(Agent.email == EMAIL)).scalar_one_or_none() is None
    assert password.encode() not in db_bytes(settings)


def test_what_the_agent_typed_is_escaped_when_shown_back(app, settings, store, radicale):
    page = post(app, {"invite": invite(settings), "url": radicale.url + "'><script>x()</script>",
                      "username": "<img src=x onerror=y()>", "password": "nope-nope"})  # fmt: skip
    assert page.status == 400
    assert "<script>x()" not in page.text and "<img src=x" not in page.text and "&lt;img src=x" in page.text
    assert conn_of(store) is None


# ---- the portal's calendar tab ---------------------------------------------------------------------
@pytest.fixture
def world(store, settings):
    ada, bo = add_queue(store, slug="team", agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/Paris", NINE_TO_FIVE)])
    accounts.create_account(store, "ada@agents.example", PASSWORD, "agent", agent_id=ada)
    accounts.create_account(store, "bo@agents.example", PASSWORD, "agent", agent_id=bo)
    accounts.create_account(store, "root@example.com", PASSWORD, "admin")
    return {"app": create_app(settings, store), "ada": ada, "bo": bo, "tab": f"/portal/agents/{ada}/calendar"}


def signed_in(world, email):
    b = Browser(world["app"])
    assert b.signin(email).status in (302, 303)
    return b


CARD = "CalDAV (iCloud, Fastmail, Nextcloud, …)"


def test_only_the_agent_themself_gets_the_caldav_card(world, store, radicale):
    ada = signed_in(world, "ada@agents.example")
    page = ada.get(world["tab"]).text
    assert CARD in page and "name=password type=password" in page and "value=caldav" in page
    assert "Google Calendar" in page  # beside the other cards
    admin = signed_in(world, "root@example.com")
    page = admin.get(world["tab"])
    assert page.status == 200 and CARD not in page.text and "name=password" not in page.text
    csrf = admin.csrf(world["tab"])
    refused = admin.post(world["tab"], {"csrf": csrf, "do": "caldav", "url": radicale.url, "username": "ada",
                                        "password": APP_PASSWORD})  # fmt: skip
    assert refused.status == 403 and conn_of(store, "ada@agents.example") is None
    bo = signed_in(world, "bo@agents.example")
    assert bo.get(world["tab"]).status == 403
    csrf = bo.csrf(f"/portal/agents/{world['bo']}/calendar")
    assert bo.post(world["tab"], {"csrf": csrf, "do": "caldav", "url": radicale.url, "username": "ada",
                                  "password": APP_PASSWORD}).status == 403  # fmt: skip
    assert conn_of(store, "ada@agents.example") is None


def test_the_agent_connects_and_chooses_in_the_tab_with_csrf_only(world, settings, store, radicale):
    ada, tab, email = signed_in(world, "ada@agents.example"), world["tab"], "ada@agents.example"
    form = {"do": "caldav", "url": radicale.url, "username": "ada", "password": APP_PASSWORD}
    assert ada.post(tab, form).status == 403  # no CSRF token
    assert ada.post(tab, {**form, "csrf": "forged"}).status == 403
    assert conn_of(store, email) is None
    csrf = ada.csrf(tab)
    done = ada.post(tab, {**form, "csrf": csrf})
    assert done.status == 200 and APP_PASSWORD not in done.text
    assert (conn_of(store, email).provider, conn_of(store, email).status) == ("caldav", "connected")
    assert "CalDAV calendar" in done.text  # the provider's label
    work, family = cal(radicale, "work", "ada"), cal(radicale, "family", "ada")
    assert offered(done.text, "busy") == {work, family} and checked(done.text, "busy") == {work, family}
    assert "value=calendars" in done.text
    with store.session() as s:  # still in the queue it was in
        assert s.execute(select(QueueMember).where(QueueMember.agent_id == world["ada"])).scalar_one()
    assert APP_PASSWORD.encode() not in db_bytes(settings)

    choice = {"do": "calendars", "calendar": work, "busy": [work]}
    assert ada.post(tab, choice).status == 403 and account_of(settings, store, email).calendar == family
    saved = ada.post(tab, {**choice, "csrf": csrf})
    assert saved.status == 200 and checked(saved.text, "calendar") == {work} and checked(saved.text, "busy") == {work}
    assert (account_of(settings, store, email).calendar, account_of(settings, store, email).busy) == (work, (work,))


def test_a_bad_connection_in_the_tab_says_why_keeps_the_old_one(world, settings, store, radicale):
    ada, tab, email = signed_in(world, "ada@agents.example"), world["tab"], "ada@agents.example"
    csrf = ada.csrf(tab)
    ada.post(tab, {"csrf": csrf, "do": "caldav", "url": radicale.url, "username": "ada", "password": APP_PASSWORD})
    before = account_of(settings, store, email)
    page = ada.post(tab, {"csrf": csrf, "do": "caldav", "url": radicale.url, "username": "ada", "password": "Wr0ng-77q"})
    assert page.status == 400 and "password" in page.text.lower() and "Wr0ng-77q" not in page.text
    assert "name=username value='ada'" in page.text
    assert account_of(settings, store, email) == before


def set_health(store, email, **values):
    with store.session() as s:
        agent_id = s.execute(select(Agent.id).where(Agent.email == email)).scalar_one()
        s.execute(update(CalendarConnection).where(CalendarConnection.agent_id == agent_id).values(**values))


def test_the_tab_shows_the_last_good_read_and_when_it_needs_attention(world, store, radicale):
    ada, tab, email = signed_in(world, "ada@agents.example"), world["tab"], "ada@agents.example"
    csrf = ada.csrf(tab)
    ada.post(tab, {"csrf": csrf, "do": "caldav", "url": radicale.url, "username": "ada", "password": APP_PASSWORD})

    def health():
        page = ada.get(tab).text
        good = re.search(r"<dt>Last successful read</dt><dd>([^<]*)</dd>", page).group(1)
        alert = re.search(r"<p class=error role=alert>([^<]*)</p>", page)
        return good, alert.group(1) if alert else None

    assert health() == ("not yet", None)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    set_health(store, email, last_ok_at=now - timedelta(hours=2))
    assert health() == ((now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M UTC"), None)
    # the last read failed after the last good one
    set_health(store, email, last_error_at=now - timedelta(minutes=5), last_error="the CalDAV server answered 503 (retried)")
    good, alert = health()
    assert alert and "Needs attention" in alert and "503" in alert
    assert (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M") in alert and "not offered" in alert
    # a good read since: fine again
    set_health(store, email, last_ok_at=now)
    assert health()[1] is None
    # never a good read, only a failure
    set_health(store, email, last_ok_at=None)
    assert health()[0] == "not yet" and "Needs attention" in (health()[1] or "")
    # the server stopped taking the app password: it says so, and that the last read failed
    set_health(store, email, status="needs_reconnect", last_error="401: the server no longer accepts the app password")
    page = ada.get(tab).text
    assert "Needs reconnect" in page and "Needs attention" in page and "401" in page


def test_the_admin_sees_the_health_of_an_agents_caldav_calendar(world, store, radicale):
    ada = signed_in(world, "ada@agents.example")
    ada.post(world["tab"], {"csrf": ada.csrf(world["tab"]), "do": "caldav", "url": radicale.url, "username": "ada",
                            "password": APP_PASSWORD})  # fmt: skip
    now = datetime.now(timezone.utc)
    set_health(store, "ada@agents.example", last_ok_at=now - timedelta(hours=1), last_error_at=now, last_error="timed out")
    page = signed_in(world, "root@example.com").get(world["tab"]).text
    assert "Needs attention" in page and "timed out" in page
    assert "name=busy" not in page and CARD not in page  # the choice and the card are the agent's own


# ---- the CLI ---------------------------------------------------------------------------------------
@pytest.fixture
def cli(store, settings, monkeypatch, capsys):
    from bot.__main__ import main

    add_queue(store, agents=[])
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("PUBLIC_URL", settings.public_url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DAV_SECRET", APP_PASSWORD)

    def run(*args, stdin=None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["agent", "caldav", EMAIL, *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_list_prints_the_calendars_and_stores_nothing(cli, store, radicale):
    code, out, _ = cli("--url", radicale.url, "--username", USER, "--password-env", "DAV_SECRET", "--list")
    assert code == 0
    assert f"{cal(radicale, 'work')}\tWork" in out and f"{cal(radicale, 'family')}\tFamily" in out
    assert APP_PASSWORD not in out
    with store.session() as s:
        assert s.execute(select(Agent).where(Agent.email == EMAIL)).scalar_one_or_none() is None
    assert conn_of(store) is None


def test_cli_connects_with_the_password_from_the_environment(cli, settings, store, radicale):
    work, family = cal(radicale, "work"), cal(radicale, "family")
    code, out, _ = cli("--url", radicale.url, "--username", USER, "--password-env", "DAV_SECRET", "--queue", "sales",
                       "--name", "Cleo", "--timezone", "America/New_York", "--calendar", work, "--busy", work, family)  # fmt: skip
    assert code == 0 and "Work" in out and APP_PASSWORD not in out
    assert account_of(settings, store) == Account(radicale.url, USER, APP_PASSWORD, work, (work, family))
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == EMAIL)).scalar_one()
        assert (agent.provider, agent.name, agent.timezone) == ("caldav", "Cleo", "America/New_York")
        assert s.execute(select(QueueMember).where(QueueMember.agent_id == agent.id)).scalar_one()
    assert APP_PASSWORD.encode() not in db_bytes(settings)


def test_cli_reads_the_password_from_stdin_and_never_takes_it_as_an_argument(cli, settings, store, radicale, capsys):
    code, _, _ = cli("--url", radicale.url, "--username", USER, stdin=APP_PASSWORD + "\n")
    assert code == 0 and account_of(settings, store).password == APP_PASSWORD
    assert account_of(settings, store).calendar == cal(radicale, "family")  # the defaults: first by name, all busy
    for option in ("--password", "--pass", "--password=" + APP_PASSWORD):
        with pytest.raises(SystemExit) as exit_:
            cli("--url", radicale.url, "--username", USER, option, APP_PASSWORD)
        assert exit_.value.code == 2
        assert APP_PASSWORD not in capsys.readouterr().err  # refused, and not echoed


def test_cli_errors_are_one_line_and_exit_2(cli, settings, store, radicale, monkeypatch):
    cli("--url", radicale.url, "--username", USER, "--password-env", "DAV_SECRET")
    before = account_of(settings, store)
    monkeypatch.setenv("DAV_WRONG", "Wr0ng-pass-77q")
    for url, env, extra, word in [
        (radicale.url, "DAV_WRONG", (), "password"),
        (f"http://127.0.0.1:{closed_port()}/", "DAV_SECRET", (), "reached"),
        ("http://caldav.example.com/", "DAV_SECRET", (), "https"),
        (radicale.url, "DAV_SECRET", ("--calendar", "https://x.example/c/"), "calendar"),
        (radicale.url, "NOT_SET_ANYWHERE", (), "not_set_anywhere"),
    ]:
        code, out, err = cli("--url", url, "--username", USER, "--password-env", env, *extra)
        assert code == 2 and out == "", (url, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and word in lines[0].lower(), (url, err)
        assert APP_PASSWORD not in err and "Wr0ng-pass-77q" not in err
    assert account_of(settings, store) == before  # nothing changed

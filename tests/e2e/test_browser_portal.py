"""The portal in a real browser (Debian's Chromium through Playwright) against the session
`stack`: an agent edits the invitation with the token picker and the next booking's e-mail shows
it; an admin adds an agent to a queue and changes the weight; an agent cannot open another
agent's settings. Screenshots: results/screenshots/ (the dashboard also docs/screenshots/)."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot.admin import accounts, rules
from bot.ops.supervisor import ROOT
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Agent, QueueMember
from tests.helpers import mails_to

pytestmark = pytest.mark.e2e

SHOTS = ROOT / "results" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
PASSWORD = "portal browser test 1"


@pytest.fixture(scope="module")
def people(stack):
    """Two agents in a queue of their own ("portal"), their accounts, and an admin."""
    store = Store(Settings(var_dir=Path(stack.env["BOT_VAR_DIR"])).db_url)
    rules.set_queue(store, "portal", name="Portal test", timezone="Europe/London", min_notice_minutes=60)
    for email_, name in (("pia@agents.example", "Pia"), ("raj@agents.example", "Raj")):
        rules.add_agent(store, email_, name, "Europe/London", "mon-sun 00:00-23:59")
    rules.set_member(store, "portal", "pia@agents.example", 100)
    with store.session() as s:
        ids = {a.email: a.id for a in s.execute(select(Agent)).scalars()}
    accounts.create_account(store, "pia@agents.example", PASSWORD, "agent", agent_id=ids["pia@agents.example"])
    accounts.create_account(store, "raj@agents.example", PASSWORD, "agent", agent_id=ids["raj@agents.example"])
    accounts.create_account(store, "boss@example.com", PASSWORD, "admin")
    yield {"store": store, "pia": ids["pia@agents.example"], "raj": ids["raj@agents.example"]}
    store.dispose()


def sign_in(page, web: str, who: str) -> None:
    page.goto(f"{web}/portal")
    expect(page).to_have_url(f"{web}/portal/signin?next=/portal")
    page.get_by_label("E-mail").fill(who)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def shot(page, name: str, docs: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)
    # The README's copy changes only when asked (UPDATE_SCREENSHOTS=1) or missing, like the widget's.
    if docs and (os.environ.get("UPDATE_SCREENSHOTS") == "1" or not (DOCS / name).exists()):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHOTS / name, DOCS / name)


def test_agent_edits_the_invitation_with_a_token_and_the_next_booking_uses_it(stack, browser, people, var_dir):
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    sign_in(page, stack.web, "pia@agents.example")
    expect(page.get_by_role("heading", name="Calendar", exact=True)).to_be_visible()
    expect(page.get_by_text("See when you are busy (not what the events are)")).to_be_visible()
    shot(page, "portal-calendar.png")
    page.get_by_role("link", name="Invitation").click()
    body = page.get_by_label("Body")
    body.fill("Hello {{person.first_name}}, we will talk about ")
    body.press("End")
    # The { } button: keyboard only — open, arrow down to the company name, Enter inserts it.
    page.locator("#token-button").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("listbox", name="Tokens")).to_be_visible()
    for _ in range(4):  # first name, last name, e-mail, title, company name
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(body).to_have_value("Hello {{person.first_name}}, we will talk about {{company.name}}")
    expect(page.locator("#preview")).to_have_text("Hello Dana, we will talk about Acme")  # live preview
    shot(page, "portal-invitation.png")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    # A visitor books in the "portal" queue (Pia is its only member): the e-mail has the new text.
    meta = {"person": {"first_name": "Wim", "email": "wim@browser.example"}, "company": {"name": "Globex"},
            "queue": "portal"}
    replies = stack.say("e2e-portal-visitor", "I'd like to book a meeting", meta)
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert buttons, replies
    replies = stack.say("e2e-portal-visitor", buttons[0]["payload"], meta)
    assert "You're booked!" in " ".join(r.get("text", "") for r in replies), replies
    [mail] = [p for p in mails_to(var_dir / "outbox", "wim@browser.example")]
    msg = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert "Hello Wim, we will talk about Globex" in msg.get_body(("plain",)).get_content()
    # My bookings shows it with the visitor's company.
    page.get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("cell", name="Globex")).to_be_visible()
    ctx.close()


def test_an_agent_cannot_open_another_agents_settings(stack, browser, people):
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, stack.web, "raj@agents.example")
    for tab in ("calendar", "invitation", "availability", "bookings"):
        resp = page.goto(f"{stack.web}/portal/agents/{people['pia']}/{tab}")
        assert resp.status == 403
        expect(page.get_by_text("You do not have access to this page.")).to_be_visible()
    resp = page.goto(f"{stack.web}/portal/admin/queues/portal")
    assert resp.status == 403
    ctx.close()


def _some_bookings(stack, store, n: int = 12) -> None:
    """Bookings in the demo queue, one per visitor, a few cancelled: what the dashboard shows."""
    from bot.booking import Visitor
    from bot.ops.runtime import build_service

    svc = build_service(Settings(var_dir=Path(stack.env["BOT_VAR_DIR"]), public_url=stack.env["PUBLIC_URL"]), store)
    try:
        for i in range(n):
            # Times all over the next days, so the agents of all three zones get some.
            page = svc.offer_slots(f"e2e-dash-{i}", "sales", count=200, spread=False).slots
            offer = page[(i * 37) % len(page)]
            made = svc.book(f"e2e-dash-{i}", offer.id, Visitor(email=f"dash{i}@example.com", first_name=f"V{i}"))
            if i % 5 == 4:
                svc.cancel(made.booking_id)
        svc.offer_slots("e2e-dash-window-shopper", "sales", count=3)
    finally:
        svc.close()


def test_admin_adds_an_agent_to_a_queue_and_changes_the_weight(stack, browser, people):
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    _some_bookings(stack, people["store"])
    sign_in(page, stack.web, "boss@example.com")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.locator("svg[role=img]")).to_be_visible()
    shot(page, "dashboard.png", docs=True)
    page.get_by_role("link", name="Queues").click()
    page.get_by_role("link", name="Portal test").click()
    page.locator("select[name=agent]").select_option(label="Raj (raj@agents.example)")
    page.get_by_label("Weight", exact=True).fill("100")
    page.get_by_role("button", name="Add to queue").click()
    expect(page.get_by_role("status")).to_contain_text("Member added")
    weight = page.get_by_label("Weight for Raj")
    weight.fill("300")
    weight.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Weight saved")
    expect(page.get_by_label("Weight for Raj")).to_have_value("300")
    shot(page, "portal-queue.png")
    with people["store"].session() as s:
        m = s.get(QueueMember, (s.execute(select(QueueMember.queue_id).where(
            QueueMember.agent_id == people["pia"])).scalar_one(), people["raj"]))
        assert m is not None and m.weight == 300
    ctx.close()

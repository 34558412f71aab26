"""The chat widget (bot/web/static/widget.js) in a real browser: Debian's Chromium driven by
Playwright, against the three real processes of the session `stack`.

Scenarios: a keyboard-only visitor books on a phone and on a desktop (one in French, in Tokyo);
the page is reloaded and the conversation goes on; hostile text stays text; socket.io is blocked
and the REST relay carries the conversation; a host page on another origin hands over the
visitor's details. Screenshots: results/screenshots/widget-{desktop,phone}.png; the desktop one
becomes the README's docs/screenshots/widget.png when that is missing or UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from bot.i18n.texts import template
from bot.ops.supervisor import ROOT

pytestmark = pytest.mark.e2e

SHOTS = ROOT / "results" / "screenshots"
DOCS_SHOT = ROOT / "docs" / "screenshots" / "widget.png"
TURN_MS = 90_000  # one bot turn: seconds on this 2-core machine while Rasa is busy
HOSTILE = "<img src=x onerror=window.__pwned=1>"
expect.set_options(timeout=20_000)  # page loads and re-renders on a busy machine; bot turns wait TURN_MS


def phrase(key: str, lang: str) -> str:
    """What the bot says for ``key`` in ``lang`` up to its first placeholder."""
    return template(key, lang).split("{")[0].strip()


@pytest.fixture(scope="module")
def rasa_port(stack) -> int:
    return int(stack.rasa.rsplit(":", 1)[1])


def _context(browser, **kwargs):
    ctx = browser.new_context(**kwargs)
    ctx.set_default_timeout(30_000)
    return ctx


# ---- helpers ----------------------------------------------------------------------------------
def open_with_keyboard(page: Page) -> None:
    """Tab to the launcher, Enter: the panel opens and the input has the focus."""
    launcher = page.locator("#bkc-launcher")
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "bkc-launcher":
            break
    else:
        pytest.fail("Tab never reached the chat launcher")
    page.keyboard.press("Enter")
    expect(page.locator("#bkc-panel")).to_be_visible()
    expect(page.locator("#bkc-input")).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "true")


def say(page: Page, text: str, reply: str) -> None:
    """Type ``text``, press Enter, wait for one more bot message containing ``reply``."""
    answers = page.locator(".bkc-msg-bot", has_text=reply)
    before = answers.count()
    box = page.locator("#bkc-input")
    box.fill(text)
    box.press("Enter")
    expect(answers).to_have_count(before + 1, timeout=TURN_MS)


def slot_buttons(page: Page):
    return page.locator("#bkc-log .bkc-buttons button:enabled")


def bookings_of(stack, email: str) -> list[dict]:
    return [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == email]


def chat_posts(page: Page) -> list[dict]:
    """The bodies of the POST /chat requests this page makes, as they happen."""
    seen: list[dict] = []
    page.on(
        "request",
        lambda r: seen.append(r.post_data_json) if r.method == "POST" and r.url.endswith("/chat") else None,
    )
    return seen


# ---- the web app serves the widget ------------------------------------------------------------
def test_the_widget_files_are_served_with_their_headers(stack, rasa_port):
    with urllib.request.urlopen(f"{stack.web}/widget.js", timeout=10) as r:
        body = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/javascript")
        assert r.headers["Cache-Control"] == "public, max-age=300"
    assert f'var PORT = "{rasa_port}"' in body and "innerHTML" not in body
    with urllib.request.urlopen(f"{stack.web}/static/vendor/socket.io.min.js", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/javascript") and b"Socket.IO v4." in r.read(300)
    with urllib.request.urlopen(f"{stack.web}/static/widget.css", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/css")
    with urllib.request.urlopen(f"{stack.web}/", timeout=10) as r:
        csp = r.headers["Content-Security-Policy"]
        assert 'src="/widget.js"' in r.read().decode()
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert f"connect-src 'self' http://127.0.0.1:{rasa_port} " in csp and f"ws://127.0.0.1:{rasa_port}" in csp


# ---- a. + b. a keyboard visitor books on a phone and on a desktop; the page is reloaded -------
DEVICES = {
    # The phone run is in French and in Tokyo: the bot answers in French, the booking keeps both.
    "phone": dict(
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
        timezone_id="Asia/Tokyo",
        reduced_motion="reduce",
    ),
    "desktop": dict(viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="America/New_York"),
}
#: What each visitor types, in the browser's language (what a visitor writes beats the browser's
#: locale, so the French phone visitor writes French).
ASKS = {
    "phone": ("Je voudrais prendre rendez-vous", "Je voudrais réserver un autre rendez-vous"),
    "desktop": ("I'd like to book a meeting", "I'd like to book another meeting"),
}


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_visitor_books_with_the_keyboard_and_the_conversation_survives_a_reload(stack, browser, device):
    cfg = DEVICES[device]
    lang = cfg["locale"][:2]
    email = f"{device}.{uuid.uuid4().hex[:8]}@example.com"
    ctx = _context(browser, **cfg)
    page = ctx.new_page()
    posts = chat_posts(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{stack.web}/")
        open_with_keyboard(page)
        expect(page.locator("#bkc-root")).to_have_attribute("data-bkc-transport", "socket.io", timeout=20_000)
        panel = page.locator("#bkc-panel")
        box = panel.bounding_box()
        if device == "phone":  # full screen, and no animation for a visitor who asked for less motion
            assert box and box["width"] == 360 and box["height"] == 640, box
            assert panel.evaluate("el => getComputedStyle(el).animationName") == "none"
        else:
            assert box and box["width"] < 500 and box["height"] < 800, box

        say(page, ASKS[device][0], phrase("ask_email", lang))
        say(page, email, phrase("ask_first_name", lang))
        say(page, "Ana", phrase("ask_company", lang))
        say(page, "Widget Test GmbH", phrase("times_in_zone", lang))
        buttons = slot_buttons(page)
        expect(buttons.first).to_be_visible(timeout=TURN_MS)
        assert buttons.count() >= 2
        if lang == "fr":
            expect(page.locator("#bkc-log")).to_contain_text("Tokyo")
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / f"widget-{device}.png"
        page.screenshot(path=str(shot))
        if device == "desktop" and (not DOCS_SHOT.exists() or os.environ.get("UPDATE_SCREENSHOTS") == "1"):
            DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)  # the README's picture: kept unless asked
            shutil.copyfile(shot, DOCS_SHOT)

        # The slot button: its title is shown as the visitor's message, its payload is sent.
        title = buttons.first.inner_text()
        booked = page.locator(".bkc-msg-bot", has_text=phrase("booked", lang))
        buttons.first.focus()
        page.keyboard.press("Enter")  # buttons work from the keyboard
        expect(booked).to_have_count(1, timeout=TURN_MS)
        expect(page.locator(".bkc-msg-user").last).to_have_text(title)
        expect(slot_buttons(page)).to_have_count(0)  # answered offers cannot be clicked again
        assert posts == [], "socket.io was up: nothing should have gone through POST /chat"
        assert page.evaluate("typeof window.io") == "undefined", "the widget's socket.io client leaked into the page"

        [row] = bookings_of(stack, email)
        assert row["status"] == "confirmed"
        if device == "phone":
            assert row["timezone"] == "Asia/Tokyo" and row["locale"] == "fr_FR", row
        else:
            assert row["timezone"] == "America/New_York" and row["locale"] == "en_US", row

        # Escape closes the panel and gives the focus back to the launcher; Enter opens it again.
        page.locator("#bkc-input").focus()
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(page.locator("#bkc-launcher")).to_be_focused()
        expect(page.locator("#bkc-launcher")).to_have_attribute("aria-expanded", "false")
        page.keyboard.press("Enter")
        expect(page.locator("#bkc-input")).to_be_focused()

        # b. Reload: the transcript and the open panel are back, and the bot still knows the visitor.
        page.reload()
        expect(panel).to_be_visible()
        expect(booked).to_have_count(1)
        expect(page.locator(".bkc-msg-user", has_text=email)).to_have_count(1)
        asked_email = page.locator(".bkc-msg-bot", has_text=phrase("ask_email", lang))
        expect(asked_email).to_have_count(1)
        box = page.locator("#bkc-input")
        box.fill(ASKS[device][1])
        box.press("Enter")
        expect(slot_buttons(page).first).to_be_visible(timeout=TURN_MS)
        expect(asked_email).to_have_count(1)  # no second e-mail question
        assert posts == [] and errors == [], (posts, errors)
    finally:
        ctx.close()


# ---- c. hostile text stays text ----------------------------------------------------------------
def test_hostile_text_is_shown_as_text(stack, browser):
    ctx = _context(browser, locale="en-GB", timezone_id="Europe/London")
    page = ctx.new_page()
    try:
        page.goto(f"{stack.web}/")
        page.locator("#bkc-launcher").click()
        say(page, "book a meeting", phrase("ask_email", "en"))
        say(page, f"hostile.{uuid.uuid4().hex[:8]}@example.com", phrase("ask_first_name", "en"))
        say(page, HOSTILE, phrase("name_not_plain", "en"))  # clearly not a name: asked again
        for _ in range(2):  # as typed, and as re-rendered from storage after a reload
            expect(page.locator(".bkc-msg-user .bkc-bubble", has_text=HOSTILE)).to_have_count(1)
            assert page.locator("#bkc-root img").count() == 0
            assert page.evaluate("window.__pwned") is None
            page.reload()
            expect(page.locator("#bkc-panel")).to_be_visible()
    finally:
        ctx.close()

    # And from the bot's side (a relay answer made up here): markup stays text, only http(s)
    # URLs become links, which open in a new tab without access to this page.
    ctx = _context(browser)
    page = ctx.new_page()
    try:
        page.route_web_socket(re.compile(r"/socket\.io/"), lambda ws: ws.close())
        evil = {
            "recipient_id": "x",
            "text": "<b>bold</b> <script>window.__pwned=2</script> javascript:window.__pwned=3 "
            "see https://example.com/meet?x=1&y=2. Bye",
            "buttons": [{"title": "<i>slot</i>", "payload": '/choose_slot{"slot_id":"x"}'}],
        }
        page.route(
            f"{stack.web}/chat",
            lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps([evil])),
        )
        page.goto(f"{stack.web}/")
        page.locator("#bkc-launcher").click()
        page.locator("#bkc-input").fill("hello")
        page.locator("#bkc-input").press("Enter")
        bubble = page.locator(".bkc-msg-bot .bkc-bubble").last
        expect(bubble).to_contain_text("<b>bold</b> <script>", timeout=TURN_MS)
        assert page.locator("#bkc-root b, #bkc-root script, #bkc-root i").count() == 0
        links = bubble.locator("a")
        expect(links).to_have_count(1)
        assert links.get_attribute("href") == "https://example.com/meet?x=1&y=2"
        assert links.get_attribute("target") == "_blank" and links.get_attribute("rel") == "noopener noreferrer"
        expect(page.locator(".bkc-choice", has_text="<i>slot</i>")).to_have_count(1)
        assert page.evaluate("window.__pwned") is None
    finally:
        ctx.close()


# ---- d. socket.io blocked: the REST relay carries the conversation -----------------------------
def test_rest_fallback_when_socketio_is_blocked(stack, browser, rasa_port):
    ctx = _context(browser, locale="en-US", timezone_id="Europe/Berlin")
    page = ctx.new_page()
    try:
        rasa = f"127.0.0.1:{rasa_port}"
        page.route_web_socket(re.compile(rf"^wss?://{re.escape(rasa)}/socket\.io/"), lambda ws: ws.close())
        page.route(f"http://{rasa}/socket.io/**", lambda route: route.abort())
        posts = chat_posts(page)
        page.goto(f"{stack.web}/")
        page.locator("#bkc-launcher").click()
        email = f"rest.{uuid.uuid4().hex[:8]}@example.com"
        say(page, "I'd like to book a meeting", phrase("ask_email", "en"))
        expect(page.locator("#bkc-root")).to_have_attribute("data-bkc-transport", "rest")
        say(page, email, phrase("ask_first_name", "en"))
        assert [p["message"] for p in posts] == ["I'd like to book a meeting", email]
        meta = posts[0]["metadata"]
        assert meta["locale"] == "en-US" and meta["timezone"] == "Europe/Berlin" and meta["queue"] == "sales", meta
        assert posts[0]["sender"] == page.evaluate("localStorage.getItem('bkc:sender')")
    finally:
        ctx.close()


# ---- e. a host page on another origin hands over who the visitor is ----------------------------
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title>
<style>button {{ background: rgb(255, 0, 0); font-family: serif; }} h1 {{ color: rgb(0, 128, 0); }}</style></head>
<body><h1>Acme Corp</h1><button id="host-button">Host button</button>
<script>window.BOOKING_CHAT = {{person: {{first_name: "Hana", email: "{email}"}},
                               company: {{name: "Host Page Inc"}}, queue: "sales"}};</script>
<script src="{web}/widget.js" data-queue="sales" defer></script></body></html>"""


@pytest.fixture
def host_page(stack):
    """A page of another site (another origin, in WIDGET_ORIGINS) that embeds the widget with the
    snippet (tests/e2e/test_browser_cross_origin.py: rasa-webchat too, and a site not on the list)."""
    email = f"hana.{uuid.uuid4().hex[:8]}@example.com"
    html = HOST_PAGE.format(email=email, web=stack.web).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", stack.host_port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", email
    server.shutdown()
    server.server_close()


def test_a_host_page_passes_the_visitor_and_keeps_its_styles(stack, browser, host_page):
    url, email = host_page
    ctx = _context(browser, locale="en-GB", timezone_id="Europe/Paris")
    page = ctx.new_page()
    try:
        page.goto(url)
        page.locator("#bkc-launcher").click()
        expect(page.locator("#bkc-root")).to_have_attribute("data-bkc-transport", "socket.io", timeout=20_000)
        say(page, "I'd like to book a meeting", phrase("times_in_zone", "en"))
        buttons = slot_buttons(page)
        expect(buttons.first).to_be_visible()
        for key in ("ask_email", "ask_first_name", "ask_company"):
            expect(page.locator(".bkc-msg-bot", has_text=phrase(key, "en"))).to_have_count(0)
        buttons.first.click()
        expect(page.locator(".bkc-msg-bot", has_text=phrase("booked", "en"))).to_have_count(1, timeout=TURN_MS)
        [row] = bookings_of(stack, email)
        assert row["status"] == "confirmed" and row["timezone"] == "Europe/Paris" and row["locale"] == "en_GB", row

        # The host's styles reach neither way: its button rule does not paint ours, ours leave its own.
        launcher_bg = page.locator("#bkc-launcher").evaluate("el => getComputedStyle(el).backgroundColor")
        assert launcher_bg != "rgb(255, 0, 0)"
        assert page.locator("#host-button").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 0, 0)"
        assert page.locator("h1").evaluate("el => getComputedStyle(el).color") == "rgb(0, 128, 0)"
    finally:
        ctx.close()

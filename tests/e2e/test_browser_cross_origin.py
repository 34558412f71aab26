"""The chat embedded on the customer's own website (issue 20): the page on one origin, the product
(Rasa, the web app) on others, in Debian's Chromium against the session's three real processes.

The stack (tests/e2e/conftest.py) lists one host site in WIDGET_ORIGINS, ``stack.host_origin``
(another port of 127.0.0.1: another origin); a "foreign" site is any other free port.

- rasa-webchat 1.0.1 (npm, pinned in package-lock.json; its bundle served by the host site as a
  customer would) from the allowed site: socket.io polling first, then the WebSocket upgrade, and
  a booking that carries its ``customData`` (person, company, zone, locale).
- our widget from the allowed site, under a strict host-page CSP (the one the README gives):
  over socket.io, and over the ``POST /chat`` relay (cross-origin, preflighted) when the
  WebSocket is blocked; each books with the host page's visitor details.
- from the foreign site: neither widget shows a single bot message, and Rasa (and the relay)
  logged the refusal once, however often the page retried.
- at the HTTP level against the real Rasa (``--cors`` + our channel): the polling handshake
  carries exactly one ``Access-Control-Allow-Origin`` for the allowed site, none (403) for the
  foreign one; the WebSocket upgrade is refused to the foreign one.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import websockets
from playwright.sync_api import Page, expect

from bot.ops.supervisor import ROOT, free_port
from tests.e2e.test_browser_widget import TURN_MS, bookings_of, phrase, say, slot_buttons

pytestmark = pytest.mark.e2e

WEBCHAT_JS = ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js"
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"
WAIT_REFUSED_S = 60  # for a refused page to retry a few times (socket.io's backoff grows to 5-10 s)


# ---- a host site: a static server on its own port -------------------------------------------------
@contextmanager
def site(port: int, pages: dict[str, tuple[str, bytes, dict[str, str]]]) -> Iterator[str]:
    """Serve ``pages`` (path -> content type, body, extra headers) at http://127.0.0.1:<port>."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            found = pages.get(self.path.split("?")[0])
            if found is None:
                self.send_error(404)
                return
            ctype, body, headers = found
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def _context(browser, **kwargs):
    ctx = browser.new_context(**kwargs)
    ctx.set_default_timeout(30_000)
    return ctx


def _log(stack, name: str) -> str:
    return (Path(stack.env["BOT_VAR_DIR"]) / "logs" / f"{name}.log").read_text(errors="replace")


def refusals(stack, name: str, origin: str) -> int:
    """Log lines of process ``name`` that say a page of ``origin`` was refused."""
    marker = "socketio.origin.refused" if name == "rasa" else "chat relay: refused a page of"
    return sum(1 for line in _log(stack, name).splitlines() if marker in line and origin in line)


def wait_for(page: Page, predicate, timeout: float, what: str) -> None:
    """Wait in the browser (Playwright's sync API delivers page events only while it runs)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        page.wait_for_timeout(500)


def visitor(tag: str) -> dict:
    return {
        "email": f"{tag}.{uuid.uuid4().hex[:8]}@example.com",
        "first_name": tag.capitalize(),
        "company": f"{tag.capitalize()} Cross-Origin Ltd",
    }


# ---- rasa-webchat 1.0.1 ----------------------------------------------------------------------------
WEBCHAT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title></head>
<body><h1>Acme Corp</h1>
<script src="/rasa-webchat.js"></script>
<script>
  WebChat.default({{
    initPayload: "I'd like to book a meeting",
    socketUrl: "{rasa}",
    socketPath: "/socket.io/",
    customData: {{person: {{first_name: "{first_name}", email: "{email}"}}, company: {{name: "{company}"}},
                 locale: "en-GB", timezone: "Europe/Lisbon", queue: "sales"}},
    embedded: true,
    title: "Acme",
    params: {{storage: "session"}}
  }}, null);
</script></body></html>"""


def webchat_site(stack, who: dict) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    assert WEBCHAT_JS.is_file(), "rasa-webchat is missing from node_modules: run `make install` (npm ci)"
    page = WEBCHAT_PAGE.format(rasa=stack.rasa, **who).encode()
    return {
        "/": ("text/html; charset=utf-8", page, {}),
        "/rasa-webchat.js": ("text/javascript", WEBCHAT_JS.read_bytes(), {}),
    }


def socketio_traffic(page: Page, rasa: str) -> dict[str, list]:
    """What the page does with Rasa's socket.io: HTTP requests (polling) and WebSockets, in order."""
    seen: dict[str, list] = {"http": [], "ws": [], "responses": []}
    prefix = f"{rasa}/socket.io/"
    page.on("request", lambda r: seen["http"].append(r.url) if r.url.startswith(prefix) else None)
    page.on("websocket", lambda ws: seen["ws"].append(ws.url) if "/socket.io/" in ws.url else None)
    page.on("response", lambda r: seen["responses"].append(r) if r.url.startswith(prefix) else None)
    return seen


def test_rasa_webchat_books_from_an_allowed_site_polling_first_then_upgrading(stack, browser):
    who = visitor("rita")
    ctx = _context(browser, locale="en-GB", timezone_id="Europe/Lisbon")
    page = ctx.new_page()
    traffic = socketio_traffic(page, stack.rasa)
    try:
        with site(stack.host_port, webchat_site(stack, who)) as url:
            assert url == stack.host_origin
            page.goto(url + "/")
            replies = page.locator(".rw-reply")
            expect(replies.first).to_be_visible(timeout=TURN_MS)
            # The zone came from customData; so did the visitor: no e-mail, name or company asked.
            expect(page.locator(".rw-response", has_text=phrase("times_in_zone", "en"))).to_have_count(1)
            expect(page.locator(".rw-response", has_text="Lisbon")).to_have_count(1)
            for key in ("ask_email", "ask_first_name", "ask_company"):
                expect(page.locator(".rw-response", has_text=phrase(key, "en"))).to_have_count(0)
            replies.first.click()
            booked = page.locator(".rw-response", has_text=phrase("booked", "en"))
            expect(booked).to_have_count(1, timeout=TURN_MS)

        # socket.io as rasa-webchat does it: the polling handshake first, then the upgrade.
        first = urlsplit(traffic["http"][0])
        assert "transport=polling" in first.query and "sid=" not in first.query, traffic["http"][:3]
        assert any("transport=websocket" in u and "sid=" in u for u in traffic["ws"]), traffic["ws"]
        handshake = traffic["responses"][0]
        assert handshake.status == 200
        allow = [
            v
            for k, v in ((h["name"].lower(), h["value"]) for h in handshake.headers_array())
            if k == "access-control-allow-origin"
        ]
        assert allow == [stack.host_origin], handshake.headers_array()

        [row] = bookings_of(stack, who["email"])
        assert row["status"] == "confirmed", row
        assert (row["visitor_first_name"], row["company"]) == (who["first_name"], who["company"]), row
        assert (row["timezone"], row["locale"], row["queue"]) == ("Europe/Lisbon", "en_GB", "sales"), row
        assert stack.release(row["id"]), "the booking's time given back for the tests after this one"
    finally:
        ctx.close()


def test_rasa_webchat_is_refused_from_another_site_and_it_is_logged_once(stack, browser):
    who = visitor("fred")
    port = free_port()
    foreign = f"http://127.0.0.1:{port}"
    ctx = _context(browser, locale="en-GB", timezone_id="Europe/Lisbon")
    page = ctx.new_page()
    traffic = socketio_traffic(page, stack.rasa)
    try:
        with site(port, webchat_site(stack, who)) as url:
            page.goto(url + "/")
            # It keeps trying (socket.io reconnects): several handshakes, every one refused.
            wait_for(page, lambda: len(traffic["http"]) >= 3, WAIT_REFUSED_S, "three polling attempts")
            page.wait_for_timeout(2000)
            assert page.locator(".rw-response, .rw-reply").count() == 0, "a bot message reached a foreign page"
            assert all(r.status == 403 for r in traffic["responses"]), [r.status for r in traffic["responses"]]
            assert traffic["ws"] == [], "no handshake succeeded, so no upgrade was tried"
    finally:
        ctx.close()
    assert refusals(stack, "rasa", foreign) == 1, "logged once per origin, not per poll"
    assert bookings_of(stack, who["email"]) == []


# ---- our widget ------------------------------------------------------------------------------------
NONCE = "bkc-test-nonce"
WIDGET_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title></head>
<body><h1>Acme Corp</h1>
<script nonce="{nonce}">window.BOOKING_CHAT = {{person: {{first_name: "{first_name}", email: "{email}"}},
                                 company: {{name: "{company}"}}, queue: "sales"}};</script>
<script src="{web}/widget.js" data-queue="sales" defer></script></body></html>"""


def host_csp(stack) -> str:
    """The host page's own CSP, as the README tells a customer to write it: the widget's origin
    for scripts and styles (widget.js, the socket.io client, widget.css) and for the relay; Rasa's
    address, http and ws, for socket.io."""
    rasa = urlsplit(stack.rasa).netloc
    return (
        f"default-src 'none'; script-src 'nonce-{NONCE}' {stack.web}; style-src {stack.web}; "
        f"connect-src {stack.web} http://{rasa} ws://{rasa}; base-uri 'none'"
    )


def widget_site(stack, who: dict) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    page = WIDGET_PAGE.format(nonce=NONCE, web=stack.web, **who).encode()
    return {"/": ("text/html; charset=utf-8", page, {"Content-Security-Policy": host_csp(stack)})}


def csp_violations(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def block_socketio(page: Page, stack) -> None:
    rasa = urlsplit(stack.rasa).netloc
    page.route_web_socket(f"ws://{rasa}/socket.io/**", lambda ws: ws.close())
    page.route(f"http://{rasa}/socket.io/**", lambda route: route.abort())


@pytest.mark.parametrize("transport", ["socket.io", "rest"])
def test_our_widget_books_from_an_allowed_site(stack, browser, transport):
    who = visitor("wanda" if transport == "rest" else "walt")
    ctx = _context(browser, locale="en-US", timezone_id="America/Chicago")
    page = ctx.new_page()
    violations = csp_violations(page)
    relayed: list = []
    page.on("response", lambda r: relayed.append(r) if r.url == f"{stack.web}/chat" else None)
    if transport == "rest":
        block_socketio(page, stack)
    try:
        with site(stack.host_port, widget_site(stack, who)) as url:
            page.goto(url + "/")
            page.locator("#bkc-launcher").click()
            say(page, "I'd like to book a meeting", phrase("times_in_zone", "en"))
            expect(page.locator("#bkc-root")).to_have_attribute("data-bkc-transport", transport)
            for key in ("ask_email", "ask_first_name", "ask_company"):
                expect(page.locator(".bkc-msg-bot", has_text=phrase(key, "en"))).to_have_count(0)
            slot_buttons(page).first.click()
            expect(page.locator(".bkc-msg-bot", has_text=phrase("booked", "en"))).to_have_count(1, timeout=TURN_MS)
        assert violations == [], violations
        if transport == "rest":  # cross-origin POSTs (preflighted), readable thanks to the relay's CORS
            assert len(relayed) == 2 and all(r.status == 200 for r in relayed)
            assert all(r.headers.get("access-control-allow-origin") == stack.host_origin for r in relayed)
        else:
            assert relayed == []
        [row] = bookings_of(stack, who["email"])
        assert row["status"] == "confirmed", row
        assert (row["visitor_first_name"], row["company"]) == (who["first_name"], who["company"]), row
        assert (row["timezone"], row["locale"]) == ("America/Chicago", "en_US"), row
        assert stack.release(row["id"]), "the booking's time given back for the tests after this one"
    finally:
        ctx.close()


def test_our_widget_is_refused_from_another_site_and_it_is_logged_once(stack, browser):
    who = visitor("fiona")
    port = free_port()
    foreign = f"http://127.0.0.1:{port}"
    ctx = _context(browser, locale="en-US", timezone_id="America/Chicago")
    page = ctx.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url) if "/socket.io/" in ws.url else None)
    try:
        with site(port, widget_site(stack, who)) as url:
            page.goto(url + "/")
            page.locator("#bkc-launcher").click()
            # socket.io is refused, so the widget falls back to the relay, which refuses too.
            expect(page.locator("#bkc-root")).to_have_attribute("data-bkc-transport", "rest", timeout=20_000)
            box = page.locator("#bkc-input")
            errors = page.locator(".bkc-msg-error")
            for n, text in enumerate(["I'd like to book a meeting", "hello?"], 1):
                box.fill(text)
                box.press("Enter")
                expect(errors).to_have_count(n, timeout=TURN_MS)
            wait_for(page, lambda: len(sockets) >= 2, WAIT_REFUSED_S, "a second WebSocket attempt")
            page.wait_for_timeout(2000)
            assert page.locator(".bkc-msg-bot").count() == 0, "a bot message reached a foreign page"
    finally:
        ctx.close()
    assert refusals(stack, "rasa", foreign) == 1, "Rasa logs a refused origin once, not per attempt"
    assert refusals(stack, "web", foreign) == 1, "the relay logs a refused origin once, not per message"
    assert bookings_of(stack, who["email"]) == []


# ---- the handshake at the HTTP level, against the real Rasa --------------------------------------
def _get(stack, path: str, origin: str | None) -> tuple[int, list[tuple[str, str]]]:
    conn = http.client.HTTPConnection("127.0.0.1", int(urlsplit(stack.rasa).port), timeout=10)
    try:
        conn.request("GET", path, headers={} if origin is None else {"Origin": origin})
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheaders()
    finally:
        conn.close()


def test_the_socketio_handshake_at_the_http_level(stack):
    port = free_port()
    foreign = f"http://127.0.0.1:{port}"
    status, headers = _get(stack, HANDSHAKE, stack.host_origin)
    allow = [v for k, v in headers if k.lower() == "access-control-allow-origin"]
    assert status == 200 and allow == [stack.host_origin], headers  # sanic-cors's alone, not engine.io's too
    for _ in range(3):
        status, headers = _get(stack, HANDSHAKE, foreign)
        assert status == 403 and not any(k.lower() == "access-control-allow-origin" for k, _ in headers), headers

    async def upgrade(origin: str) -> str:
        ws_url = stack.rasa.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(ws_url, origin=origin, open_timeout=10) as ws:
            return str(await asyncio.wait_for(ws.recv(), 10))

    def run(origin: str) -> str:  # in a thread of its own: Playwright's loop runs in this one
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, upgrade(origin)).result()

    assert run(stack.host_origin).startswith("0{")
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        run(foreign)
    assert refused.value.status_code == 403
    assert refusals(stack, "rasa", foreign) == 1

"""Sanic app factory. Everything stateful (HTTP client, store) is built in listeners."""

from __future__ import annotations

import asyncio
import hashlib
import html
import itertools
import json
import logging
import re
import secrets
from typing import Any

import httpx
from sanic import Sanic, response
from sanic.request import Request
from sqlalchemy import select, text

from bot.i18n.replies import too_long
from bot.inputs import OriginGate, nesting_depth
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Booking, CalendarEvent
from bot.web.limits import (
    MAX_BODY,
    MAX_MESSAGE,
    MAX_METADATA,
    MAX_METADATA_DEPTH,
    SENDER_RE,
    STATIC,
    STATIC_FILES,
)
from bot.web.openapi import document
from bot.web.portal_kit import same_origin

log = logging.getLogger(__name__)

#: A booking id, or a booking id and a sequence (an event made again when a move changed the agent).
KEY_RE = re.compile(r"^[0-9a-f]{32}(?:[0-9a-f]{4})?$")
VISITOR_COOKIE = "bot_visitor"
VISITOR_COOKIE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_names = itertools.count()

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'",
}


def rasa_for(urls: list[str], sender: str) -> str:
    """The Rasa server for this visitor: rendezvous hashing, so a visitor stays on one server
    and only 1/n of the visitors move when a server is added or removed. (Stickiness is for
    speed: the lock store keeps a conversation consistent whichever server gets a message.)"""
    return max(urls, key=lambda u: hashlib.sha256(f"{u}|{sender}".encode()).digest())


def _error(status: int, message: str) -> response.HTTPResponse:
    return response.json({"error": message}, status=status)


#: The refusal a page of an origin outside WIDGET_ORIGINS gets from the /chat relay.
REFUSED_ORIGIN = "This site may not use the chat (its origin is not in WIDGET_ORIGINS)."
#: How long a browser may keep an allowed preflight of POST /chat (seconds).
PREFLIGHT_MAX_AGE = 600


def _report_refused(origin: str | None) -> None:
    if origin is None:
        log.warning("chat relay: many origins refused, no longer logging each")
    else:
        log.warning("chat relay: refused a page of %s, not in WIDGET_ORIGINS (logged once per origin)", origin)


def create_app(settings: Settings, store: Store | None = None) -> Sanic:
    app = Sanic(f"bot_web_{next(_names)}")
    app.config.REQUEST_MAX_SIZE = MAX_BODY

    from bot.web.oauth import blueprint

    app.blueprint(blueprint(settings))
    from bot.web.manage import blueprint as manage_blueprint

    app.blueprint(manage_blueprint(settings))
    from bot.web import portal, portal_admin

    app.blueprint(portal.blueprint(settings))
    app.blueprint(portal_admin.blueprint(settings))

    @app.listener("before_server_start")
    async def setup(app: Sanic, _loop: Any) -> None:
        from bot.ops.runtime import build_service

        app.ctx.store = store or Store(settings.db_url)
        app.ctx.http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=3.0))
        # One booking service per process: the cancel pages and the worker share it.
        app.ctx.service = build_service(settings, app.ctx.store)

    @app.listener("after_server_start")
    async def start_worker(app: Sanic, _loop: Any) -> None:
        app.ctx.worker = None
        if settings.web_runs_worker:
            from bot.ops.worker import Worker

            app.ctx.worker = Worker(app.ctx.service, settings)
            app.ctx.worker.start()

    @app.listener("before_server_stop")
    async def stop_worker(app: Sanic, _loop: Any) -> None:
        if getattr(app.ctx, "worker", None) is not None:
            app.ctx.worker.stop()

    @app.listener("after_server_stop")
    async def teardown(app: Sanic, _loop: Any) -> None:
        await app.ctx.http.aclose()
        app.ctx.service.close()

    @app.middleware("response")
    async def headers(_request: Request, resp: response.HTTPResponse) -> None:
        for k, v in SECURITY_HEADERS.items():
            resp.headers.setdefault(k, v)

    @app.get("/")
    async def index(request: Request) -> response.HTTPResponse:
        resp = await response.file(STATIC / "index.html", mime_type="text/html; charset=utf-8")
        if not VISITOR_COOKIE_RE.match(request.cookies.get(VISITOR_COOKIE, "")):
            # What the reverse proxy hashes to keep one visitor on one Rasa server (deploy/nginx.conf).
            resp.cookies[VISITOR_COOKIE] = secrets.token_urlsafe(16)
            resp.cookies[VISITOR_COOKIE].update({"httponly": True, "samesite": "Lax", "max-age": 31536000, "path": "/"})
        # The chat widget on this page opens socket.io to Rasa at this host, port RASA_PORT
        # (widget.js's default): allow exactly that in connect-src, nothing else.
        host = request.host if request.host.endswith("]") else request.host.rsplit(":", 1)[0]
        if re.fullmatch(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]", host):
            rasa = " ".join(f"{scheme}://{host}:{settings.rasa_port}" for scheme in ("http", "https", "ws", "wss"))
            resp.headers["Content-Security-Policy"] = SECURITY_HEADERS["Content-Security-Policy"] + f"; connect-src 'self' {rasa}"
        return resp

    @app.get("/static/<name:path>")
    async def static(_request: Request, name: str) -> response.HTTPResponse:
        if name not in STATIC_FILES:
            return _error(404, "not found")
        if not (STATIC / name).is_file():
            return _error(404, f"{name} is missing: run `make install` (npm ci copies the socket.io client)")
        return await response.file(STATIC / name, mime_type=f"{STATIC_FILES[name]}; charset=utf-8")

    # The embeddable chat widget (README, "Chat widget"), with this setup's Rasa port as its
    # default: read once here, not on every request.
    widget_js = (STATIC / "widget.js").read_text("utf-8").replace("__BKC_RASA_PORT__", str(settings.rasa_port))

    @app.get("/widget.js")
    async def widget(_request: Request) -> response.HTTPResponse:
        return response.text(
            widget_js, content_type="text/javascript; charset=utf-8", headers={"Cache-Control": "public, max-age=300"}
        )

    @app.get("/health")
    async def health(request: Request) -> response.HTTPResponse:
        def ping() -> None:
            with request.app.ctx.store.session() as s:
                s.execute(text("SELECT 1"))

        try:
            await asyncio.get_running_loop().run_in_executor(None, ping)
        except Exception as exc:
            log.warning("health: database unreachable: %s", type(exc).__name__)
            return response.json({"status": "error", "database": "unreachable"}, status=503)
        return response.json({"status": "ok", "database": "ok"})

    # The relay's CORS: pages of WIDGET_ORIGINS (the customer's own website) may call it from the
    # browser; this site's own pages need no CORS; any other page is refused (403, logged once).
    chat_gate = OriginGate(settings.widget_origins, _report_refused)

    def chat_cors(request: Request) -> tuple[bool, dict[str, str]]:
        """(may this page use the relay?, the CORS headers of the answer)."""
        headers = {"Vary": "Origin"}  # the answer depends on the Origin: no shared cache may mix them
        origin = (request.headers.get("origin") or "").strip().lower() or None  # blank: as if absent
        if origin is None or (origin not in chat_gate.allowed and same_origin(request, settings)):
            return True, headers
        if not chat_gate.admits(origin):
            return False, headers
        return True, {**headers, "Access-Control-Allow-Origin": origin}

    @app.options("/chat")
    async def chat_preflight(request: Request) -> response.HTTPResponse:
        """CORS preflight of POST /chat (a JSON POST from another origin is preflighted)."""
        allowed, headers = chat_cors(request)
        if not allowed:
            refused = _error(403, REFUSED_ORIGIN)
            refused.headers.update(headers)
            return refused
        headers["Allow"] = "OPTIONS, POST"
        if "Access-Control-Allow-Origin" in headers:
            headers["Access-Control-Allow-Methods"] = "POST"
            headers["Access-Control-Allow-Headers"] = "Content-Type"
            headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return response.empty(status=204, headers=headers)

    @app.post("/chat")
    async def chat(request: Request) -> response.HTTPResponse:
        """The relay to Rasa's REST channel (the widget's fallback), with CORS for WIDGET_ORIGINS."""
        allowed, headers = chat_cors(request)
        resp = await relay(request) if allowed else _error(403, REFUSED_ORIGIN)
        resp.headers.update(headers)
        return resp

    async def relay(request: Request) -> response.HTTPResponse:
        # Parsed here, not with request.json (whose errors are Sanic's, not {"error": ...}). Every
        # rule below is at least as strict as Rasa's REST channel (bot/rasa_ext/channels.py), so
        # what passes here is never refused there (which would read "not reachable").
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deeply
            body = None
        if not isinstance(body, dict):
            return _error(400, "expected a JSON object")
        sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
        metadata = {} if metadata is None else metadata
        if not isinstance(sender, str) or not SENDER_RE.fullmatch(sender):
            return _error(400, "sender must be 1-64 letters, digits, '-' or '_'")
        if isinstance(message, str) and len(message) > MAX_MESSAGE:
            # The visitor reads why, in their language, as the bot's answer (the widget shows it).
            reply = too_long(sender, message, metadata, MAX_MESSAGE)
            return response.json({"error": f"message must be 1-{MAX_MESSAGE} characters", "messages": [reply]}, status=400)
        if not isinstance(message, str) or not message.strip():
            return _error(400, f"message must be 1-{MAX_MESSAGE} characters")
        if "\x00" in message:
            return _error(400, "message must not contain NUL characters")
        try:
            message.encode("utf-8")
        except UnicodeEncodeError:
            return _error(400, "message must be valid Unicode (no lone surrogates)")
        if not isinstance(metadata, dict):
            return _error(400, "metadata must be a JSON object")
        if nesting_depth(metadata, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
            return _error(400, f"metadata must not nest more than {MAX_METADATA_DEPTH} levels deep")
        try:
            size = len(json.dumps(metadata, allow_nan=False))
            json.dumps(metadata, ensure_ascii=False).encode("utf-8")
        except ValueError:  # NaN/Infinity, lone surrogates
            return _error(400, "metadata must be plain JSON: no NaN or Infinity, valid Unicode (no lone surrogates)")
        if size > MAX_METADATA:
            return _error(400, "metadata must be a JSON object under 8 KB")
        try:
            r = await request.app.ctx.http.post(
                f"{rasa_for(settings.rasa_urls, sender)}/webhooks/rest/webhook",
                json={"sender": sender, "message": message, "metadata": metadata},
            )
            r.raise_for_status()
            return response.json(r.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("chat relay to Rasa failed: %s", type(exc).__name__)
            return _error(503, "The assistant is not reachable right now. Please try again in a minute.")

    @app.get("/meet/<key:str>")
    async def meet(request: Request, key: str) -> response.HTTPResponse:
        """The local calendar's meeting room: a stable address per booking."""
        if not KEY_RE.match(key):
            return _error(404, "no such meeting")

        def load() -> tuple[str, str] | None:
            with request.app.ctx.store.session() as s:
                ev = s.execute(select(CalendarEvent).where(CalendarEvent.idempotency_key == key)).scalar_one_or_none()
                if ev is not None:
                    return ev.summary, ev.status
                # a CalDAV booking meets in this room too when the agent's invitation names no link
                b = s.execute(
                    select(Booking).where(Booking.conference_url == f"{settings.public_url.rstrip('/')}/meet/{key}")
                ).scalars().first()
                return None if b is None else ("Meeting", b.status)

        found = await asyncio.get_running_loop().run_in_executor(None, load)
        if found is None:
            return _error(404, "no such meeting")
        summary, status = found
        state = (
            "This meeting was cancelled."
            if status == "cancelled"
            else (
                "This is the meeting room of this booking. With Google or Microsoft 365 "
                "connected, the invitation carries a Meet or Teams link instead."
            )
        )
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Meeting room</title>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            "<link rel=stylesheet href=/static/chat.css></head><body><main class=room>"
            f"<h1>{html.escape(summary)}</h1><p>{html.escape(state)}</p></main></body></html>"
        )
        return response.html(page)

    @app.get("/openapi.json")
    async def openapi(_request: Request) -> response.HTTPResponse:
        return response.json(document(settings.public_url))

    from sanic.exceptions import SanicException

    @app.exception(SanicException)
    async def sanic_error(_request: Request, exc: SanicException) -> response.HTTPResponse:
        """Errors Sanic raises itself (no such route, method not allowed, body over 64 KB) in
        our JSON error shape rather than Sanic's text or HTML page."""
        status = getattr(exc, "status_code", 500) or 500
        resp = _error(status, str(exc) or "request failed")
        resp.headers.update(getattr(exc, "headers", None) or {})
        return resp

    return app

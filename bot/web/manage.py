"""The page behind the cancel link in the confirmation e-mail, in the visitor's language.

GET shows the meeting and a button; only the POST (carrying the same signed token) cancels, so
a mail scanner that follows links cancels nothing. The token names the booking and its
sequence: after the cancellation the sequence moves on and the link is spent.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request

from bot.errors import AlreadyCancelled, BookingInPast, BookingNotFound, ProviderError
from bot.i18n import format_when, zone, zone_label
from bot.links import check_manage_token
from bot.runtime import vault
from bot.settings import Settings
from bot.texts import say

log = logging.getLogger(__name__)
BOOKING_RE = re.compile(r"^[0-9a-f]{32}$")


def _page(lang: str, title: str, body: str, status: int = 200) -> response.HTTPResponse:
    return response.html(
        f"<!doctype html><html lang={html.escape(lang)}><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<meta name=referrer content=no-referrer>"
        f"<title>{html.escape(title)}</title><link rel=stylesheet href=/static/chat.css></head>"
        f"<body><main class=room><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("manage")
    v = vault(settings)

    async def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs))

    def describe(b: dict[str, Any]) -> tuple[str, dict[str, str]]:
        from datetime import datetime

        lang = (b.get("locale") or "en").split("_")[0]
        tz = zone(b.get("timezone"))
        start, end = datetime.fromisoformat(b["start"][:-1] + "+00:00"), datetime.fromisoformat(b["end"][:-1] + "+00:00")
        when = f"{format_when(start, end, tz, b.get('locale') or 'en')} ({zone_label(tz, b.get('locale') or 'en')})"
        return lang, {"agent": b["agent_name"], "when": when}

    async def load(request: Request, booking_id: str, token: str) -> tuple[dict[str, Any] | None, int | None]:
        if not BOOKING_RE.match(booking_id or ""):
            return None, None
        seq = check_manage_token(v, token or "", booking_id)
        if seq is None:
            return None, None
        return await run(request.app.ctx.service.get_booking, booking_id), seq

    def invalid(lang: str = "en") -> response.HTTPResponse:
        return _page(lang, say("page_cancel_title", lang), _p(say("page_link_invalid", lang)), status=404)

    @bp.route("/booking/<booking_id:str>/cancel", methods=["GET", "POST"])
    async def cancel_page(request: Request, booking_id: str) -> response.HTTPResponse:
        # One route for both methods: Sanic then answers other methods 405, not 404.
        return await (cancel(request, booking_id) if request.method == "POST" else show(request, booking_id))

    async def show(request: Request, booking_id: str) -> response.HTTPResponse:
        token = request.args.get("t", "")
        b, seq = await load(request, booking_id, token)
        if b is None:
            return invalid()
        lang, values = describe(b)
        title = say("page_cancel_title", lang)
        if b["status"] == "cancelled":
            return _page(lang, title, _p(say("page_already_cancelled", lang)))
        if b["status"] != "confirmed" or seq != b["sequence"]:
            return invalid(lang)
        form = (
            f"<form method=post action='/booking/{booking_id}/cancel'>"
            f"<input type=hidden name=t value='{html.escape(token, quote=True)}'>"
            f"<button type=submit>{html.escape(say('page_cancel_button', lang))}</button></form>"
        )
        return _page(lang, title, _p(say("page_cancel_question", lang, **values)) + form)

    async def cancel(request: Request, booking_id: str) -> response.HTTPResponse:
        token = (request.form or {}).get("t", "") if request.content_type.startswith(
            "application/x-www-form-urlencoded"
        ) else ""
        b, seq = await load(request, booking_id, token)
        if b is None:
            return invalid()
        lang, values = describe(b)
        title = say("page_cancel_title", lang)
        try:
            await run(request.app.ctx.service.cancel, booking_id, sequence=seq)
        except AlreadyCancelled:
            return _page(lang, title, _p(say("page_already_cancelled", lang)))
        except BookingInPast:
            return _page(lang, title, _p(say("page_meeting_past", lang)), status=409)
        except BookingNotFound:
            return invalid(lang)
        except ProviderError as exc:
            log.warning("cancel of %s failed at the provider: %s", booking_id, type(exc).__name__)
            return _page(lang, title, _p(say("page_cancel_failed", lang)), status=503)
        return _page(lang, title, _p(say("page_cancelled", lang, **values)))

    return bp

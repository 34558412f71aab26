"""Calendar connection pages: the invitation page listing permissions, the OAuth start and callback."""

from __future__ import annotations

import asyncio
import html
from functools import partial
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request

from bot.calendars import connect
from bot.calendars.google import SCOPE_REASONS, SCOPES
from bot.errors import ConnectError
from bot.runtime import google_config, vault
from bot.settings import Settings


def page(title: str, body: str, status: int = 200) -> response.HTTPResponse:
    return response.html(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><link rel=stylesheet href=/static/chat.css></head>"
        f"<body><main class=room><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status=status,
    )


def blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("oauth")
    cfg = google_config(settings)
    redirect_uri = f"{settings.public_url}/oauth/google/callback"

    async def run(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, partial(fn, *args))

    @bp.listener("before_server_start")
    async def keys(app: Any, _loop: Any) -> None:
        app.ctx.vault = await run(vault, settings)

    @bp.get("/portal/connect/google")
    async def connect_page(request: Request) -> response.HTTPResponse:
        try:
            invite = connect.read_invite(request.app.ctx.vault, request.args.get("invite"))
        except ConnectError as exc:
            return page("Invitation not valid", f"<p>{html.escape(str(exc))}</p>", 400)
        items = "".join(f"<li>{html.escape(SCOPE_REASONS[s])}</li>" for s in SCOPES)
        token = html.escape(request.args.get("invite", ""), quote=True)
        return page(
            "Connect your Google Calendar",
            f"<p>For <strong>{html.escape(invite.email)}</strong>"
            + (f", queue <strong>{html.escape(invite.queue)}</strong>" if invite.queue else "")
            + ". We ask Google for these permissions, and only these:</p>"
            f"<ul>{items}</ul><p>One calendar per agent: connecting again replaces the old connection.</p>"
            f"<p><a class=button href='/oauth/google/start?invite={token}'>Connect Google Calendar</a></p>",
        )

    @bp.get("/oauth/google/start")
    async def oauth_start(request: Request) -> response.HTTPResponse:
        try:
            invite = connect.read_invite(request.app.ctx.vault, request.args.get("invite"))
            url = await run(connect.start, request.app.ctx.store, request.app.ctx.vault, cfg, redirect_uri, invite)
        except ConnectError as exc:
            return page("Could not start", f"<p>{html.escape(str(exc))}</p>", 400)
        return response.redirect(url)

    @bp.get("/oauth/google/callback")
    async def oauth_callback(request: Request) -> response.HTTPResponse:
        params = {k: request.args.get(k) for k in ("state", "code", "error") if request.args.get(k)}
        try:
            email = await run(connect.finish, request.app.ctx.store, request.app.ctx.vault, cfg, redirect_uri, params)
        except ConnectError as exc:
            return page("Not connected", f"<p>{html.escape(str(exc))}</p>", 400)
        return page(
            "Google Calendar connected",
            f"<p>{html.escape(email)} is connected. Visitors are now offered your free times, and meetings "
            "booked with you appear on your calendar with a Google Meet link.</p>",
        )

    return bp

"""Calendar connection pages: the invitation page listing permissions, the OAuth start and callback."""

from __future__ import annotations

import html
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request

from bot.calendars import connect, google, microsoft
from bot.errors import ConnectError
from bot.ops.runtime import provider_config, vault
from bot.settings import Settings
from bot.web.manage import room_page
from bot.web.threads import run

LABELS = {"google": "Google Calendar", "microsoft": "Outlook calendar"}
REASONS = {
    "google": [google.SCOPE_REASONS[s] for s in google.SCOPES],
    "microsoft": list(microsoft.SCOPE_REASONS.values()),
}
MEETING = {"google": "Google Meet", "microsoft": "Microsoft Teams"}


def page(title: str, body: str, status: int = 200) -> response.HTTPResponse:
    return room_page("en", title, body, status)


def blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("oauth")

    def redirect_uri(provider: str) -> str:
        return f"{settings.public_url}/oauth/{provider}/callback"

    @bp.listener("before_server_start")
    async def keys(app: Any, _loop: Any) -> None:
        app.ctx.vault = await run(vault, settings)

    @bp.get("/portal/connect/<provider:str>")
    async def connect_page(request: Request, provider: str) -> response.HTTPResponse:
        if provider not in LABELS:
            return page("Not found", "<p>Unknown calendar provider.</p>", 404)
        try:
            invite = connect.read_invite(request.app.ctx.vault, request.args.get("invite"))
        except ConnectError as exc:
            return page("Invitation not valid", f"<p>{html.escape(str(exc))}</p>", 400)
        items = "".join(f"<li>{html.escape(reason)}</li>" for reason in REASONS[provider])
        token = html.escape(request.args.get("invite", ""), quote=True)
        queue = f", queue <strong>{html.escape(invite.queue)}</strong>" if invite.queue else ""
        return page(
            f"Connect your {LABELS[provider]}",
            f"<p>For <strong>{html.escape(invite.email)}</strong>{queue}. We ask for these permissions, "
            f"and only these:</p><ul>{items}</ul><p>Meetings booked with you get a {MEETING[provider]} link. "
            "One calendar per agent: connecting again replaces the old connection.</p>"
            f"<p><a class=button href='/oauth/{provider}/start?invite={token}'>Connect {LABELS[provider]}</a></p>",
        )

    @bp.get("/oauth/<provider:str>/start")
    async def oauth_start(request: Request, provider: str) -> response.HTTPResponse:
        try:
            invite = connect.read_invite(request.app.ctx.vault, request.args.get("invite"))
            url = await run(
                connect.start,
                request.app.ctx.store,
                request.app.ctx.vault,
                provider,
                provider_config(settings, provider),
                redirect_uri(provider),
                invite,
            )
        except ConnectError as exc:
            return page("Could not start", f"<p>{html.escape(str(exc))}</p>", 400)
        return response.redirect(url)

    @bp.get("/oauth/<provider:str>/callback")
    async def oauth_callback(request: Request, provider: str) -> response.HTTPResponse:
        params = {k: v[0] for k, v in request.args.items() if v}
        try:
            if provider not in LABELS:
                raise ConnectError("Unknown calendar provider.")
            email = await run(
                connect.finish,
                request.app.ctx.store,
                request.app.ctx.vault,
                provider,
                provider_config(settings, provider),
                redirect_uri(provider),
                params,
            )
        except ConnectError as exc:
            return page("Not connected", f"<p>{html.escape(str(exc))}</p>", 400)
        return page(
            f"{LABELS[provider]} connected",
            f"<p>{html.escape(email)} is connected. Visitors are now offered your free times, and meetings "
            f"booked with you appear on your calendar with a {MEETING[provider]} link.</p>",
        )

    return bp

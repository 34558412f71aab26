"""Calendar connection pages: the invitation page listing permissions, the OAuth start and callback."""

from __future__ import annotations

import html
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request

from bot.calendars import connect, dav, google, microsoft
from bot.errors import ConnectError
from bot.ops.runtime import caldav_config, provider_config, vault
from bot.settings import Settings
from bot.web import caldav_forms
from bot.web.manage import room_page
from bot.web.portal_kit import form_value, same_origin
from bot.web.threads import run

LABELS = {"google": "Google Calendar", "microsoft": "Outlook calendar", "caldav": "CalDAV calendar"}
REASONS = {
    "google": [google.SCOPE_REASONS[s] for s in google.SCOPES],
    "microsoft": list(microsoft.SCOPE_REASONS.values()),
    "caldav": [
        "See when you are busy in the calendars you choose (the times, read here; not kept).",
        "Create, change and cancel the meetings booked with you in the calendar you choose.",
    ],
}
MEETING = {
    "google": "Google Meet",
    "microsoft": "Microsoft Teams",
    "caldav": "our meeting room (or the link in your invitation)",
}
#: The providers connected by OAuth (CalDAV is connected with an app password instead).
OAUTH = ("google", "microsoft")


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
        if provider == "caldav":
            return caldav_page(invite, token, queue, items)
        return page(
            f"Connect your {LABELS[provider]}",
            f"<p>For <strong>{html.escape(invite.email)}</strong>{queue}. We ask for these permissions, "
            f"and only these:</p><ul>{items}</ul><p>Meetings booked with you get a {MEETING[provider]} link. "
            "One calendar per agent: connecting again replaces the old connection.</p>"
            f"<p><a class=button href='/oauth/{provider}/start?invite={token}'>Connect {LABELS[provider]}</a></p>",
        )

    def caldav_page(invite: connect.Invite, token: str, queue: str, items: str, *, error: str = "",
                    url: str = "", username: str = "", preset: str = "", status: int = 200) -> response.HTTPResponse:  # fmt: skip
        hidden = f"<input type=hidden name=invite value='{token}'>"
        problem = f"<p class=error role=alert>{html.escape(error)}</p>" if error else ""
        return page(
            "Connect your CalDAV calendar",
            f"{problem}<p>For <strong>{html.escape(invite.email)}</strong>{queue}: iCloud, Fastmail, Nextcloud, "
            f"Radicale, SOGo or any CalDAV server. We use it to:</p><ul>{items}</ul>"
            f"<p>Meetings booked with you get a link to {html.escape(MEETING['caldav'])}.</p>"
            + caldav_forms.connect_form("/portal/connect/caldav", hidden, url, username, preset),
            status,
        )

    @bp.route("/portal/connect/caldav", methods=["GET", "POST"])
    async def caldav_connect(request: Request) -> response.HTTPResponse:
        """The invited agent's CalDAV account (``do=caldav``), then their calendar choice
        (``do=calendars``). The signed invitation is the authority, as for OAuth. (GET: the
        form, as for the other providers; a static route shadows the dynamic one.)"""
        if request.method == "GET":
            return await connect_page(request, "caldav")
        token = form_value(request, "invite")
        try:
            invite = connect.read_invite(request.app.ctx.vault, token)
        except ConnectError as exc:
            return page("Invitation not valid", f"<p>{html.escape(str(exc))}</p>", 400)
        if not same_origin(request, settings):
            return page("Not connected", "<p>Please use the form on this site.</p>", 403)
        hidden = f"<input type=hidden name=invite value='{html.escape(token, quote=True)}'>"
        store, v, cfg = request.app.ctx.store, request.app.ctx.vault, caldav_config(settings)
        if form_value(request, "do") in ("calendars", "choose"):  # the choice form (caldav_forms) sends "calendars"
            try:
                agent_id = await run(_agent_id, store, invite.email)
                account = await run(connect.choose_caldav, store, v, cfg, agent_id,
                                    form_value(request, "calendar"), caldav_forms.form_list(request, "busy"))  # fmt: skip
                _, calendars = await run(connect.caldav_calendars, store, v, cfg, agent_id)
            except ConnectError as exc:
                return page("Not saved", f"<p class=error role=alert>{html.escape(str(exc))}</p>", 400)
            return page("Calendars saved", "<p>Saved. Visitors are offered the times you are free in the calendars "
                        "marked busy.</p>" + caldav_forms.choose_form("/portal/connect/caldav", hidden, calendars,
                                                                      account.calendar, account.busy))  # fmt: skip
        preset, url, username = form_value(request, "preset"), form_value(request, "url"), form_value(request, "username")
        queue = f", queue <strong>{html.escape(invite.queue)}</strong>" if invite.queue else ""
        items = "".join(f"<li>{html.escape(reason)}</li>" for reason in REASONS["caldav"])
        try:
            address = caldav_forms.server_url(preset, url)
            calendars = await run(connect.connect_caldav, store, v, cfg, invite, address, username,
                                  form_value(request, "password"))  # fmt: skip
            chosen, busy = dav.choose(calendars, None, None)  # what connect_caldav stored: no second discovery
        except ConnectError as exc:  # the password is never shown back
            return caldav_page(invite, html.escape(token, quote=True), queue, items, error=str(exc), url=url,
                               username=username, preset=preset, status=400)  # fmt: skip
        return page(
            "CalDAV calendar connected",
            f"<p>{html.escape(invite.email)} is connected. Visitors are now offered your free times, and meetings "
            "booked with you appear in the calendar chosen below; the visitor's invitation comes from us.</p>"
            + caldav_forms.choose_form("/portal/connect/caldav", hidden, calendars, chosen, busy),
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
            if provider not in OAUTH:
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


def _agent_id(store: Any, email: str) -> int:
    from sqlalchemy import select

    from bot.store.models import Agent

    with store.session() as s:
        agent_id = s.execute(select(Agent.id).where(Agent.email == email.lower())).scalar_one_or_none()
    if agent_id is None:
        raise ConnectError("Connect your calendar first.")
    return agent_id

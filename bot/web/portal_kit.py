"""What every portal page shares: the signed-in principal, role and CSRF checks, the layout.

Pages are server-rendered HTML with every value escaped; the only scripts are our own files
(the CSP forbids inline script). A POST must carry the session's CSRF token (form field
``csrf`` or header ``X-CSRF-Token``) and, when the browser sends one, an Origin of this site.
"""

from __future__ import annotations

import hmac
import html
from functools import wraps
from typing import Any, Awaitable, Callable
from urllib.parse import quote, urlsplit

from sanic import response
from sanic.request import Request

from bot.admin.accounts import Principal, principal
from bot.settings import Settings
from bot.web.threads import run

COOKIE = "bot_portal"
#: Pages of the portal: strict CSP, never framed, never cached.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}

Handler = Callable[..., Awaitable[response.HTTPResponse]]


def e(value: Any) -> str:
    """Escape for HTML text and quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def csrf_field(who: Principal) -> str:
    return f"<input type=hidden name=csrf value='{e(who.csrf)}'>"


def post_button(who: Principal, action: str, label: str, *, fields: dict[str, Any] | None = None, cls: str = "") -> str:
    hidden = "".join(f"<input type=hidden name='{e(k)}' value='{e(v)}'>" for k, v in (fields or {}).items())
    klass = f" class='{e(cls)}'" if cls else ""
    return (
        f"<form method=post action='{e(action)}' class=inline>{csrf_field(who)}{hidden}"
        f"<button type=submit{klass}>{e(label)}</button></form>"
    )


def nav(who: Principal | None, active: str) -> str:
    if who is None:
        return ""
    items: list[tuple[str, str, str]] = []
    if who.agent_id is not None:
        base = f"/portal/agents/{who.agent_id}"
        items += [
            ("calendar", f"{base}/calendar", "Calendar"),
            ("invitation", f"{base}/invitation", "Invitation"),
            ("availability", f"{base}/availability", "Availability"),
            ("bookings", f"{base}/bookings", "My bookings"),
        ]
    if who.is_admin:
        items += [
            ("dashboard", "/portal/admin/dashboard", "Dashboard"),
            ("queues", "/portal/admin/queues", "Queues"),
            ("agents", "/portal/admin/agents", "Agents"),
            ("accounts", "/portal/admin/accounts", "Accounts"),
            ("webhooks", "/portal/admin/webhooks", "Webhooks"),
        ]
    links = "".join(
        f"<li><a href='{e(url)}'{' aria-current=page' if key == active else ''}>{e(label)}</a></li>"
        for key, url, label in items
    )
    out = post_button(who, "/portal/signout", "Sign out", cls="link")
    return (
        f"<nav aria-label='Portal'><ul>{links}</ul><p class=who>{e(who.email)} ({e(who.role)}) {out}</p></nav>"
    )


def page(
    title: str,
    body: str,
    who: Principal | None = None,
    *,
    active: str = "",
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> response.HTTPResponse:
    flash = ""
    if notice:
        flash += f"<p class=notice role=status>{e(notice)}</p>"
    if error:
        flash += f"<p class=error role=alert>{e(error)}</p>"
    doc = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{e(title)} · Meeting booking</title><link rel=stylesheet href=/static/portal.css>"
        "<script src=/static/portal.js defer></script></head><body>"
        f"<header><a class=brand href=/portal>Meeting booking</a>{nav(who, active)}</header>"
        f"<main id=main><h1>{e(title)}</h1>{flash}{body}</main></body></html>"
    )
    return response.html(doc, status=status, headers=HEADERS)


def forbidden(who: Principal | None) -> response.HTTPResponse:
    return page("Not allowed", "<p>You do not have access to this page.</p>", who, status=403)


def same_origin(request: Request, settings: Settings) -> bool:
    """A browser's Origin (when it sends one) must be this site: as addressed, or PUBLIC_URL."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    got = urlsplit(origin)
    allowed = {request.host, urlsplit(settings.public_url).netloc}
    return got.scheme in ("http", "https") and got.netloc in allowed


def form_value(request: Request, name: str, default: str = "") -> str:
    form = request.form if (request.content_type or "").startswith("application/x-www-form-urlencoded") else None
    value = (form or {}).get(name, default)
    return value if isinstance(value, str) else default


def guard(settings: Settings, role: str | None = None) -> Callable[[Handler], Handler]:
    """Require a signed-in principal (and ``role``); POSTs also need the CSRF token and origin."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
            app = request.app
            who = await run(principal, app.ctx.store, app.ctx.vault, request.cookies.get(COOKIE))
            if who is None:
                if request.method == "GET":
                    return response.redirect(f"/portal/signin?next={quote(request.path)}", headers=HEADERS)
                return page("Signed out", "<p>Please <a href=/portal/signin>sign in</a> again.</p>", status=401)
            if role == "admin" and not who.is_admin:
                return forbidden(who)
            if request.method == "POST":
                sent = form_value(request, "csrf") or request.headers.get("x-csrf-token", "")
                # bytes: compare_digest refuses str with non-ASCII characters (a forged token can hold any)
                ok = bool(sent) and hmac.compare_digest(sent.encode(), who.csrf.encode())
                if not ok or not same_origin(request, settings):
                    return page("Form expired", "<p>This form expired. Please go back, reload and try again.</p>",
                                who, status=403)
            request.ctx.who = who
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorator


def may_see_agent(who: Principal, agent_id: int) -> bool:
    """Agents see only themselves; admins see everyone."""
    return who.is_admin or who.agent_id == agent_id

"""The CalDAV forms, shared by the invitation page (``/portal/connect/caldav``) and the portal's
calendar tab: server address, user name and app password; then which calendar meetings are
booked into and which count as busy. No script: a preset fills the address server-side."""

from __future__ import annotations

import html
from typing import Sequence

from sanic.request import Request

from bot.calendars.dav import PRESETS, WHY_APP_PASSWORD, CalendarInfo
from bot.errors import ConnectError


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def form_list(request: Request, name: str) -> list[str]:
    """Every value of a repeated form field (checkboxes)."""
    if not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return []
    return [v for v in (request.form or {}).getlist(name) or [] if isinstance(v, str)]


def server_url(preset: str, url: str) -> str:
    """The address typed, else the preset's (iCloud, Fastmail; Nextcloud needs the host typed)."""
    url = url.strip()
    if url:
        return url
    if preset in PRESETS and "HOST" not in PRESETS[preset][1]:
        return PRESETS[preset][1]
    raise ConnectError("Enter your server's CalDAV address (for Nextcloud: https://your-host/remote.php/dav).")


def connect_form(action: str, hidden: str, url: str = "", username: str = "", preset: str = "") -> str:
    """The credentials form. ``hidden``: the invite token or the CSRF field, already HTML."""
    options = "".join(
        f"<option value='{e(k)}'{' selected' if k == preset else ''}>{e(label)} ({e(address)})</option>"
        for k, (label, address, _where) in PRESETS.items()
    )
    where = "".join(f"<li><strong>{e(label)}</strong>: {e(place)}</li>" for label, _a, place in PRESETS.values())
    return (
        f"<form method=post action='{e(action)}' class=card>{hidden}<input type=hidden name=do value=caldav>"
        "<label>Provider <select name=preset><option value=''>Other CalDAV server</option>"
        f"{options}</select></label>"
        f"<label>Server address <input name=url value='{e(url)}' placeholder='https://caldav.example.com/' "
        "autocomplete=url></label><p class=muted>Leave empty for iCloud or Fastmail; for Nextcloud use "
        "https://your-host/remote.php/dav.</p>"
        f"<label>User name <input name=username value='{e(username)}' autocomplete=username required></label>"
        "<label>App password <input name=password type=password autocomplete=off required></label>"
        f"<p>{e(WHY_APP_PASSWORD)} Where to make one:</p><ul>{where}</ul>"
        "<p><button>Connect CalDAV calendar</button></p></form>"
    )


def choose_form(
    action: str, hidden: str, calendars: Sequence[CalendarInfo], calendar: str, busy: Sequence[str]
) -> str:
    """Which calendar meetings go into, and which calendars count as busy."""
    rows = "".join(
        "<tr>"
        f"<td>{e(c.name)}<br><span class=muted>{e(c.url)}</span></td>"
        f"<td><input type=radio name=calendar value='{e(c.url)}'{' checked' if c.url == calendar else ''} "
        f"aria-label='Book into {e(c.name)}'></td>"
        f"<td><input type=checkbox name=busy value='{e(c.url)}'{' checked' if c.url in busy else ''} "
        f"aria-label='{e(c.name)} counts as busy'></td></tr>"
        for c in calendars
    )
    return (
        f"<form method=post action='{e(action)}' class=card>{hidden}<input type=hidden name=do value=calendars>"
        "<h2>Your calendars</h2><table><tr><th>Calendar</th><th>Book meetings into</th><th>Counts as busy</th></tr>"
        f"{rows}</table><p class=muted>The calendar meetings are booked into always counts as busy.</p>"
        "<p><button>Save</button></p></form>"
    )

"""CalDAV calendars (Nextcloud, Fastmail, iCloud, Radicale, SOGo, ...) through the ``caldav`` client.

- Connect: a server URL, a user name and an app-specific password; the principal and its
  calendars are discovered, the agent picks the calendar to book into and the calendars that
  count as busy. All of it is kept in the connection's secret, encrypted like refresh tokens.
- Busy: a time-range ``calendar-query`` per busy calendar over the offer window (never
  ``free-busy-query``: iCloud, Google, SOGo and others reject it); recurring events are expanded
  here (``recurring-ical-events``), with their exceptions (a moved or cancelled occurrence).
  Transparent and cancelled events are free, tentative ones busy, declined invitations free;
  all-day and floating times are read in the agent's time zone.
- Events: PUT at ``<calendar>/<key>.ics`` with ``If-None-Match: *`` and UID ``<key>@<domain>``
  (the UID of the ICS we e-mail), so a retried create never makes a second event; a move
  rewrites it with SEQUENCE + 1; cancel deletes it. Attendees carry ``SCHEDULE-AGENT=CLIENT``:
  the invitation is ours (an ICS REQUEST in the confirmation), the server must not send another.
- Faults: 401 → needs reconnect, the agent is e-mailed; 429/503/504 and timeouts → Retry-After
  or backoff within the retry budget; any failure leaves the agent out (never free).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence, TypeVar
from urllib.parse import urljoin, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import caldav
import recurring_ical_events
import requests
from caldav.lib import error as dav_error
from icalendar import Calendar as ICalendar
from icalendar import Event as IEvent
from icalendar import vCalAddress, vText
from sqlalchemy import select

from bot.calendars.base import AgentRef, CreatedEvent, EventRequest
from bot.calendars.remote import RemoteCalendar
from bot.errors import ConnectError, ProviderAuthError, ProviderError, ProviderUnavailable
from bot.messages.email import ics_attendees
from bot.scheduling import Busy, Interval
from bot.store.models import Agent, AgentInvitation, CalendarConnection

log = logging.getLogger(__name__)

RETRYABLE = {429, 500, 502, 503, 504}
#: Where each well-known service keeps CalDAV, and where its users make an app password.
PRESETS = {
    "icloud": ("iCloud", "https://caldav.icloud.com/", "appleid.apple.com → Sign-In and Security → App-Specific Passwords"),
    "fastmail": ("Fastmail", "https://caldav.fastmail.com/", "Settings → Privacy & Security → Integrations → App passwords"),
    "nextcloud": ("Nextcloud", "https://HOST/remote.php/dav", "Personal settings → Security → Devices & sessions → Create new app password"),
}
WHY_APP_PASSWORD = (
    "Use an app password, not your account password: it opens only the calendar and contacts "
    "protocols (no sign-in to your account, no mail), you can revoke it on its own at any time, "
    "and it keeps working with two-factor sign-in."
)
URL_RE = re.compile(r"https?://[^\s<>\"'{}]+")
T = TypeVar("T")


@dataclass(frozen=True)
class CalDAVConfig:
    timeout: float = 4.0
    retry_budget: float = 5.0
    busy_ttl: float = 60.0
    ca_bundle: str | None = None  # a private CA; default: the system's
    #: The base of our meeting rooms (``/meet/<key>``): the link when the agent names none.
    public_url: str = "http://localhost:8000"


@dataclass(frozen=True)
class Account:
    """What a CalDAV connection keeps (encrypted)."""

    url: str
    username: str
    password: str
    calendar: str  # the calendar we book into (URL)
    busy: tuple[str, ...]  # the calendars whose events count as busy (URLs)

    def dump(self) -> str:
        return json.dumps({"url": self.url, "username": self.username, "password": self.password,
                           "calendar": self.calendar, "busy": list(self.busy)})  # fmt: skip

    @classmethod
    def load(cls, text: str) -> Account:
        d = json.loads(text)
        return cls(d["url"], d["username"], d["password"], d["calendar"], tuple(d.get("busy") or [d["calendar"]]))


@dataclass(frozen=True)
class CalendarInfo:
    url: str
    name: str


class _Retry(Exception):
    def __init__(self, status: int | None, retry_after: float | None = None):
        super().__init__(status)
        self.status, self.retry_after = status, retry_after


def check_url(url: str) -> str:
    """The server URL, normalised; https only, except to this machine (tests, a local Radicale)."""
    url = (url or "").strip()
    try:
        parsed = urlparse(url if "://" in url else f"https://{url}")
        _ = parsed.port  # a port out of range or not a number raises here
    except ValueError:  # "00000[": urllib's "Invalid IPv6 URL"
        parsed = urlparse("")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConnectError("That is not a server address. Use the CalDAV address your provider gives, e.g. https://caldav.fastmail.com/.")
    if "HOST" in parsed.netloc:
        raise ConnectError("Replace HOST in the address with your server's name.")
    if parsed.scheme == "http" and not _loopback(parsed.hostname):
        raise ConnectError("Use an https:// address: the password must not travel unencrypted.")
    if parsed.username or parsed.password:
        raise ConnectError("Put the user name and password in their own fields, not in the address.")
    return parsed.geturl()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _client(url: str, username: str, password: str, cfg: CalDAVConfig) -> caldav.DAVClient:
    return caldav.DAVClient(
        url=url,
        username=username,
        password=password,
        timeout=cfg.timeout,
        ssl_verify_cert=cfg.ca_bundle or True,
        enable_rfc6764=False,  # no DNS discovery: the address is the one the agent typed
    )


def discover(url: str, username: str, password: str, cfg: CalDAVConfig) -> tuple[str, list[CalendarInfo]]:
    """The server's address and the user's event calendars; ConnectError in plain words when the
    address, the credentials or the server are not right. Reads only."""
    url = check_url(url)
    host = urlparse(url).hostname
    if not username or not password:
        raise ConnectError("Enter the user name and the app password.")
    try:
        with _client(url, username, password, cfg) as client:
            principal = client.principal()
            found = []
            for cal in principal.calendars():
                try:
                    components = cal.get_supported_components()
                except dav_error.DAVError:
                    components = ["VEVENT"]  # servers that do not say accept events
                if "VEVENT" in components:
                    found.append(CalendarInfo(str(cal.url), str(cal.get_display_name() or cal.url)))
    except dav_error.AuthorizationError as exc:
        raise ConnectError(
            f"{host} did not accept that user name and password. Check both, and use an app password "
            "made for this (your provider's security settings), not your account password."
        ) from exc
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise ConnectError(f"{host} could not be reached. Check the address and try again.") from exc
    except (dav_error.DAVError, requests.RequestException, ValueError, AttributeError, KeyError) as exc:
        log.info("caldav discovery at %s failed: %s", host, type(exc).__name__)
        raise ConnectError(
            f"{host} does not answer as a CalDAV server at that address. Check it against your provider's "
            "CalDAV address (for Nextcloud: https://HOST/remote.php/dav)."
        ) from exc
    if not found:
        raise ConnectError(f"{host} has no calendar for events under this user. Make one first, then connect.")
    return url, sorted(found, key=lambda c: (c.name.casefold(), c.url))  # servers list them in any order


def choose(calendars: Sequence[CalendarInfo], calendar: str | None, busy: Iterable[str] | None) -> tuple[str, tuple[str, ...]]:
    """The calendar to book into and the busy calendars, checked against what the server has.
    Defaults: the first calendar by name, and every calendar busy. The booking calendar always counts."""
    urls = [c.url for c in calendars]
    if calendar is None:
        calendar = urls[0]
    if calendar not in urls:
        raise ConnectError("That calendar is not one of yours on this server.")
    chosen = list(urls if busy is None else busy)
    unknown = [u for u in chosen if u not in urls]
    if unknown:
        raise ConnectError("A calendar marked as busy is not one of yours on this server.")
    ordered = [calendar] + [u for u in urls if u in chosen and u != calendar]
    return calendar, tuple(ordered)


def _aware(value: date | datetime, tz: ZoneInfo) -> datetime:
    """All-day dates and floating times in the agent's zone; zoned times as they are."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _end(component: Any, start: date | datetime) -> date | datetime:
    if component.get("DTEND") is not None:
        return component.decoded("DTEND")
    if component.get("DURATION") is not None:
        return start + component.decoded("DURATION")
    # RFC 5545 3.6.1: a date without an end lasts the day; a date-time without one, no time
    return start + timedelta(days=1) if not isinstance(start, datetime) else start


def _declined(component: Any, emails: set[str]) -> bool:
    attendees = component.get("ATTENDEE") or []
    for a in attendees if isinstance(attendees, list) else [attendees]:
        if str(a).lower().removeprefix("mailto:") in emails and str(a.params.get("PARTSTAT", "")).upper() == "DECLINED":
            return True
    return False


def busy_intervals(ics: Iterable[str], start: datetime, end: datetime, tz: ZoneInfo, emails: set[str]) -> list[Interval]:
    """Busy time in the calendar objects ``ics`` between ``start`` and ``end``, recurrences expanded."""
    out: list[Interval] = []
    # a day either side: floating and all-day times compare in the agent's zone, not UTC
    lo, hi = start - timedelta(days=1), end + timedelta(days=1)
    for text in ics:
        try:
            cal = ICalendar.from_ical(text)
            occurrences = recurring_ical_events.of(cal, components=["VEVENT"]).between(lo, hi)
        except Exception as exc:  # one broken object must not make the whole calendar unreadable
            log.warning("skipped a calendar object that does not parse: %s", type(exc).__name__)
            continue
        for ev in occurrences:
            if str(ev.get("STATUS", "")).upper() == "CANCELLED" or str(ev.get("TRANSP", "")).upper() == "TRANSPARENT":
                continue
            if _declined(ev, emails):
                continue
            first = ev.decoded("DTSTART")
            s, e = _aware(first, tz), _aware(_end(ev, first), tz)
            if e > start and s < end and e > s:
                out.append(Interval(max(s, start), min(e, end)))
    return out


class CalDAVCalendar(RemoteCalendar):
    name = "caldav"
    label = "CalDAV calendar"
    sends_invitations = False  # CalDAV servers mostly do not; the ICS REQUEST is in our e-mail

    def _setup(self) -> None:
        self._clients: dict[int, tuple[Any, caldav.DAVClient, threading.Lock, Account]] = {}

    # ---- the agent's client, and calls with retries -----------------------------------------------------
    def _account(self, conn: CalendarConnection) -> tuple[caldav.DAVClient, threading.Lock, Account]:
        with self._lock:
            hit = self._clients.get(conn.agent_id)
            if hit is None or hit[0] != (conn.connected_at, conn.secret):
                account = Account.load(self.vault.decrypt(conn.secret))
                client = _client(account.url, account.username, account.password, self.config)
                hit = ((conn.connected_at, conn.secret), client, threading.Lock(), account)
                self._clients[conn.agent_id] = hit
            return hit[1], hit[2], hit[3]

    def _call(self, conn: CalendarConnection, work: Callable[[caldav.DAVClient, Account], T]) -> T:
        client, gate, account = self._account(conn)
        backoff, last = self._backoff(conn.agent_id), ""
        while True:
            wait: float | None = None
            try:
                with gate:  # one request at a time per agent: the client negotiates auth in place
                    return work(client, account)
            except dav_error.AuthorizationError as exc:
                if exc.status == 403:
                    raise ProviderError("the CalDAV server refused access to the calendar", provider="caldav",
                                        agent_id=conn.agent_id) from exc  # fmt: skip
                self._mark_needs_reconnect(conn.agent_id, "401: the server no longer accepts the app password")
                raise ProviderAuthError("CalDAV needs a new app password", provider="caldav", agent_id=conn.agent_id) from exc
            except dav_error.RateLimitError as exc:
                wait, last = exc.retry_after_seconds, f"answered {exc.status or 429}"
            except _Retry as exc:
                wait, last = exc.retry_after, f"answered {exc.status}"
            except dav_error.DAVError as exc:
                if exc.status not in RETRYABLE:
                    raise ProviderError(f"the CalDAV server answered {exc.status or type(exc).__name__}",
                                        provider="caldav", agent_id=conn.agent_id) from exc  # fmt: skip
                last = f"answered {exc.status}"
            except requests.Timeout:
                last = f"did not answer within {self.config.timeout:g} s"
            except requests.ConnectionError:
                last = "could not be reached"
            try:
                backoff.wait(wait)
            except ProviderUnavailable as exc:
                raise ProviderUnavailable(f"the CalDAV server {last} (retried)", provider="caldav",
                                          agent_id=conn.agent_id) from exc  # fmt: skip

    @staticmethod
    def _request(client: caldav.DAVClient, url: str, method: str, body: str = "", headers: dict | None = None,
                 ok: tuple[int, ...] = ()) -> Any:  # fmt: skip
        r = client.request(url, method, body, headers or {})
        status = int(r.status)
        if status in RETRYABLE:
            raise _Retry(status, dav_error.parse_retry_after(r.headers.get("Retry-After", "")) if r.headers.get("Retry-After") else None)
        if status >= 400 and status not in ok:
            raise dav_error.DAVError(url=url, reason=f"{method} answered {status}", status=status)
        return r

    def _zone(self, agent_id: int) -> ZoneInfo:
        with self.store.session() as s:
            name = s.execute(select(Agent.timezone).where(Agent.id == agent_id)).scalar_one_or_none()
        try:
            return ZoneInfo(name or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    # ---- busy -------------------------------------------------------------------------------------------
    def _fetch_busy(self, agent_id: int, start: datetime, end: datetime) -> Busy:
        conn = self._connection(agent_id)
        tz = self._zone(agent_id)
        emails = {conn.account_email.lower()}

        def read(client: caldav.DAVClient, account: Account) -> list[str]:
            emails.add(account.username.lower())
            texts: list[str] = []
            for url in account.busy:
                cal = client.calendar(url=url)
                found = cal.search(start=start - timedelta(days=1), end=end + timedelta(days=1), event=True,
                                   expand=False, post_filter=False)  # fmt: skip
                texts.extend(str(obj.data) for obj in found if obj.data)
            return texts

        return Busy.from_intervals(busy_intervals(self._call(conn, read), start, end, tz, emails))

    # ---- events -----------------------------------------------------------------------------------------
    def _room(self, agent_id: int, key: str, description: str) -> str:
        """The meeting link: the first address of the agent's own invitation text (as rendered in
        this event), else our meeting room for this booking."""
        with self.store.session() as s:
            texts = [s.execute(select(Agent.invitation_body).where(Agent.id == agent_id)).scalar_one_or_none() or ""]
            texts += list(s.execute(select(AgentInvitation.body).where(AgentInvitation.agent_id == agent_id)).scalars())
        for text in texts:
            for url in URL_RE.findall(text):
                if url in description:
                    return url.rstrip(".,;:)")
        return f"{self.config.public_url.rstrip('/')}/meet/{key}"

    @staticmethod
    def _uid(request_or_email: str, key: str) -> str:
        return f"{key}@{request_or_email.rsplit('@', 1)[-1] or 'localhost'}"

    def _event_url(self, account: Account, key: str) -> str:
        return urljoin(account.calendar.rstrip("/") + "/", f"{key}.ics")

    def create_event(self, request: EventRequest) -> CreatedEvent:
        if not request.idempotency_key.isalnum():
            raise ValueError("idempotency key must be alphanumeric")
        conn = self._connection(request.agent.id)
        key = request.idempotency_key
        url = self._room(request.agent.id, key, request.description) if request.with_conference else None
        ev = IEvent()
        ev.add("uid", self._uid(request.agent.email, key))
        ev.add("dtstamp", datetime.now(timezone.utc))
        ev.add("dtstart", request.start.astimezone(timezone.utc))
        ev.add("dtend", request.end.astimezone(timezone.utc))
        ev.add("sequence", 0)
        ev.add("status", "CONFIRMED")
        ev.add("transp", "OPAQUE")
        ev.add("summary", request.summary)
        ev.add("description", request.description)
        ev.add("x-meeting-booking-id", key)
        if url:
            ev.add("location", url)
            ev.add("url", url)
        organizer = vCalAddress(f"mailto:{request.agent.email}")
        organizer.params["cn"] = vText(request.agent.name)
        ev.add("organizer", organizer)
        _set_attendees(ev, request.attendee_email, request.attendee_name, request.guests)
        body = _wrap(ev)

        def put(client: caldav.DAVClient, account: Account) -> CreatedEvent:
            target = self._event_url(account, key)
            r = self._request(client, target, "PUT", body,
                              {"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"}, ok=(412,))  # fmt: skip
            if int(r.status) == 412:  # a retry of a create that went through: the same event
                found = self._get(client, target)
                if found is None:
                    raise _Retry(412)
                return CreatedEvent(urlparse(target).path, _link(found[0]))
            return CreatedEvent(urlparse(target).path, url)

        created = self._call(conn, put)
        self.forget(conn.agent_id)
        return created

    def _get(self, client: caldav.DAVClient, url: str) -> tuple[ICalendar, str | None] | None:
        r = self._request(client, url, "GET", ok=(404, 410))
        if int(r.status) in (404, 410):
            return None
        return ICalendar.from_ical(r.raw), r.headers.get("ETag")

    def _href(self, account: Account, provider_event_id: str) -> str:
        return urljoin(account.url, provider_event_id)

    def find_event(self, agent: AgentRef, idempotency_key: str) -> CreatedEvent | None:
        if not idempotency_key.isalnum():
            raise ValueError("idempotency key must be alphanumeric")
        conn = self._connection(agent.id)
        uid = self._uid(agent.email, idempotency_key)

        def find(client: caldav.DAVClient, account: Account) -> CreatedEvent | None:
            try:
                obj = client.calendar(url=account.calendar).object_by_uid(uid)
            except dav_error.NotFoundError:
                return None
            cal = ICalendar.from_ical(str(obj.data))
            ev = next(iter(cal.walk("VEVENT")), None)
            if ev is None or str(ev.get("STATUS", "")).upper() == "CANCELLED":
                return None
            return CreatedEvent(urlparse(str(obj.url)).path, _link(cal))

        return self._call(conn, find)

    def _rewrite(self, agent: AgentRef, provider_event_id: str, change: Callable[[Any], None]) -> None:
        """Read the event, change it, write it back if it is unchanged meanwhile (If-Match)."""
        conn = self._connection(agent.id)

        def rewrite(client: caldav.DAVClient, account: Account) -> None:
            href = self._href(account, provider_event_id)
            for _ in range(3):
                found = self._get(client, href)
                if found is None:
                    raise ProviderError("the event is no longer on the calendar", provider="caldav", agent_id=agent.id)
                cal, etag = found
                for ev in cal.walk("VEVENT"):
                    change(ev)
                    ev["sequence"] = int(ev.get("SEQUENCE", 0)) + 1
                    ev.pop("DTSTAMP", None)
                    ev.add("dtstamp", datetime.now(timezone.utc))
                headers = {"Content-Type": "text/calendar; charset=utf-8", **({"If-Match": etag} if etag else {})}
                r = self._request(client, href, "PUT", cal.to_ical().decode(), headers, ok=(412,))
                if int(r.status) != 412:
                    return
            raise ProviderUnavailable("the event kept changing on the server", provider="caldav", agent_id=agent.id)

        self._call(conn, rewrite)
        self.forget(agent.id)

    def update_event(self, agent: AgentRef, provider_event_id: str, start: datetime, end: datetime) -> None:
        def move(ev: Any) -> None:
            for name, value in (("DTSTART", start), ("DTEND", end)):
                ev.pop(name, None)
                ev.add(name.lower(), value.astimezone(timezone.utc))
            ev.pop("DURATION", None)

        self._rewrite(agent, provider_event_id, move)

    def update_attendee(
        self, agent: AgentRef, provider_event_id: str, email: str, name: str, guests: Sequence[str] = ()
    ) -> None:
        self._rewrite(agent, provider_event_id, lambda ev: _set_attendees(ev, email, name, guests))

    def cancel_event(self, agent: AgentRef, provider_event_id: str) -> None:
        conn = self._connection(agent.id)
        self._call(conn, lambda client, account: self._request(
            client, self._href(account, provider_event_id), "DELETE", ok=(404, 410)))  # fmt: skip
        self.forget(agent.id)


def _set_attendees(ev: Any, email: str, name: str, guests: Sequence[str]) -> None:
    ev.pop("ATTENDEE", None)
    for attendee in ics_attendees(email, name, guests, schedule_agent="CLIENT"):  # RFC 6638: we invite, not the server
        ev.add("attendee", attendee)


def _wrap(ev: IEvent) -> str:
    cal = ICalendar()
    cal.add("prodid", "-//meeting booking in website chat//EN")
    cal.add("version", "2.0")
    cal.add_component(ev)
    return cal.to_ical().decode()


def _link(cal: ICalendar) -> str | None:
    ev = next(iter(cal.walk("VEVENT")), None)
    value = None if ev is None else (ev.get("URL") or ev.get("LOCATION"))
    return str(value) if value else None


__all__ = ["CalDAVCalendar", "CalDAVConfig", "Account", "CalendarInfo", "discover", "choose", "PRESETS"]

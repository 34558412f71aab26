"""Outlook / Microsoft 365 through MSAL (tokens) and Microsoft Graph over httpx.

- Least privilege: ``Calendars.ReadWrite`` on the agent's own calendar (MSAL adds the sign-in
  scopes ``openid profile offline_access``); no mailbox settings, no other users' calendars.
- Tokens: a per-agent MSAL ``SerializableTokenCache``, stored encrypted, refreshed silently.
- Busy: ``getSchedule`` on the agent's own calendar, windows under 62 days, times in UTC
  (``Prefer: outlook.timezone="UTC"``), at most 4 concurrent requests per mailbox, a short cache.
- Create: POST /me/events with ``transactionId`` = booking id (a retried POST returns the same
  event), ``isOnlineMeeting`` + ``teamsForBusiness`` for a Teams link. Graph invites the attendee.
- Faults: 401 → one silent refresh; ``invalid_grant`` / ``interaction_required`` → needs
  reconnect, left out, agent e-mailed; 429/503/504 and timeouts → Retry-After or backoff
  within about 5 s.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence
from urllib.parse import quote, urlencode, urlparse

import httpx
import msal
import requests
from sqlalchemy import update

from bot.calendars.base import AgentRef, CreatedEvent, EventRequest
from bot.calendars.remote import RemoteCalendar
from bot.errors import ProviderAuthError, ProviderError, ProviderUnavailable
from bot.scheduling import Busy, Interval
from bot.store.models import CalendarConnection

log = logging.getLogger(__name__)

SCOPES = ["Calendars.ReadWrite"]
SCOPE_REASONS = {
    "openid profile offline_access": "Sign you in and keep the connection working without asking again; "
    "we learn your name and e-mail address.",
    "Calendars.ReadWrite": "See when you are busy, and create, change and cancel the meetings booked with you, "
    "with a Teams link, on your own calendar. Not your mail, not your mailbox settings, not other people's "
    "calendars.",
}
MAX_WINDOW = timedelta(days=60)  # getSchedule refuses more than 62 days
RETRYABLE = {429, 503, 504}
NEEDS_RECONNECT = {"invalid_grant", "interaction_required", "no_account"}
MAX_PER_MAILBOX = 4
#: Our mark on every event we create: the booking id, so a crashed booking's event can be found.
BOOKING_PROPERTY = "String {8f2b7a4e-5d1c-4e3a-9b6f-2c7d1e0a4b95} Name MeetingBookingId"


@dataclass(frozen=True)
class MicrosoftConfig:
    client_id: str
    client_secret: str
    authority: str = "https://login.microsoftonline.com/common"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    ca_bundle: str | None = None  # a private CA (proxies, tests); default: the system's
    timeout: float = 4.0
    retry_budget: float = 5.0
    busy_ttl: float = 60.0


def msal_app(
    cfg: MicrosoftConfig, cache: msal.SerializableTokenCache | None = None
) -> msal.ConfidentialClientApplication:
    session = requests.Session()
    if cfg.ca_bundle:
        session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override `verify`
        session.verify = cfg.ca_bundle
    official = urlparse(cfg.authority).hostname == "login.microsoftonline.com"
    return msal.ConfidentialClientApplication(
        cfg.client_id,
        client_credential=cfg.client_secret,
        authority=cfg.authority,
        http_client=session,
        token_cache=cache,
        instance_discovery=None if official else False,
        timeout=cfg.timeout,
    )


def _utc(t: datetime) -> dict[str, str]:
    return {
        "dateTime": t.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
        "timeZone": "UTC",
    }


def _parse(value: Mapping[str, str]) -> datetime:
    text = value["dateTime"]
    if "." in text:  # Graph sends seven fractional digits
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    t = datetime.fromisoformat(text)
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


class MicrosoftCalendar(RemoteCalendar):
    name = "microsoft"
    label = "Outlook calendar"
    sends_invitations = True  # Graph sends the meeting request to attendees

    def _setup(self) -> None:
        self._http = httpx.Client(verify=self.config.ca_bundle or True, timeout=self.config.timeout)
        self._apps: dict[int, tuple[datetime, msal.ConfidentialClientApplication, msal.SerializableTokenCache]] = {}
        self._mailbox: dict[int, threading.BoundedSemaphore] = {}

    # ---- tokens -------------------------------------------------------------------------------
    def _app(self, conn: CalendarConnection) -> tuple[msal.ConfidentialClientApplication, msal.SerializableTokenCache]:
        with self._lock:
            hit = self._apps.get(conn.agent_id)
            if hit is None or hit[0] != conn.connected_at:
                cache = msal.SerializableTokenCache()
                cache.deserialize(self.vault.decrypt(conn.secret))
                hit = (conn.connected_at, msal_app(self.config, cache), cache)
                self._apps[conn.agent_id] = hit
            return hit[1], hit[2]

    def _token(self, conn: CalendarConnection, *, force_refresh: bool = False) -> str:
        app, cache = self._app(conn)
        accounts = app.get_accounts()
        try:
            result = (
                app.acquire_token_silent_with_error(SCOPES, account=accounts[0], force_refresh=force_refresh)
                if accounts
                else {"error": "no_account"}
            )
        except (msal.exceptions.MsalServiceError, requests.RequestException) as exc:  # 5xx, network
            raise ProviderUnavailable(
                "the Microsoft sign-in service failed", provider="microsoft", agent_id=conn.agent_id
            ) from exc
        if cache.has_state_changed:  # a refreshed (rotated) refresh token: keep it, encrypted
            with self.store.session() as s:
                s.execute(
                    update(CalendarConnection)
                    .where(CalendarConnection.id == conn.id)
                    .values(secret=self.vault.encrypt(cache.serialize()))
                )
            cache.has_state_changed = False
        if result and "access_token" in result:
            return str(result["access_token"])
        error = (result or {}).get("error", "no_token")
        if error in NEEDS_RECONNECT or result is None:
            self._mark_needs_reconnect(conn.agent_id, f"{error}: sign-in needed again")
            raise ProviderAuthError(
                "Microsoft needs the agent to sign in again", provider="microsoft", agent_id=conn.agent_id
            )
        raise ProviderUnavailable(f"token endpoint said {error}", provider="microsoft", agent_id=conn.agent_id)

    # ---- Graph calls with retries ------------------------------------------------------------------
    def _request(
        self, conn: CalendarConnection, method: str, path: str, *, body: Any = None, passthrough: tuple[int, ...] = ()
    ) -> httpx.Response:
        with self._lock:
            gate = self._mailbox.setdefault(conn.agent_id, threading.BoundedSemaphore(MAX_PER_MAILBOX))
        backoff, refreshed = self._backoff(conn.agent_id), False
        token = self._token(conn)
        while True:
            wait: float | None = None
            try:
                with gate:
                    r = self._http.request(
                        method,
                        self.config.graph_base_url + path,
                        json=body,
                        headers={"Authorization": f"Bearer {token}", "Prefer": 'outlook.timezone="UTC"'},
                    )
                if r.status_code < 400 or r.status_code in passthrough:
                    return r
                if r.status_code == 401 and not refreshed:
                    token, refreshed = self._token(conn, force_refresh=True), True
                    continue
                if r.status_code == 401:
                    self._mark_needs_reconnect(conn.agent_id, "401 after a refresh")
                    raise ProviderAuthError("Graph refused the token", provider="microsoft", agent_id=conn.agent_id)
                if r.status_code not in RETRYABLE:
                    raise ProviderError(
                        f"Graph answered {r.status_code} {_code(r)}", provider="microsoft", agent_id=conn.agent_id
                    )
                try:
                    wait = float(r.headers["retry-after"]) if "retry-after" in r.headers else None
                except ValueError:
                    wait = None
            except httpx.TransportError:  # timeouts, resets
                wait = None
            backoff.wait(wait)

    # ---- busy -------------------------------------------------------------------------------------------
    def _fetch_busy(self, agent_id: int, start: datetime, end: datetime) -> Busy:
        conn = self._connection(agent_id)
        intervals: list[Interval] = []
        lo = start
        while lo < end:
            hi = min(end, lo + MAX_WINDOW)
            body = {
                "schedules": [conn.calendar_id],
                "startTime": _utc(lo),
                "endTime": _utc(hi),
                "availabilityViewInterval": 15,
            }
            data = self._request(conn, "POST", "/me/calendar/getSchedule", body=body).json()
            for schedule in data.get("value", []):
                if schedule.get("error"):
                    raise ProviderError(f"getSchedule: {schedule['error']}", provider="microsoft", agent_id=agent_id)
                for item in schedule.get("scheduleItems", []):
                    if item.get("status") != "free":
                        intervals.append(Interval(_parse(item["start"]), _parse(item["end"])))
            lo = hi
        return Busy.from_intervals(intervals)

    # ---- events ---------------------------------------------------------------------------------------------
    def create_event(self, request: EventRequest) -> CreatedEvent:
        conn = self._connection(request.agent.id)
        body: dict[str, Any] = {
            "subject": request.summary,
            "body": {"contentType": "text", "content": request.description},
            "start": _utc(request.start),
            "end": _utc(request.end),
            "attendees": _attendees(request.attendee_email, request.attendee_name, request.guests),
            "transactionId": request.idempotency_key,
            "singleValueExtendedProperties": [{"id": BOOKING_PROPERTY, "value": request.idempotency_key}],
            "allowNewTimeProposals": False,
        }
        if request.with_conference:
            body.update(isOnlineMeeting=True, onlineMeetingProvider="teamsForBusiness")
        event = self._request(conn, "POST", "/me/events", body=body).json()
        self.forget(conn.agent_id)
        join = (event.get("onlineMeeting") or {}).get("joinUrl")
        return CreatedEvent(provider_event_id=str(event["id"]), conference_url=join)

    def find_event(self, agent: AgentRef, idempotency_key: str) -> CreatedEvent | None:
        if not idempotency_key.isalnum():  # booking ids are hex: nothing can break out of the quotes
            raise ValueError("idempotency key must be alphanumeric")
        conn = self._connection(agent.id)
        flt = f"singleValueExtendedProperties/Any(ep: ep/id eq '{BOOKING_PROPERTY}' and ep/value eq '{idempotency_key}')"
        query = urlencode({"$filter": flt, "$select": "id,isCancelled,onlineMeeting"}, quote_via=quote)
        events = self._request(conn, "GET", f"/me/events?{query}").json().get("value", [])
        live = [e for e in events if not e.get("isCancelled")]
        if not live:
            return None
        event = live[0]
        return CreatedEvent(str(event["id"]), (event.get("onlineMeeting") or {}).get("joinUrl"))

    def update_event(self, agent: AgentRef, provider_event_id: str, start: datetime, end: datetime) -> None:
        conn = self._connection(agent.id)
        self._request(conn, "PATCH", f"/me/events/{provider_event_id}", body={"start": _utc(start), "end": _utc(end)})
        self.forget(agent.id)

    def update_attendee(
        self, agent: AgentRef, provider_event_id: str, email: str, name: str, guests: Sequence[str] = ()
    ) -> None:
        conn = self._connection(agent.id)
        attendees = _attendees(email, name, guests)  # PATCH replaces the list; Graph invites the new ones
        self._request(conn, "PATCH", f"/me/events/{provider_event_id}", body={"attendees": attendees})

    def cancel_event(self, agent: AgentRef, provider_event_id: str) -> None:
        conn = self._connection(agent.id)
        self._request(
            conn,
            "POST",
            f"/me/events/{provider_event_id}/cancel",
            body={"comment": "This meeting was cancelled."},
            passthrough=(404,),
        )
        self.forget(agent.id)


def _attendees(email: str, name: str, guests: Sequence[str]) -> list[dict[str, Any]]:
    """The visitor, then each guest, all required attendees (Graph sends each the meeting request)."""
    people = [(email, name)] + [(g, g) for g in guests if g.lower() != email.lower()]
    return [{"emailAddress": {"address": a, "name": n}, "type": "required"} for a, n in people]


def _code(r: httpx.Response) -> str:
    try:
        return str(json.loads(r.text)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""

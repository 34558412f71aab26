"""Google Calendar through google-api-python-client, google-auth and google-auth-oauthlib.

- Least privilege: free/busy and events only (plus the sign-in scopes for the account e-mail);
  never the full ``auth/calendar`` scope.
- Busy: ``freeBusy`` per agent token (each agent authorises only their own calendar), windows
  split below Google's limit, a short per-agent cache, agents fetched concurrently.
- Create: ``events.insert`` with an event id derived from the booking id (base32hex) and the
  Meet ``requestId`` = booking id, ``conferenceDataVersion=1``, ``sendUpdates=all``: a retry after
  a timeout gets 409 and reuses the event instead of making a second one.
- Faults: 401 → google-auth refreshes once; ``invalid_grant`` → the connection needs
  reconnecting, the agent is left out and e-mailed; 403 rate limits, 429, 5xx and timeouts →
  backoff with jitter honouring Retry-After, within a budget of about 5 s.

The libraries are synchronous and httplib2 is not thread-safe: one client per thread.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from bot.calendars.base import AgentRef, CreatedEvent, EventRequest
from bot.calendars.remote import RemoteCalendar
from bot.errors import ProviderAuthError, ProviderError
from bot.scheduling import Busy, Interval
from bot.store.models import CalendarConnection

log = logging.getLogger(__name__)

SCOPES = [
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.events",
]
#: What each scope is for, in plain words (shown on the connect page).
SCOPE_REASONS = {
    "openid": "Sign you in, so we know which Google account you connected.",
    "https://www.googleapis.com/auth/userinfo.email": "See your e-mail address, to match it to your agent account.",
    "https://www.googleapis.com/auth/calendar.freebusy": "See when you are busy (not what the events are), "
    "so visitors are only offered times you are free.",
    "https://www.googleapis.com/auth/calendar.events": "Create, change and cancel the meetings booked with you, "
    "with a Google Meet link, on your calendars. We never create or delete calendars or change sharing.",
}
MAX_WINDOW = timedelta(days=60)  # freeBusy refuses long ranges; stay below
RETRYABLE = {429, 500, 502, 503, 504}
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


@dataclass(frozen=True)
class GoogleConfig:
    client_id: str
    client_secret: str
    api_base_url: str = "https://www.googleapis.com"
    auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    timeout: float = 4.0
    retry_budget: float = 5.0
    busy_ttl: float = 60.0


def event_id(booking_id: str) -> str:
    """Google event ids are base32hex (a-v, 0-9): the booking id's bytes, encoded so."""
    raw = bytes.fromhex(booking_id) if len(booking_id) % 2 == 0 else booking_id.encode()
    return base64.b32hexencode(raw).decode().rstrip("=").lower()


def _rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _parse(t: str) -> datetime:
    return datetime.fromisoformat(t.replace("Z", "+00:00"))


def _reason(err: HttpError) -> str:
    try:
        body = json.loads(err.content.decode())
        return body["error"]["errors"][0].get("reason", "")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


def _retry_after(err: HttpError) -> float | None:
    value = err.resp.get("retry-after") if err.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class GoogleCalendar(RemoteCalendar):
    name = "google"
    label = "Google Calendar"
    sends_invitations = True  # Google e-mails the attendee itself (sendUpdates=all)

    def _setup(self) -> None:
        self._local = threading.local()  # httplib2 is not thread-safe: one client per thread

    def credentials(self, refresh_token: str) -> Credentials:
        return Credentials(
            token=None,
            refresh_token=refresh_token,
            token_uri=self.config.token_uri,
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scopes=SCOPES,
        )

    def _service(self, conn: CalendarConnection) -> Any:
        """A Calendar client for this thread and connection (httplib2 is not thread-safe)."""
        clients = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        key = (conn.agent_id, conn.updated_at)
        svc = clients.get(key)
        if svc is None:
            creds = self.credentials(self.vault.decrypt(conn.secret))
            http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=self.config.timeout))
            svc = build(
                "calendar",
                "v3",
                http=http,
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": self.config.api_base_url + "/calendar/v3/"},
            )
            clients[key] = svc
        return svc

    # ---- calls with retries --------------------------------------------------------------------
    def _call(self, agent_id: int, make: Callable[[], Any], passthrough: tuple[int, ...] = ()) -> Any:
        backoff = self._backoff(agent_id)
        while True:
            try:
                return make().execute(num_retries=0)
            except HttpError as err:
                status = err.resp.status
                if status in passthrough:
                    raise
                reason = _reason(err)
                if status == 401:  # google-auth already refreshed once: the grant is gone
                    self._mark_needs_reconnect(agent_id, f"401 {reason}")
                    raise ProviderAuthError(
                        "Google refused the credentials", provider="google", agent_id=agent_id
                    ) from err
                retryable = status in RETRYABLE or (status == 403 and reason in RATE_LIMIT_REASONS)
                if not retryable:
                    raise ProviderError(
                        f"Google answered {status} {reason}", provider="google", agent_id=agent_id
                    ) from err
                backoff.wait(_retry_after(err))
            except RefreshError as err:
                if "invalid_grant" in str(err):
                    self._mark_needs_reconnect(agent_id, "invalid_grant: access revoked or expired")
                    raise ProviderAuthError("Google access was revoked", provider="google", agent_id=agent_id) from err
                backoff.wait()
            except (TransportError, httplib2.HttpLib2Error, OSError):  # timeouts, resets, DNS
                backoff.wait()

    # ---- busy ------------------------------------------------------------------------------------
    def _fetch_busy(self, agent_id: int, start: datetime, end: datetime) -> Busy:
        conn = self._connection(agent_id)
        svc = self._service(conn)
        intervals: list[Interval] = []
        lo = start
        while lo < end:
            hi = min(end, lo + MAX_WINDOW)
            body = {"timeMin": _rfc3339(lo), "timeMax": _rfc3339(hi), "items": [{"id": conn.calendar_id}]}
            result = self._call(agent_id, lambda body=body: svc.freebusy().query(body=body))
            cal = result.get("calendars", {}).get(conn.calendar_id, {})
            if cal.get("errors"):
                raise ProviderError(f"freeBusy: {cal['errors']}", provider="google", agent_id=agent_id)
            intervals += [Interval(_parse(b["start"]), _parse(b["end"])) for b in cal.get("busy", [])]
            lo = hi
        return Busy.from_intervals(intervals)

    # ---- events ----------------------------------------------------------------------------------
    def create_event(self, request: EventRequest) -> CreatedEvent:
        conn = self._connection(request.agent.id)
        svc = self._service(conn)
        eid = event_id(request.idempotency_key)
        body: dict[str, Any] = {
            "id": eid,
            "summary": request.summary,
            "description": request.description,
            "start": {"dateTime": _rfc3339(request.start)},
            "end": {"dateTime": _rfc3339(request.end)},
            "attendees": _attendees(request.attendee_email, request.attendee_name, request.guests),
            "reminders": {"useDefault": True},
        }
        if request.with_conference:
            body["conferenceData"] = {
                "createRequest": {
                    "requestId": request.idempotency_key,
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            }
        try:
            event = self._call(
                conn.agent_id,
                lambda: svc.events().insert(
                    calendarId=conn.calendar_id, body=body, conferenceDataVersion=1, sendUpdates="all"
                ),
                passthrough=(409,),
            )
        except HttpError:  # 409: this booking's event exists (an earlier try got through)
            event = self._call(conn.agent_id, lambda: svc.events().get(calendarId=conn.calendar_id, eventId=eid))
        self.forget(conn.agent_id)
        return CreatedEvent(provider_event_id=event["id"], conference_url=_meet_link(event))

    def find_event(self, agent: AgentRef, idempotency_key: str) -> CreatedEvent | None:
        conn = self._connection(agent.id)
        svc = self._service(conn)
        eid = event_id(idempotency_key)
        try:
            event = self._call(
                agent.id, lambda: svc.events().get(calendarId=conn.calendar_id, eventId=eid), passthrough=(404, 410)
            )
        except HttpError:  # 404/410: no such event, it was never made
            return None
        if event.get("status") == "cancelled":
            return None
        return CreatedEvent(provider_event_id=event["id"], conference_url=_meet_link(event))

    def update_event(self, agent: AgentRef, provider_event_id: str, start: datetime, end: datetime) -> None:
        conn = self._connection(agent.id)
        svc = self._service(conn)
        body = {"start": {"dateTime": _rfc3339(start)}, "end": {"dateTime": _rfc3339(end)}}
        self._call(
            agent.id,
            lambda: svc.events().patch(
                calendarId=conn.calendar_id, eventId=provider_event_id, body=body, sendUpdates="all"
            ),
        )
        self.forget(agent.id)

    def update_attendee(
        self, agent: AgentRef, provider_event_id: str, email: str, name: str, guests: Sequence[str] = ()
    ) -> None:
        conn = self._connection(agent.id)
        svc = self._service(conn)
        # patch replaces the whole list; sendUpdates=all: Google invites the attendees it has not
        body = {"attendees": _attendees(email, name, guests)}
        self._call(
            agent.id,
            lambda: svc.events().patch(
                calendarId=conn.calendar_id, eventId=provider_event_id, body=body, sendUpdates="all"
            ),
        )

    def cancel_event(self, agent: AgentRef, provider_event_id: str) -> None:
        conn = self._connection(agent.id)
        svc = self._service(conn)
        try:
            self._call(
                agent.id,
                lambda: svc.events().delete(calendarId=conn.calendar_id, eventId=provider_event_id, sendUpdates="all"),
                passthrough=(404, 410),
            )
        except HttpError:
            pass  # already gone
        self.forget(agent.id)


def _attendees(email: str, name: str, guests: Sequence[str]) -> list[dict[str, str]]:
    """The visitor first, then each guest (Google sends each of them the invitation)."""
    return [{"email": email, "displayName": name}] + [{"email": g} for g in guests if g.lower() != email.lower()]


def _meet_link(event: Mapping[str, Any]) -> str | None:
    if event.get("hangoutLink"):
        return str(event["hangoutLink"])
    for entry in (event.get("conferenceData") or {}).get("entryPoints", []):
        if entry.get("entryPointType") == "video":
            return str(entry.get("uri"))
    return None

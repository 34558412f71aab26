"""Connecting an agent's calendar by OAuth: invitation link → consent → callback → stored.

- Only invited agents can connect: ``python -m bot agent invite EMAIL --queue sales`` prints a
  signed, expiring link. The account signed in with must be the invited e-mail.
- Authorization code flow with PKCE (S256) and ``state`` — google-auth-oauthlib for Google,
  MSAL's auth code flow for Microsoft. The state is stored server-side, single use, for ten
  minutes, with what finishing needs (the code verifier, or MSAL's flow), encrypted.
- CalDAV has no OAuth: the invited agent gives a server address, a user name and an app
  password; the calendars are discovered and checked before anything is stored.
- What is kept — Google's refresh token, the agent's MSAL token cache, or the CalDAV account —
  is stored encrypted; reconnecting replaces the old connection; disconnecting removes it (and
  revokes Google's grant).
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import msal
import requests
from google_auth_oauthlib.flow import Flow
from sqlalchemy import delete, select

from bot.calendars import dav, google, microsoft
from bot.crypto import Vault
from bot.errors import ConnectError
from bot.messages.email import DEFAULT_BODY, DEFAULT_SUBJECT
from bot.store import Store
from bot.store.models import Agent, CalendarConnection, OAuthState, Queue, QueueMember, WeeklyHour

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
INVITE_TTL_SECONDS = 7 * 24 * 3600
NAMES = {"google": "Google", "microsoft": "Microsoft", "caldav": "CalDAV"}
Config = Any  # GoogleConfig | MicrosoftConfig


@dataclass(frozen=True)
class Invite:
    email: str
    queue: str | None
    name: str | None
    timezone: str | None


@dataclass(frozen=True)
class Granted:
    account: str | None
    secret: str  # what to keep: a refresh token, or a serialized token cache
    scopes: str


def invite_token(vault: Vault, email: str, queue: str | None, name: str | None = None, tz: str | None = None) -> str:
    return vault.sign(
        {"p": "connect", "email": email.lower(), "queue": queue, "name": name, "tz": tz}, INVITE_TTL_SECONDS
    )


def read_invite(vault: Vault, token: str | None) -> Invite:
    body = vault.verify(token or "")
    if body is None or body.get("p") != "connect" or not isinstance(body.get("email"), str):
        raise ConnectError("This invitation link is not valid or has expired. Ask your admin for a new one.")
    return Invite(body["email"], body.get("queue"), body.get("name"), body.get("tz"))


# ---- Google ---------------------------------------------------------------------------------------
def _google_flow(cfg: google.GoogleConfig, redirect_uri: str, **kw: Any) -> Flow:
    client = {
        "web": {
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "auth_uri": cfg.auth_uri,
            "token_uri": cfg.token_uri,
        }
    }
    return Flow.from_client_config(client, scopes=google.SCOPES, redirect_uri=redirect_uri, **kw)


def _google_start(cfg: google.GoogleConfig, redirect_uri: str, invite: Invite) -> tuple[str, str, str]:
    state = secrets.token_urlsafe(32)
    flow = _google_flow(cfg, redirect_uri, state=state, autogenerate_code_verifier=True)
    url, _ = flow.authorization_url(
        access_type="offline", prompt="consent", login_hint=invite.email, include_granted_scopes="false"
    )
    return url, state, str(flow.code_verifier)


def _id_token_email(id_token: str | None) -> str | None:
    """E-mail claim of an ID token received straight from the token endpoint over TLS
    (OpenID Connect Core 3.1.3.7: its signature need not be checked then)."""
    if not id_token or id_token.count(".") < 2:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    email = claims.get("email")
    return email.lower() if isinstance(email, str) and claims.get("email_verified", True) else None


def _google_finish(
    cfg: google.GoogleConfig, redirect_uri: str, state: str, verifier: str, params: dict[str, str]
) -> Granted:
    flow = _google_flow(cfg, redirect_uri, state=state, code_verifier=verifier)
    try:
        token = flow.fetch_token(code=params["code"])
    except Exception as exc:  # oauthlib raises many kinds; none of them leaks the code
        log.warning("google token exchange failed: %s", type(exc).__name__)
        raise ConnectError("Google did not accept the sign-in; nothing was connected. Please try again.") from exc
    if not token.get("refresh_token"):
        raise ConnectError("Google did not grant offline access; nothing was connected. Please try again.")
    raw = token.get("scope") or []
    granted = set(raw.split() if isinstance(raw, str) else raw)
    if granted and any(sc not in granted for sc in google.SCOPES):
        raise ConnectError("Some permissions were not granted, so bookings could not work; nothing was connected.")
    return Granted(_id_token_email(token.get("id_token")), token["refresh_token"], " ".join(sorted(granted)))


# ---- Microsoft -------------------------------------------------------------------------------------
def _ms_start(cfg: microsoft.MicrosoftConfig, redirect_uri: str, invite: Invite) -> tuple[str, str, str]:
    try:  # building the MSAL app fetches the authority's OpenID configuration over the network
        flow = microsoft.msal_app(cfg).initiate_auth_code_flow(
            microsoft.SCOPES, redirect_uri=redirect_uri, login_hint=invite.email, prompt="select_account"
        )
    except (ValueError, requests.RequestException) as exc:
        log.warning("microsoft sign-in unreachable: %s", type(exc).__name__)
        raise ConnectError("Microsoft sign-in cannot be reached right now; please try again in a few minutes.") from exc
    return flow["auth_uri"], flow["state"], json.dumps(flow)


def _ms_finish(cfg: microsoft.MicrosoftConfig, flow_json: str, params: dict[str, str]) -> Granted:
    cache = msal.SerializableTokenCache()
    try:
        result = microsoft.msal_app(cfg, cache).acquire_token_by_auth_code_flow(json.loads(flow_json), params)
    except (ValueError, requests.RequestException) as exc:
        log.warning("microsoft token exchange failed: %s", type(exc).__name__)
        raise ConnectError("Microsoft did not accept the sign-in; nothing was connected. Please try again.") from exc
    if "error" in result or "access_token" not in result:
        log.warning("microsoft token exchange failed: %s", result.get("error"))
        raise ConnectError("Microsoft did not accept the sign-in; nothing was connected. Please try again.")
    granted = str(result.get("scope", ""))
    if "calendars.readwrite" not in granted.lower():
        raise ConnectError("Calendar access was not granted, so bookings could not work; nothing was connected.")
    claims = result.get("id_token_claims") or {}
    account = claims.get("preferred_username") or claims.get("email")
    return Granted(account.lower() if isinstance(account, str) else None, cache.serialize(), granted)


# ---- shared ---------------------------------------------------------------------------------------
def start(store: Store, vault: Vault, provider: str, cfg: Config, redirect_uri: str, invite: Invite) -> str:
    """The consent URL for this invitation; remembers the state and what finishing needs."""
    if provider not in ("google", "microsoft"):
        raise ConnectError("Unknown calendar provider.")
    if not cfg.client_id or not cfg.client_secret:
        raise ConnectError(f"{NAMES[provider]} calendars are not configured here.")
    url, state, secret = (_google_start if provider == "google" else _ms_start)(cfg, redirect_uri, invite)
    with store.session() as s:
        s.add(
            OAuthState(
                state=state,
                provider=provider,
                email=invite.email,
                queue_slug=invite.queue,
                agent_name=invite.name,
                agent_timezone=invite.timezone,
                code_verifier=vault.encrypt(secret),
                created_at=datetime.now(timezone.utc),
            )
        )
    return url


def finish(store: Store, vault: Vault, provider: str, cfg: Config, redirect_uri: str, params: dict[str, str]) -> str:
    """Handle the callback. Returns the connected account e-mail; raises ConnectError with a
    message for the agent. Nothing is stored unless everything checks out."""
    state = params.get("state") or ""
    now = datetime.now(timezone.utc)
    with store.session() as s:
        row = s.get(OAuthState, state) if state else None
        if row is None or row.provider != provider:
            raise ConnectError("This sign-in link is not valid. Start again from your invitation link.")
        if row.used_at is not None:
            raise ConnectError("This sign-in was already used. Start again from your invitation link.")
        if now - row.created_at > STATE_TTL:
            raise ConnectError("This sign-in took too long and expired. Start again from your invitation link.")
        row.used_at = now  # single use, whatever happens next
        secret = vault.decrypt(row.code_verifier)
        invite = Invite(row.email, row.queue_slug, row.agent_name, row.agent_timezone)
    if params.get("error"):
        raise ConnectError(
            "You did not give access, so nothing was connected."
            if params["error"] == "access_denied"
            else f"{NAMES[provider]} reported an error ({params['error'][:60]}); nothing was connected."
        )
    if not params.get("code"):
        raise ConnectError(f"{NAMES[provider]} did not send an authorization code; nothing was connected.")
    if provider == "google":
        granted = _google_finish(cfg, redirect_uri, state, secret, params)
    else:
        granted = _ms_finish(cfg, secret, params)
    if granted.account != invite.email:
        raise ConnectError(
            f"You signed in as {granted.account or 'an unknown account'}, but the invitation is for "
            f"{invite.email}. Sign in with that account."
        )
    _store_connection(store, vault, provider, granted, invite)
    return invite.email


def _store_connection(
    store: Store, vault: Vault, provider: str, granted: Granted, invite: Invite, calendar_id: str | None = None
) -> None:
    email = invite.email
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == email)).scalar_one_or_none()
        if agent is None:
            agent = Agent(
                email=email,
                name=invite.name or email.split("@")[0],
                timezone=invite.timezone or "UTC",
                provider=provider,
                invitation_subject=DEFAULT_SUBJECT,
                invitation_body=DEFAULT_BODY,
                include_conference=True,
            )
            agent.hours = [WeeklyHour(weekday=d, start_minute=9 * 60, end_minute=17 * 60) for d in range(5)]
            s.add(agent)
            s.flush()
        s.execute(delete(CalendarConnection).where(CalendarConnection.agent_id == agent.id))  # one per agent
        s.add(
            CalendarConnection(
                agent_id=agent.id,
                provider=provider,
                account_email=email,
                calendar_id=(calendar_id or email)[:320],
                secret=vault.encrypt(granted.secret),
                scopes=granted.scopes,
                status="connected",
                connected_at=datetime.now(timezone.utc),
            )
        )
        agent.provider = provider
        agent.active = True
        if invite.queue:
            q = s.execute(select(Queue).where(Queue.slug == invite.queue)).scalar_one_or_none()
            if q is not None and s.get(QueueMember, (q.id, agent.id)) is None:
                s.add(QueueMember(queue_id=q.id, agent_id=agent.id, weight=100))
    log.info("agent %s connected a %s calendar", email, NAMES[provider])


# ---- CalDAV: a server address, a user name and an app password (no OAuth) ------------------------------
def connect_caldav(
    store: Store,
    vault: Vault,
    cfg: dav.CalDAVConfig,
    invite: Invite,
    url: str,
    username: str,
    password: str,
    calendar: str | None = None,
    busy: list[str] | None = None,
) -> list[dav.CalendarInfo]:
    """Discover the agent's calendars and connect them (the booking calendar ``calendar``, the
    ``busy`` calendars; defaults: the first, and all). Returns the calendars found. Raises
    ConnectError in plain words and stores nothing when anything is wrong."""
    url, calendars = dav.discover(url, username.strip(), password, cfg)
    write, busy_urls = dav.choose(calendars, calendar, busy)
    account = dav.Account(url, username.strip(), password, write, busy_urls)
    name = next(c.name for c in calendars if c.url == write)
    _store_connection(store, vault, "caldav", Granted(invite.email, account.dump(), "caldav"), invite, name)
    return calendars


def caldav_calendars(store: Store, vault: Vault, cfg: dav.CalDAVConfig, agent_id: int) -> tuple[dav.Account, list[dav.CalendarInfo]]:
    """The agent's CalDAV connection and the calendars its server has now (for choosing)."""
    account = _caldav_account(store, vault, agent_id)
    _, calendars = dav.discover(account.url, account.username, account.password, cfg)
    return account, calendars


def choose_caldav(
    store: Store, vault: Vault, cfg: dav.CalDAVConfig, agent_id: int, calendar: str, busy: list[str]
) -> dav.Account:
    """Change which calendar is booked into and which count as busy (checked against the server)."""
    account, calendars = caldav_calendars(store, vault, cfg, agent_id)
    write, busy_urls = dav.choose(calendars, calendar, busy)
    account = dav.Account(account.url, account.username, account.password, write, busy_urls)
    name = next(c.name for c in calendars if c.url == write)
    with store.session() as s:
        conn = s.execute(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id)).scalar_one()
        conn.secret, conn.calendar_id = vault.encrypt(account.dump()), name[:320]
    return account


def _caldav_account(store: Store, vault: Vault, agent_id: int) -> dav.Account:
    with store.session() as s:
        conn = s.execute(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id)).scalar_one_or_none()
        if conn is None or conn.provider != "caldav":
            raise ConnectError("No CalDAV calendar is connected.")
        return dav.Account.load(vault.decrypt(conn.secret))


def disconnect(store: Store, vault: Vault, google_cfg: google.GoogleConfig, email: str) -> bool:
    """Remove the connection and queue memberships; revoke Google's grant (best effort)."""
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == email.lower())).scalar_one_or_none()
        if agent is None:
            return False
        conn = s.execute(select(CalendarConnection).where(CalendarConnection.agent_id == agent.id)).scalar_one_or_none()
        if conn is None:
            return False
        provider, secret = conn.provider, vault.decrypt(conn.secret)
        s.delete(conn)
        s.execute(delete(QueueMember).where(QueueMember.agent_id == agent.id))  # never offered without a calendar
        agent.provider = "local"
    if provider == "google":
        try:
            requests.post(google_cfg.revoke_uri, data={"token": secret}, timeout=google_cfg.timeout)
        except requests.RequestException as exc:
            log.warning("revoking the Google grant failed (%s); it was removed here anyway", type(exc).__name__)
    return True

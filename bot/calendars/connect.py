"""Connecting an agent's calendar by OAuth: invitation link → consent → callback → stored.

- Only invited agents can connect: ``python -m bot agent invite EMAIL --queue sales`` prints a
  signed, expiring link. The Google account must be the invited e-mail.
- Authorization code flow with PKCE (S256) and ``state``; the state is stored server-side,
  single use, for ten minutes, with the (encrypted) code verifier.
- The refresh token is stored encrypted; reconnecting replaces the old connection;
  disconnecting revokes the grant at Google and removes it.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from google_auth_oauthlib.flow import Flow
from sqlalchemy import delete, select

from bot.calendars.google import SCOPES, GoogleConfig
from bot.crypto import Vault
from bot.errors import ConnectError
from bot.messages.email import DEFAULT_BODY, DEFAULT_SUBJECT
from bot.store import Store
from bot.store.models import Agent, CalendarConnection, OAuthState, Queue, QueueMember, WeeklyHour

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
INVITE_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Invite:
    email: str
    queue: str | None
    name: str | None
    timezone: str | None


def invite_token(vault: Vault, email: str, queue: str | None, name: str | None = None, tz: str | None = None) -> str:
    return vault.sign(
        {"p": "connect", "email": email.lower(), "queue": queue, "name": name, "tz": tz}, INVITE_TTL_SECONDS
    )


def read_invite(vault: Vault, token: str | None) -> Invite:
    body = vault.verify(token or "")
    if body is None or body.get("p") != "connect" or not isinstance(body.get("email"), str):
        raise ConnectError("This invitation link is not valid or has expired. Ask your admin for a new one.")
    return Invite(body["email"], body.get("queue"), body.get("name"), body.get("tz"))


def _client_config(cfg: GoogleConfig) -> dict[str, Any]:
    return {
        "web": {
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "auth_uri": cfg.auth_uri,
            "token_uri": cfg.token_uri,
        }
    }


def start(store: Store, vault: Vault, cfg: GoogleConfig, redirect_uri: str, invite: Invite) -> str:
    """The Google consent URL for this invitation; remembers state and the PKCE verifier."""
    if not cfg.client_id or not cfg.client_secret:
        raise ConnectError("Google Calendar is not configured here (GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET).")
    state = secrets.token_urlsafe(32)
    flow = Flow.from_client_config(
        _client_config(cfg), scopes=SCOPES, redirect_uri=redirect_uri, state=state, autogenerate_code_verifier=True
    )
    url, _ = flow.authorization_url(
        access_type="offline", prompt="consent", login_hint=invite.email, include_granted_scopes="false"
    )
    with store.session() as s:
        s.add(
            OAuthState(
                state=state,
                provider="google",
                email=invite.email,
                queue_slug=invite.queue,
                agent_name=invite.name,
                agent_timezone=invite.timezone,
                code_verifier=vault.encrypt(flow.code_verifier),
                created_at=datetime.now(timezone.utc),
            )
        )
    return url


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


def finish(
    store: Store,
    vault: Vault,
    cfg: GoogleConfig,
    redirect_uri: str,
    params: dict[str, str],
) -> str:
    """Handle the callback. Returns the connected account e-mail; raises ConnectError with a
    message for the agent. Nothing is stored unless everything checks out."""
    state = params.get("state") or ""
    now = datetime.now(timezone.utc)
    with store.session() as s:
        row = s.get(OAuthState, state) if state else None
        if row is None or row.provider != "google":
            raise ConnectError("This sign-in link is not valid. Start again from your invitation link.")
        if row.used_at is not None:
            raise ConnectError("This sign-in was already used. Start again from your invitation link.")
        if now - row.created_at > STATE_TTL:
            raise ConnectError("This sign-in took too long and expired. Start again from your invitation link.")
        row.used_at = now  # single use, whatever happens next
        email, verifier = row.email, vault.decrypt(row.code_verifier)
        invite = Invite(row.email, row.queue_slug, row.agent_name, row.agent_timezone)
    if params.get("error"):
        raise ConnectError(
            "You did not give access, so nothing was connected."
            if params["error"] == "access_denied"
            else f"Google reported an error ({params['error'][:60]}); nothing was connected."
        )
    code = params.get("code")
    if not code:
        raise ConnectError("Google did not send an authorization code; nothing was connected.")
    flow = Flow.from_client_config(
        _client_config(cfg), scopes=SCOPES, redirect_uri=redirect_uri, state=state, code_verifier=verifier
    )
    try:
        token = flow.fetch_token(code=code)
    except Exception as exc:  # oauthlib raises many kinds; none of them leaks the code
        log.warning("google token exchange failed: %s", type(exc).__name__)
        raise ConnectError("Google did not accept the sign-in; nothing was connected. Please try again.") from exc
    refresh = token.get("refresh_token")
    account = _id_token_email(token.get("id_token"))
    if not refresh:
        raise ConnectError("Google did not grant offline access; nothing was connected. Please try again.")
    if account != email:
        raise ConnectError(
            f"You signed in as {account or 'an unknown account'}, but the invitation is for "
            f"{email}. Sign in with that account."
        )
    raw_scope = token.get("scope") or []
    granted = set(raw_scope.split() if isinstance(raw_scope, str) else raw_scope)
    missing = [sc for sc in SCOPES if sc not in granted] if granted else []
    if missing:
        raise ConnectError("Some permissions were not granted, so bookings could not work; nothing was connected.")
    _store_connection(store, vault, account, refresh, " ".join(sorted(granted or SCOPES)), invite)
    return account


def _store_connection(
    store: Store,
    vault: Vault,
    email: str,
    refresh_token: str,
    scopes: str,
    invite: Invite,
) -> None:
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == email)).scalar_one_or_none()
        if agent is None:
            agent = Agent(
                email=email,
                name=invite.name or email.split("@")[0],
                timezone=invite.timezone or "UTC",
                provider="google",
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
                provider="google",
                account_email=email,
                calendar_id=email,
                secret=vault.encrypt(refresh_token),
                scopes=scopes,
                status="connected",
            )
        )
        agent.provider = "google"
        agent.active = True
        if invite.queue:
            q = s.execute(select(Queue).where(Queue.slug == invite.queue)).scalar_one_or_none()
            if q is not None and s.get(QueueMember, (q.id, agent.id)) is None:
                s.add(QueueMember(queue_id=q.id, agent_id=agent.id, weight=100))
    log.info("agent %s connected Google Calendar", email)


def disconnect(store: Store, vault: Vault, cfg: GoogleConfig, email: str) -> bool:
    """Revoke the grant at Google (best effort) and remove the connection and queue memberships."""
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == email.lower())).scalar_one_or_none()
        if agent is None:
            return False
        conn = s.execute(select(CalendarConnection).where(CalendarConnection.agent_id == agent.id)).scalar_one_or_none()
        if conn is None:
            return False
        token = vault.decrypt(conn.secret)
        s.delete(conn)
        s.execute(delete(QueueMember).where(QueueMember.agent_id == agent.id))  # never offered without a calendar
        agent.provider = "local"
    try:
        requests.post(cfg.revoke_uri, data={"token": token}, timeout=cfg.timeout)
    except requests.RequestException as exc:
        log.warning("revoking the Google grant failed (%s); it was removed here anyway", type(exc).__name__)
    return True

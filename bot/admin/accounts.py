"""Portal accounts: admins and agents, passwords, sessions, sign-in throttling, invitations.

- Passwords are hashed with Argon2id (argon2-cffi's defaults, rehashed when they change).
- A session is a signed, expiring cookie naming the account, its ``session_version`` and a
  CSRF token; signing out moves the version on, which ends every session of that account.
- Sign-in is throttled per e-mail and per client address from the ``signin_attempts`` table,
  so it holds across web processes.
- Admins invite agents by an e-mail link (signed, a week long); accepting it sets the password,
  creates the agent if needed and signs them in.
"""

from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from bot.crypto import Vault
from bot.errors import BotError
from bot.inputs import clean_email
from bot.store import Store
from bot.store.models import Account, Agent, SignInAttempt

log = logging.getLogger(__name__)

ROLES = ("admin", "agent")
SESSION_TTL = timedelta(hours=12)
INVITE_TTL = timedelta(days=7)
#: Failed sign-ins allowed per e-mail (and, times four, per client address) in the window.
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both cases take the same time. Made on
    first use: an Argon2 hash costs a quarter of a second, not to be paid at import."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(BotError):
    """Something the person can fix (shown to them as is)."""


class SignInThrottled(AccountError):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def check_password(password: str, email: str = "") -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"The password must have at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise AccountError("The password is too long.")
    if email and password.strip().lower() == email.strip().lower():
        raise AccountError("The password cannot be your e-mail address.")
    return password


def _email(value: str) -> str:
    email = clean_email(value or "")
    if email is None or email != (value or "").strip():
        raise AccountError("That is not an e-mail address.")
    return email.lower()


def create_account(
    store: Store, email: str, password: str, role: str, agent_id: int | None = None, *, replace: bool = False
) -> int:
    """A new account (or, with ``replace``, a new password and role for an existing one)."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    email = _email(email)
    check_password(password, email)
    with store.session() as s:
        acct = s.execute(select(Account).where(Account.email == email)).scalar_one_or_none()
        if acct is not None and not replace:
            raise AccountError(f"an account for {email} exists")
        if acct is None:
            acct = Account(email=email, role=role, password_hash="", active=True, session_version=0)
            s.add(acct)
        acct.role, acct.password_hash, acct.active = role, _hasher.hash(password), True
        if agent_id is not None:
            acct.agent_id = agent_id
        acct.session_version = (acct.session_version or 0) + 1  # a new password ends old sessions
        s.flush()
        return acct.id


@dataclass(frozen=True)
class Principal:
    """Who is signed in, as every portal request sees it."""

    account_id: int
    email: str
    role: str
    agent_id: int | None
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def authenticate(store: Store, email: str, password: str, ip: str, now: datetime | None = None) -> int | None:
    """The account id when the e-mail and password match an active account; None otherwise.
    Raises SignInThrottled after too many failures for this e-mail or this address."""
    now = now or utcnow()
    email = (email or "").strip().lower()[:320]
    ip = (ip or "?")[:64]
    since = now - WINDOW
    with store.session() as s:
        by_email = s.execute(
            select(func.count()).where(SignInAttempt.email == email, SignInAttempt.ok.is_(False), SignInAttempt.at > since)
        ).scalar_one()
        by_ip = s.execute(
            select(func.count()).where(SignInAttempt.ip == ip, SignInAttempt.ok.is_(False), SignInAttempt.at > since)
        ).scalar_one()
        if by_email >= MAX_FAILURES or by_ip >= 4 * MAX_FAILURES:
            log.warning("sign-in throttled (%d failures for the e-mail, %d for the address)", by_email, by_ip)
            raise SignInThrottled("Too many failed sign-ins. Please wait 15 minutes and try again.")
        acct = s.execute(select(Account).where(Account.email == email)).scalar_one_or_none()
        ok = False
        try:
            ok = _hasher.verify(acct.password_hash if acct else _dummy_hash(), password or "")
        except (VerificationError, InvalidHashError):
            ok = False
        ok = ok and acct is not None and acct.active
        s.add(SignInAttempt(email=email, ip=ip, ok=ok, at=now))
        s.execute(delete(SignInAttempt).where(SignInAttempt.at < now - timedelta(days=1)))
        if not ok:
            return None
        if _hasher.check_needs_rehash(acct.password_hash):
            acct.password_hash = _hasher.hash(password)
        acct.last_login_at = now
        return acct.id


def session_token(store: Store, vault: Vault, account_id: int) -> str:
    with store.session() as s:
        acct = s.get(Account, account_id)
        version = acct.session_version
    payload = {"p": "session", "u": account_id, "v": version, "c": secrets.token_urlsafe(16)}
    return vault.sign(payload, int(SESSION_TTL.total_seconds()))


def principal(store: Store, vault: Vault, token: str | None) -> Principal | None:
    """The signed-in account behind a session cookie, if it is valid, current and active."""
    body = vault.verify(token) if isinstance(token, str) and 0 < len(token) < 4096 else None
    if not body or body.get("p") != "session" or not isinstance(body.get("u"), int):
        return None
    with store.session() as s:
        acct = s.get(Account, body["u"])
        if acct is None or not acct.active or acct.session_version != body.get("v"):
            return None
        if acct.agent_id is not None:
            agent = s.get(Agent, acct.agent_id)
            if agent is None or (not agent.active and acct.role == "agent"):
                return None
        return Principal(acct.id, acct.email, acct.role, acct.agent_id, str(body.get("c") or ""))


def sign_out(store: Store, account_id: int) -> None:
    """End every session of the account (the cookie's version no longer matches)."""
    with store.session() as s:
        acct = s.get(Account, account_id)
        if acct is not None:
            acct.session_version += 1


# ---- invitations ---------------------------------------------------------------------------
def invite_token(vault: Vault, email: str, name: str, tz: str, queue: str | None) -> str:
    payload = {"p": "agent-invite", "e": _email(email), "n": name, "z": tz, "q": queue}
    return vault.sign(payload, int(INVITE_TTL.total_seconds()))


def read_invite(vault: Vault, token: str | None) -> dict[str, Any]:
    body = vault.verify(token) if isinstance(token, str) and 0 < len(token) < 4096 else None
    if not body or body.get("p") != "agent-invite" or not isinstance(body.get("e"), str):
        raise AccountError("This invitation is not valid any more. Ask your admin for a new one.")
    return body


def invitation_email(mail_from: str, to: str, name: str, url: str, inviter: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "You're invited to take meetings booked in our website chat"
    msg["From"] = mail_from
    msg["To"] = to
    msg.set_content(
        f"Hi {' '.join(name.split())},\n\n{inviter} invited you as an agent: visitors of our website will be able "
        "to book meetings with you in the chat.\n\n"
        f"Set your password and connect your calendar here (the link works for 7 days):\n{url}\n"
    )
    return msg


def accept_invite(store: Store, vault: Vault, token: str, password: str) -> int:
    """Create the agent (if new) and their account from an invitation; returns the account id."""
    from bot.admin import rules

    invite = read_invite(vault, token)
    email = invite["e"]
    check_password(password, email)
    with store.session() as s:
        if s.execute(select(Account).where(Account.email == email)).scalar_one_or_none() is not None:
            raise AccountError("This invitation was already used. Sign in instead.")
        agent = s.execute(select(Agent).where(Agent.email == email)).scalar_one_or_none()
    if agent is None:
        rules.add_agent(store, email, invite.get("n") or email, invite.get("z") or "UTC", queue=invite.get("q"))
    with store.session() as s:
        agent = s.execute(select(Agent).where(Agent.email == email)).scalar_one()
        agent.active = True
        agent_id = agent.id
    return create_account(store, email, password, "agent", agent_id=agent_id)

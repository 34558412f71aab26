"""Wiring: settings → store → providers → outbox → booking service. Built lazily, once."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select

from bot.booking import BookingService
from bot.calendars.connect import invite_token
from bot.calendars.dav import CalDAVCalendar, CalDAVConfig
from bot.calendars.google import GoogleCalendar, GoogleConfig
from bot.calendars.local import LocalCalendar
from bot.calendars.microsoft import MicrosoftCalendar, MicrosoftConfig
from bot.crypto import Vault, load_secret
from bot.messages.delivery import Delivery, RetryPolicy
from bot.messages.outbox import Outbox, make_outbox
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.store.models import Agent, Queue, QueueMember

log = logging.getLogger(__name__)
_lock = threading.Lock()
_service: BookingService | None = None


def vault(settings: Settings) -> Vault:
    return Vault(load_secret(settings.secret_key, settings.var_dir))


def google_config(settings: Settings) -> GoogleConfig:
    return GoogleConfig(
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret,
        api_base_url=settings.google_api_base_url,
        auth_uri=settings.google_auth_uri,
        token_uri=settings.google_token_uri,
        revoke_uri=settings.google_revoke_uri,
        timeout=settings.provider_timeout_seconds,
    )


def microsoft_config(settings: Settings) -> MicrosoftConfig:
    return MicrosoftConfig(
        client_id=settings.microsoft_client_id,
        client_secret=settings.microsoft_client_secret,
        authority=settings.microsoft_authority,
        graph_base_url=settings.graph_base_url,
        ca_bundle=settings.microsoft_ca_bundle or None,
        timeout=settings.provider_timeout_seconds,
    )


def caldav_config(settings: Settings) -> CalDAVConfig:
    return CalDAVConfig(
        timeout=settings.provider_timeout_seconds,
        ca_bundle=settings.caldav_ca_bundle or None,
        public_url=settings.public_url,
    )


def provider_config(settings: Settings, provider: str) -> GoogleConfig | MicrosoftConfig:
    return google_config(settings) if provider == "google" else microsoft_config(settings)


def configured_providers(settings: Settings) -> list[str]:
    pairs = (("google", settings.google_client_id), ("microsoft", settings.microsoft_client_id))
    return [provider for provider, client_id in pairs if client_id]


def connect_url(
    settings: Settings,
    v: Vault,
    email: str,
    queue: str | None,
    name: str | None = None,
    tz: str | None = None,
    provider: str = "google",
) -> str:
    return f"{settings.public_url}/portal/connect/{provider}?invite={invite_token(v, email, queue, name, tz)}"


def _reconnect_notice(settings: Settings, store: Store, v: Vault, outbox: Outbox, provider: str = "google"):  # noqa: ANN202
    label = {"google": "Google Calendar", "microsoft": "Outlook calendar"}.get(provider, "calendar")
    why = (
        "no longer accepts our access"
        if provider != "caldav"
        else "no longer accepts the app password you gave us (it was revoked or changed)"
    )

    def notify(agent_id: int, error: str) -> None:
        with store.session() as s:
            agent = s.get(Agent, agent_id)
            queue = (
                s.execute(select(Queue.slug).join(QueueMember).where(QueueMember.agent_id == agent_id))
                .scalars()
                .first()
            )
            email, name, tz = agent.email, agent.name, agent.timezone
        msg = EmailMessage()
        msg["Subject"] = f"Please reconnect your {label}"
        msg["From"] = settings.mail_from
        msg["To"] = email
        msg.set_content(
            f"Hi {name},\n\nYour {label} {why}, so visitors are not offered "
            "your times until you reconnect it. Reconnect here (the link is valid for 7 days):\n\n"
            f"{connect_url(settings, v, email, queue, name, tz, provider)}\n"
        )
        outbox.send(msg)

    return notify


def build_delivery(settings: Settings, store: Store) -> Delivery:
    retry = RetryPolicy(
        base_seconds=settings.outbox_retry_base_seconds,
        max_seconds=settings.outbox_retry_max_seconds,
        max_attempts=settings.outbox_max_attempts,
    )
    from bot.messages.webhooks import WebhookSender

    webhooks = WebhookSender(store, vault(settings))
    return Delivery(store, make_outbox(settings.smtp_url, settings.outbox_dir), retry=retry, webhooks=webhooks)


def routing_rules(settings: Settings) -> list | None:
    """The routing rules of ``ROUTING_FILE`` (default: routing.yml beside the code), checked:
    a bad file stops the process with every problem and its line. No file: none."""
    from pathlib import Path

    from bot.booking.routing_rules import load

    if not settings.routing_file:
        return None
    path = Path(settings.routing_file)
    if not path.exists():
        return None
    return load(path)


def build_service(settings: Settings, store: Store | None = None) -> BookingService:
    store = store or Store(settings.db_url)
    outbox = build_delivery(settings, store)
    providers: dict = {"local": LocalCalendar(store, settings.public_url)}
    if settings.google_client_id:
        v = vault(settings)
        providers["google"] = GoogleCalendar(
            store, v, google_config(settings), on_needs_reconnect=_reconnect_notice(settings, store, v, outbox)
        )
    if settings.microsoft_client_id:
        v = vault(settings)
        providers["microsoft"] = MicrosoftCalendar(
            store,
            v,
            microsoft_config(settings),
            on_needs_reconnect=_reconnect_notice(settings, store, v, outbox, "microsoft"),
        )
    v = vault(settings)  # CalDAV needs no app registration: always there
    providers["caldav"] = CalDAVCalendar(
        store, v, caldav_config(settings), on_needs_reconnect=_reconnect_notice(settings, store, v, outbox, "caldav")
    )
    return BookingService(
        store,
        providers,
        outbox,
        routing=routing_rules(settings),
        mail_from=settings.mail_from,
        default_queue=settings.default_queue,
        offer_ttl=timedelta(minutes=settings.offer_ttl_minutes),
        provider_timeout=settings.provider_timeout_seconds,
        page_size=settings.slots_per_page,
        manage_link=_manage_link(settings),
    )


def _manage_link(settings: Settings):  # noqa: ANN202
    from datetime import datetime, timezone

    from bot.messages.links import manage_url

    v = vault(settings)

    def link(booking_id: str, sequence: int, start: datetime, end: datetime, action: str) -> str:
        now = datetime.now(timezone.utc)
        return manage_url(settings.public_url, v, booking_id, sequence, end, now, action, start)

    return link


def service() -> BookingService:
    """The process-wide service, built on first use from the environment."""
    global _service
    with _lock:
        if _service is None:
            _service = build_service(load_settings())
        return _service


def use_service(svc: BookingService | None) -> None:
    """Swap the process-wide service (tests)."""
    global _service
    with _lock:
        _service = svc

"""Where outgoing e-mail goes: ``.eml`` files under ``$BOT_VAR_DIR/outbox/`` by default, or SMTP.

The file outbox writes atomically (temporary file, then rename), so a reader never sees half a
message and a crash never leaves one.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from bot.errors import ConfigError

log = logging.getLogger(__name__)


class Outbox(Protocol):
    def send(self, msg: EmailMessage) -> str:
        """Deliver or store the message; returns where it went."""


class FileOutbox:
    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, msg: EmailMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = (msg.get("X-Booking-Id") or "msg").replace("/", "_")
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=self.directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(msg))
            fh.flush()
            os.fsync(fh.fileno())
        final = self.directory / f"{Path(tmp).stem.removeprefix('.tmp-')}-{key}.eml"
        os.replace(tmp, final)
        log.info("e-mail to %s written to %s", msg["To"], final)
        return str(final)


class SmtpOutbox:
    """``smtp://user:pass@host:port`` (STARTTLS when offered) or ``smtps://`` (implicit TLS)."""

    def __init__(self, url: str, timeout: float = 10.0):
        u = urlparse(url)
        if u.scheme not in ("smtp", "smtps") or not u.hostname:
            raise ConfigError("SMTP_URL must look like smtp://user:password@host:587")
        self.scheme, self.host = u.scheme, u.hostname
        self.port = u.port or (465 if u.scheme == "smtps" else 25)
        self.user = unquote(u.username) if u.username else None
        self.password = unquote(u.password) if u.password else None
        self.timeout = timeout

    def send(self, msg: EmailMessage) -> str:
        if self.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if self.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(msg)
        log.info("e-mail to %s sent over SMTP to %s:%s", msg["To"], self.host, self.port)
        return f"smtp://{self.host}:{self.port}"


def make_outbox(smtp_url: str, outbox_dir: Path) -> Outbox:
    return SmtpOutbox(smtp_url) if smtp_url else FileOutbox(outbox_dir)

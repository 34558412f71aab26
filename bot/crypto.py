"""Secrets at rest: refresh tokens and token caches are encrypted with a key derived from
``BOT_SECRET_KEY``; without it, the embedded default generates ``$BOT_VAR_DIR/secret.key``
(mode 0600) on first use. Also HMAC-signed, expiring tokens for links we hand out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import ConfigError


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"meeting-booking-chat", info=purpose).derive(secret)


def load_secret(secret_key: str, var_dir: Path) -> bytes:
    """The configured secret, or one generated once under ``var_dir`` with 0600 permissions."""
    if secret_key:
        if len(secret_key) < 16:
            raise ConfigError("BOT_SECRET_KEY must be at least 16 characters")
        return secret_key.encode()
    path = var_dir / "secret.key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


class Vault:
    """Encrypt and sign with keys derived from one secret."""

    def __init__(self, secret: bytes):
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"encrypt tokens at rest")))
        self._sign_key = _derive(secret, b"sign links")

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("a stored secret cannot be decrypted: was BOT_SECRET_KEY changed?") from exc

    def sign(self, payload: dict[str, Any], ttl_seconds: int) -> str:
        body = dict(payload, exp=int(time.time()) + ttl_seconds)
        raw = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()).rstrip(b"=")
        mac = base64.urlsafe_b64encode(hmac.new(self._sign_key, raw, hashlib.sha256).digest()).rstrip(b"=")
        return f"{raw.decode()}.{mac.decode()}"

    def verify(self, token: str) -> dict[str, Any] | None:
        """The payload of a token we signed and that has not expired; otherwise None."""
        try:
            raw, mac = token.encode().split(b".", 1)
            expected = base64.urlsafe_b64encode(hmac.new(self._sign_key, raw, hashlib.sha256).digest()).rstrip(b"=")
            if not hmac.compare_digest(mac, expected):
                return None
            body = json.loads(base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4)))
        except (ValueError, TypeError):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("exp"), int) or body["exp"] < time.time():
            return None
        return body

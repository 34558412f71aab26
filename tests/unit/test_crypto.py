"""Secrets at rest and signed links."""

from __future__ import annotations

import stat

import pytest

from bot.crypto import Vault, load_secret
from bot.errors import ConfigError


def test_generated_key_is_private_and_stable(tmp_path):
    first = load_secret("", tmp_path)
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert load_secret("", tmp_path) == first and len(first) >= 32


def test_configured_key_wins_and_must_be_long_enough(tmp_path):
    assert load_secret("x" * 20, tmp_path) == b"x" * 20
    assert not (tmp_path / "secret.key").exists()
    with pytest.raises(ConfigError, match="at least 16"):
        load_secret("short", tmp_path)


def test_encryption_round_trip_and_wrong_key():
    token = Vault(b"k" * 32).encrypt("1//refresh-token")
    assert "refresh" not in token and Vault(b"k" * 32).decrypt(token) == "1//refresh-token"
    with pytest.raises(ConfigError, match="BOT_SECRET_KEY"):
        Vault(b"other" * 8).decrypt(token)


def test_signed_links_reject_tampering_other_keys_and_expiry():
    v = Vault(b"k" * 32)
    token = v.sign({"email": "a@b.c"}, 60)
    assert v.verify(token)["email"] == "a@b.c"
    body, mac = token.split(".")
    assert v.verify(body[:-2] + "xx." + mac) is None
    assert Vault(b"z" * 32).verify(token) is None
    assert v.verify(v.sign({"email": "a@b.c"}, -1)) is None
    assert v.verify("garbage") is None and v.verify("") is None

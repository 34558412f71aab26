"""Exposure rules of the process supervisor: Rasa's HTTP API needs a token beyond loopback."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.ops.supervisor import Stack
from bot.settings import Settings, load_settings


def _argv(stack: Stack, name: str) -> list[str]:
    return next(p.argv for p in stack.procs if p.name == name)


def test_rasa_beyond_loopback_requires_a_token(tmp_path):
    with pytest.raises(ConfigError, match="RASA_TOKEN"):
        Stack(Settings(var_dir=tmp_path, host="0.0.0.0"))
    stack = Stack(Settings(var_dir=tmp_path, host="0.0.0.0", rasa_token="s3cret-token-value"))
    argv = _argv(stack, "rasa")
    assert argv[argv.index("--auth-token") + 1] == "s3cret-token-value"
    assert stack.proc("rasa").ready_url.endswith("/status?token=s3cret-token-value")


def test_the_local_demo_on_loopback_runs_without_a_token(tmp_path):
    stack = Stack(Settings(var_dir=tmp_path))
    assert "--auth-token" not in _argv(stack, "rasa")
    argv = _argv(stack, "rasa")
    assert argv[argv.index("-i") + 1] == "127.0.0.1"
    assert stack.env["SANIC_HOST"] == "127.0.0.1"  # the action server binds to loopback too


def test_secrets_stay_out_of_the_settings_repr():
    s = load_settings(
        {"RASA_TOKEN": "tok-123456789", "BOT_SECRET_KEY": "k" * 32, "GOOGLE_CLIENT_SECRET": "gsecret-xyz"},
        dotenv=False,
    )
    text = repr(s)
    assert "tok-123456789" not in text and "k" * 32 not in text and "gsecret-xyz" not in text

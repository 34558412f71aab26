"""WIDGET_ORIGINS: parsed and checked in bot/settings.py, and the one list every process gets —
Rasa's ``--cors`` (make run and the scaled topology), the environment of all processes (Rasa's
socket.io channel and the web relay read it there)."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.ops.scale import ScaleConfig, Topology
from bot.ops.supervisor import Stack
from bot.settings import Settings, load_settings, origin_of, parse_origins


def origins(env: dict[str, str]) -> tuple[str, ...]:
    return load_settings(env, dotenv=False).widget_origins


def test_the_default_is_public_urls_origin_only():
    assert origins({}) == ("http://localhost:8000",)
    assert origins({"WEB_PORT": "8123"}) == ("http://localhost:8123",)
    assert origins({"PUBLIC_URL": "https://Chat.Acme.com:443/bot/"}) == ("https://chat.acme.com",)
    assert origins({"PUBLIC_URL": "https://chat.acme.com", "WIDGET_ORIGINS": " , "}) == ("https://chat.acme.com",)


def test_a_list_is_normalised_as_browsers_send_origin():
    raw = "https://WWW.acme.com/, https://shop.acme.com:443 ,http://127.0.0.1:8080,https://www.acme.com,http://x.io:80"
    assert origins({"WIDGET_ORIGINS": raw}) == (
        "https://www.acme.com",
        "https://shop.acme.com",
        "http://127.0.0.1:8080",
        "http://x.io",
    )
    # The list replaces the default: PUBLIC_URL's origin is not added behind one's back.
    assert origins({"PUBLIC_URL": "https://chat.acme.com", "WIDGET_ORIGINS": "https://www.acme.com"}) == (
        "https://www.acme.com",
    )


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("*", "wildcard"),
        ("https://*.acme.com", "wildcard"),
        ("www.acme.com", "not an origin"),
        ("ftp://acme.com", "not an origin"),
        ("https://", "not an origin"),
        ("https://www.acme.com/chat", "no path"),
        ("https://www.acme.com/?a=1", "no path"),
        ("https://www.acme.com#x", "no path"),
        ("https://user@www.acme.com", "no user name"),
        ("https://www.acme.com:0", "bad port"),
        ("https://www.acme.com:99999", "bad port"),
        ("https://www.acme.com:http", "bad port"),
        ("https://www.acme.com:", "bad port"),
        ("https://www_acme.com", "bad host"),
        ("https://[::1]:8000", "IPv6"),
    ],
)
def test_a_bad_entry_is_a_config_error_naming_it(entry, why):
    with pytest.raises(ConfigError, match=why) as err:
        load_settings({"WIDGET_ORIGINS": f"https://ok.example,{entry}"}, dotenv=False)
    assert "WIDGET_ORIGINS" in str(err.value) and repr(entry) in str(err.value)


def test_origin_of():
    assert origin_of("HTTP://LocalHost:8000/x?y#z") == "http://localhost:8000"
    assert origin_of("https://a.example:443") == "https://a.example"
    assert origin_of("not a url") == ""
    assert parse_origins("") == ()


def _argv(stack: Stack, name: str) -> list[str]:
    return next(p.argv for p in stack.procs if p.name == name)


def _cors(argv: list[str]) -> list[str]:
    i = argv.index("--cors")
    out = []
    for arg in argv[i + 1 :]:
        if arg.startswith("-"):
            break
        out.append(arg)
    return out


def test_make_run_gives_rasa_the_list_and_every_process_the_same(tmp_path):
    listed = ("https://www.acme.com", "http://127.0.0.1:4100")
    stack = Stack(Settings(var_dir=tmp_path, widget_origins=listed))
    assert _cors(_argv(stack, "rasa")) == list(listed)
    assert stack.env["WIDGET_ORIGINS"] == "https://www.acme.com,http://127.0.0.1:4100"
    default = Stack(load_settings({"BOT_VAR_DIR": str(tmp_path), "WEB_PORT": "8123"}, dotenv=False))
    assert _cors(_argv(default, "rasa")) == ["http://localhost:8123"]


def test_the_scaled_topology_gives_every_rasa_server_the_list(tmp_path):
    listed = ("https://www.acme.com",)
    topo = Topology(
        Settings(var_dir=tmp_path, widget_origins=listed),
        ScaleConfig(database_url="postgresql://u@127.0.0.1:5432/a", tracker_url="postgresql://u@127.0.0.1:5432/b"),
    )
    rasas = [p for p in topo.procs if p.name.startswith("rasa-")]
    assert len(rasas) == 2 and all(_cors(p.argv) == list(listed) for p in rasas)
    assert topo.env["WIDGET_ORIGINS"] == "https://www.acme.com"

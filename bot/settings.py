"""One frozen settings object, read from the environment (and a ``.env`` file, if any).

Every variable is documented in the README's configuration table.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import ConfigError


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, as a browser writes it in ``Origin`` (lower case, no
    default port); "" when the URL has no scheme or host."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return ""
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS.get(scheme) else "")


def parse_origins(raw: str, name: str = "WIDGET_ORIGINS") -> tuple[str, ...]:
    """The comma-separated origins of ``raw``, each ``http(s)://host[:port]`` and nothing more,
    normalised the way browsers send ``Origin`` (lower case, no trailing slash, no default port).

    Refused with a ConfigError naming the entry: anything with a path, query, fragment or user
    name, another scheme, a bad port, an IPv6 literal (Rasa's CORS would read its brackets as a
    pattern), and ``*`` or any wildcard: the list names each site that may embed the chat.
    """
    out: list[str] = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        if "*" in entry:
            raise ConfigError(
                f"{name}: {entry!r} is a wildcard, and any website could then run the chat in its pages "
                "(and book on your calendars in your name): list each origin, e.g. https://www.example.com"
            )
        parts = urlsplit(entry)
        what = f"{name}: {entry!r} is not an origin (scheme://host[:port], e.g. https://www.example.com)"
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.netloc:
            raise ConfigError(what)
        if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in entry or "#" in entry:
            raise ConfigError(f"{what}: no path, query or fragment")
        if "@" in parts.netloc:
            raise ConfigError(f"{what}: no user name")
        host = (parts.hostname or "").lower()
        if host.startswith("[") or ":" in host:
            raise ConfigError(f"{what}: use a host name, not an IPv6 literal")
        if not _HOST_RE.fullmatch(host) or len(host) > 253:
            raise ConfigError(f"{what}: bad host name")
        try:
            port = parts.port  # raises on a port out of range or not a number
        except ValueError:
            port = 0
        if port == 0 or parts.netloc.endswith(":"):
            raise ConfigError(f"{what}: bad port")
        origin = origin_of(entry)
        if origin not in out:
            out.append(origin)
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    var_dir: Path = Path("var")
    database_url: str = ""
    smtp_url: str = ""
    secret_key: str = field(default="", repr=False)
    public_url: str = "http://localhost:8000"
    mail_from: str = "Meetings <meetings@localhost>"
    host: str = "127.0.0.1"
    web_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_url: str = "http://127.0.0.1:5005"
    default_queue: str = "sales"
    #: routing rules (bot/booking/routing_rules.py); "" for none: every visitor meets the page's queue
    routing_file: str = ""
    offer_ttl_minutes: int = 15
    slots_per_page: int = 5
    provider_timeout_seconds: float = 4.0
    google_client_id: str = ""
    google_client_secret: str = field(default="", repr=False)
    google_api_base_url: str = "https://www.googleapis.com"
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    google_revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    microsoft_client_id: str = ""
    microsoft_client_secret: str = field(default="", repr=False)
    microsoft_authority: str = "https://login.microsoftonline.com/common"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    microsoft_ca_bundle: str = ""
    caldav_ca_bundle: str = ""
    #: Required for Rasa's HTTP API whenever Rasa listens beyond loopback (and for the scaled setup).
    rasa_token: str = field(default="", repr=False)
    outbox_retry_base_seconds: float = 5.0
    outbox_retry_max_seconds: float = 900.0
    outbox_max_attempts: int = 20
    #: A booking still pending this long after its last change was interrupted: the worker settles it.
    reconcile_after_seconds: float = 120.0
    worker_interval_seconds: float = 1.0
    #: The web process also runs the outbox worker and the reconciler (the embedded default).
    web_runs_worker: bool = True
    #: Origins whose pages may embed the chat (WIDGET_ORIGINS; default PUBLIC_URL's): Rasa's
    #: --cors, the /chat relay's CORS and the Origin check of the socket.io handshake.
    widget_origins: tuple[str, ...] = ("http://localhost:8000",)

    @property
    def rasa_urls(self) -> list[str]:
        """RASA_URL may list several servers, comma-separated (the scaled topology)."""
        return [u.strip().rstrip("/") for u in self.rasa_url.split(",") if u.strip()]

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'bot.db').resolve()}"


def load_settings(env: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build settings from ``env`` (default: the process environment plus ``.env``).

    Values already in the environment win over ``.env``.
    """
    if env is None:
        if dotenv:
            from dotenv import dotenv_values

            file_values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
        else:
            file_values = {}
        env = {**file_values, **os.environ}
    rasa_port = _int(env, "RASA_PORT", 5005)
    host = env.get("BOT_HOST", "127.0.0.1")
    web_port = _int(env, "WEB_PORT", 8000)
    public_url = (env.get("PUBLIC_URL") or f"http://localhost:{web_port}").rstrip("/")
    widget_origins = parse_origins(env.get("WIDGET_ORIGINS") or "")
    if not widget_origins:
        if not origin_of(public_url):
            raise ConfigError(f"PUBLIC_URL must be an absolute http(s) URL, got {public_url!r}")
        widget_origins = (origin_of(public_url),)
    return Settings(
        var_dir=Path(env.get("BOT_VAR_DIR") or "var"),
        database_url=env.get("DATABASE_URL", ""),
        smtp_url=env.get("SMTP_URL", ""),
        secret_key=env.get("BOT_SECRET_KEY", ""),
        public_url=public_url,
        mail_from=env.get("MAIL_FROM", "Meetings <meetings@localhost>"),
        host=host,
        web_port=web_port,
        rasa_port=rasa_port,
        action_port=_int(env, "ACTION_PORT", 5055),
        rasa_url=(env.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/"),
        default_queue=env.get("DEFAULT_QUEUE", "sales"),
        routing_file=env.get("ROUTING_FILE", str(Path(__file__).resolve().parents[1] / "routing.yml")),
        offer_ttl_minutes=_int(env, "OFFER_TTL_MINUTES", 15),
        slots_per_page=_int(env, "SLOTS_PER_PAGE", 5),
        provider_timeout_seconds=float(env.get("PROVIDER_TIMEOUT_SECONDS") or 4.0),
        google_client_id=env.get("GOOGLE_CLIENT_ID", ""),
        google_client_secret=env.get("GOOGLE_CLIENT_SECRET", ""),
        google_api_base_url=(env.get("GOOGLE_API_BASE_URL") or Settings.google_api_base_url).rstrip("/"),
        google_auth_uri=env.get("GOOGLE_AUTH_URI") or Settings.google_auth_uri,
        google_token_uri=env.get("GOOGLE_TOKEN_URI") or Settings.google_token_uri,
        google_revoke_uri=env.get("GOOGLE_REVOKE_URI") or Settings.google_revoke_uri,
        microsoft_client_id=env.get("MICROSOFT_CLIENT_ID", ""),
        microsoft_client_secret=env.get("MICROSOFT_CLIENT_SECRET", ""),
        microsoft_authority=(env.get("MICROSOFT_AUTHORITY") or Settings.microsoft_authority).rstrip("/"),
        graph_base_url=(env.get("GRAPH_BASE_URL") or Settings.graph_base_url).rstrip("/"),
        microsoft_ca_bundle=env.get("MICROSOFT_CA_BUNDLE", ""),
        caldav_ca_bundle=env.get("CALDAV_CA_BUNDLE", ""),
        rasa_token=env.get("RASA_TOKEN", ""),
        outbox_retry_base_seconds=_float(env, "OUTBOX_RETRY_BASE_SECONDS", 5.0),
        outbox_retry_max_seconds=_float(env, "OUTBOX_RETRY_MAX_SECONDS", 900.0),
        outbox_max_attempts=_int(env, "OUTBOX_MAX_ATTEMPTS", 20),
        reconcile_after_seconds=_float(env, "RECONCILE_AFTER_SECONDS", 120.0),
        worker_interval_seconds=_float(env, "WORKER_INTERVAL_SECONDS", 1.0),
        web_runs_worker=env.get("WEB_RUNS_WORKER", "1").strip().lower() not in ("0", "false", "no", "off"),
        widget_origins=widget_origins,
    )

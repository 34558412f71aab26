"""The scaled topology on this machine: several Rasa servers, several action servers, web
processes and a worker, on one Postgres and one Redis (deploy/README.md has the picture).

``python -m bot scale-up`` starts it in the foreground (Ctrl-C stops it all); the tests in
``tests/scale`` start it through :class:`Topology`. Everything binds to 127.0.0.1. Rasa's HTTP
API requires ``RASA_TOKEN`` here (generated when not set).
"""

from __future__ import annotations

import secrets
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlparse

from bot.errors import ConfigError
from bot.ops.supervisor import ROOT, Proc, Stack, _token_query, free_port, rasa_cors_args
from bot.settings import Settings

ENDPOINTS = ROOT / "deploy" / "endpoints.scale.yml"


@dataclass(frozen=True)
class PgTarget:
    host: str
    port: int
    db: str
    user: str
    password: str

    @classmethod
    def parse(cls, url: str) -> PgTarget:
        u = urlparse(url)
        if not u.scheme.startswith("postgresql") or not u.path.strip("/"):
            raise ConfigError(f"expected postgresql://user@host:port/db, got {url!r}")
        return cls(
            u.hostname or "127.0.0.1",
            u.port or 5432,
            u.path.strip("/"),
            unquote(u.username or "postgres"),
            unquote(u.password or ""),
        )

    def url(self, db: str | None = None) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{db or self.db}"


@contextmanager
def _admin(target: PgTarget) -> Iterator[Any]:
    """A cursor on the server's ``postgres`` database, autocommit (CREATE/DROP DATABASE)."""
    import psycopg2

    conn = psycopg2.connect(
        host=target.host, port=target.port, user=target.user, password=target.password or None, dbname="postgres"
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def ensure_database(target: PgTarget) -> None:
    """CREATE DATABASE if it is missing."""
    with _admin(target) as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.db,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{target.db}"')


def drop_database(target: PgTarget) -> None:
    with _admin(target) as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (target.db,),
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{target.db}"')


@dataclass
class ScaleConfig:
    database_url: str  # our store (postgresql://...)
    tracker_url: str  # Rasa's SQL tracker store (another database on the same server is fine)
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_key_prefix: str = "bot"
    rasa: int = 2
    actions: int = 2
    web: int = 1
    worker: bool = True
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    model: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


class Topology(Stack):
    """``rasa`` Rasa servers (rasa-i talks to actions-(i mod n)), ``actions`` action servers,
    ``web`` web processes relaying /chat to the Rasa servers by a hash of the sender, and a worker.
    """

    def __init__(self, settings: Settings, cfg: ScaleConfig, *, log_dir: Path | None = None):
        tracker = PgTarget.parse(cfg.tracker_url)
        PgTarget.parse(cfg.database_url)
        redis = urlparse(cfg.redis_url)
        super().__init__(settings, model=cfg.model, log_dir=log_dir, env=cfg.extra_env)
        py = sys.executable
        self.cfg = cfg
        self.env.update(
            DATABASE_URL=cfg.database_url,
            RASA_TOKEN=cfg.rasa_token,
            WEB_RUNS_WORKER="0",
            SANIC_HOST="127.0.0.1",
            TRACKER_DB_HOST=tracker.host,
            TRACKER_DB_PORT=str(tracker.port),
            TRACKER_DB_NAME=tracker.db,
            TRACKER_DB_USER=tracker.user,
            TRACKER_DB_PASSWORD=tracker.password,
            REDIS_HOST=redis.hostname or "127.0.0.1",
            REDIS_PORT=str(redis.port or 6379),
            REDIS_DB=(redis.path.strip("/") or "0"),
            REDIS_KEY_PREFIX=cfg.redis_key_prefix,
        )
        self.action_ports = [free_port() for _ in range(cfg.actions)]
        self.rasa_ports = [free_port() for _ in range(cfg.rasa)]
        self.web_ports = [free_port() for _ in range(cfg.web)]
        procs: list[Proc] = []
        for i, port in enumerate(self.action_ports, 1):
            argv = [py, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
            procs.append(Proc(f"actions-{i}", argv, f"http://127.0.0.1:{port}/health"))
        for i, port in enumerate(self.rasa_ports, 1):
            argv = [py, "-m", "rasa", "run", "--enable-api", "--auth-token", cfg.rasa_token, "-i", "127.0.0.1"]
            argv += ["-p", str(port), "--endpoints", str(ENDPOINTS), "--credentials", str(ROOT / "credentials.yml")]
            argv += rasa_cors_args(settings)
            if cfg.model:
                argv += ["--model", cfg.model]
            action_port = self.action_ports[(i - 1) % len(self.action_ports)] if self.action_ports else 9
            env = {"ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook"}
            ready = f"http://127.0.0.1:{port}/status{_token_query(cfg.rasa_token)}"
            procs.append(Proc(f"rasa-{i}", argv, ready, env=env))
        rasa_urls = ",".join(self.rasa_urls)
        for i, port in enumerate(self.web_ports, 1):
            argv = [py, "-m", "bot", "serve", "--port", str(port)]
            procs.append(Proc(f"web-{i}", argv, f"http://127.0.0.1:{port}/health", env={"RASA_URL": rasa_urls}))
        if cfg.worker:
            procs.append(Proc("worker", [py, "-m", "bot", "worker"], None))
        self.procs = procs

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.rasa_ports]

    @property
    def action_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.action_ports]

    @property
    def web_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.web_ports]

    def prepare(self) -> None:
        """Create both databases if needed and migrate our store."""
        from bot.store import Store

        ensure_database(PgTarget.parse(self.cfg.database_url))
        ensure_database(PgTarget.parse(self.cfg.tracker_url))
        store = Store(self.cfg.database_url)
        try:
            store.migrate()
        finally:
            store.dispose()


__all__ = ["Topology", "ScaleConfig", "PgTarget", "ensure_database", "drop_database"]

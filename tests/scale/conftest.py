"""The scaled topology on this machine's Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379).

Each test session gets fresh databases (dropped afterwards) and its own Redis key prefix.
``PG_ADMIN_URL`` / ``REDIS_URL`` point elsewhere if needed.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Iterator

import pytest
import redis as redis_lib
from sqlalchemy import text

from bot.ops.scale import PgTarget, ScaleConfig, Topology, drop_database, ensure_database
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Base

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def databases() -> Iterator[tuple[str, str]]:
    """(our store's URL, Rasa's tracker store URL): two fresh Postgres databases."""
    admin = PgTarget.parse(PG_ADMIN_URL)
    tag = secrets.token_hex(4)
    store, tracker = (PgTarget(admin.host, admin.port, f"bot_scale_{tag}_{n}", admin.user, admin.password)
                      for n in ("store", "tracker"))  # fmt: skip
    for t in (store, tracker):
        ensure_database(t)
    yield store.url(), tracker.url()
    for t in (store, tracker):
        drop_database(t)


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    prefix = f"botscale{secrets.token_hex(4)}"  # Rasa ignores a prefix that is not alphanumeric
    yield prefix
    r = redis_lib.Redis.from_url(REDIS_URL)
    keys = list(r.scan_iter(f"{prefix}*"))
    if keys:
        r.delete(*keys)


def start_topology(
    tmp: Path, databases: tuple[str, str], redis_prefix: str, **kw
) -> Topology:
    store_url, tracker_url = databases
    var = tmp / "var"
    env = {"BOT_VAR_DIR": str(var), **kw.pop("extra_env", {})}
    cfg = ScaleConfig(
        database_url=store_url,
        tracker_url=tracker_url,
        redis_url=REDIS_URL,
        redis_key_prefix=redis_prefix,
        extra_env=env,
        **kw,
    )
    settings = Settings(var_dir=var, database_url=store_url)
    topo = Topology(settings, cfg, log_dir=var / "logs")
    topo.prepare()
    try:
        topo.start(timeout=400)
    except RuntimeError:
        dump_logs(var / "logs")
        raise
    return topo


def dump_logs(log_dir: Path) -> None:
    for log in sorted(log_dir.glob("*.log")):
        sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}\n")


@pytest.fixture
def pg_store(databases: tuple[str, str]) -> Iterator[Store]:
    """Our store on this session's Postgres database, migrated and emptied for each test."""
    store = Store(databases[0])
    store.migrate()
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield store
    store.dispose()

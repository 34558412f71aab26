"""The Redis lock store Rasa uses to serialise one sender's messages across processes.

These tests talk to the real Redis at 127.0.0.1:6379 (keys under a random per-test prefix,
deleted afterwards) and race several OS processes, each with its own store instance, on one
conversation, as several Rasa servers do when one visitor's messages are load-balanced.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import queue
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.utils import read_endpoints_from_path
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext.lock_store import AtomicRedisLockStore

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
REDIS_DB = 1
CONVERSATION = "visitor-42"
# fork: children inherit the imported modules, so starting 8 of them takes milliseconds.
CTX = multiprocessing.get_context("fork")


@pytest.fixture
def key_prefix() -> Iterator[str]:
    prefix = "locktest" + uuid.uuid4().hex  # Rasa only accepts alphanumeric prefixes
    yield prefix
    red = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    keys = list(red.scan_iter(match=f"{prefix}:*"))
    if keys:
        red.delete(*keys)
    red.close()


def _store(cls: type[RedisLockStore], key_prefix: str) -> RedisLockStore:
    return cls(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, key_prefix=key_prefix)


def _redis() -> redis.Redis:
    return redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)


def _stored_tickets(key_prefix: str) -> list[int]:
    raw = _redis().get(f"{key_prefix}:lock:{CONVERSATION}")
    if raw is None:
        return []
    return [ticket.number for ticket in TicketLock.from_dict(json.loads(raw)).tickets]


# --- running workers in separate processes ---------------------------------------------


def _child(fn: Callable[..., Any], index: int, args: tuple[Any, ...], results: Any) -> None:
    try:
        results.put((index, True, fn(*args)))
    except BaseException:  # report anything, the parent fails the test with it
        results.put((index, False, traceback.format_exc()))


def _run_in_processes(fn: Callable[..., Any], args_per_process: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Runs ``fn(*args)`` in one process per entry and returns the results in order."""
    results = CTX.Queue()
    processes = [
        CTX.Process(target=_child, args=(fn, index, args, results), daemon=True)
        for index, args in enumerate(args_per_process)
    ]
    for process in processes:
        process.start()
    collected: dict[int, Any] = {}
    try:
        for _ in processes:
            index, ok, value = results.get(timeout=60)
            assert ok, f"worker {index} failed:\n{value}"
            collected[index] = value
    except queue.Empty:
        pytest.fail("a worker process did not report within 60 s")
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return [collected[index] for index in range(len(processes))]


# --- workers (module level, run in the child processes) --------------------------------


def _issue_and_finish_previous(
    cls: type[RedisLockStore], key_prefix: str, count: int, start: Any
) -> tuple[list[int], list[int]]:
    """Issues ``count`` tickets; after each, finishes this process's previous ticket.

    The newest ticket of every process stays in the lock, so the lock's last ticket is never
    finished and, done atomically, every ticket number is issued once.
    """
    store = _store(cls, key_prefix)
    issued: list[int] = []
    finished: list[int] = []
    start.wait()
    for _ in range(count):
        issued.append(store.issue_ticket(CONVERSATION, lock_lifetime=60))
        if len(issued) > 1:
            store.finish_serving(CONVERSATION, issued[-2])
            finished.append(issued[-2])
    return issued, finished


def _run_ticket_race(cls: type[RedisLockStore], key_prefix: str, processes: int, count: int) -> dict[str, Any]:
    start = CTX.Barrier(processes)
    outcomes = _run_in_processes(_issue_and_finish_previous, [(cls, key_prefix, count, start)] * processes)
    issued = [number for numbers, _ in outcomes for number in numbers]
    finished = [number for _, numbers in outcomes for number in numbers]
    return {
        "issued": issued,
        "duplicates": len(issued) - len(set(issued)),
        "unfinished": sorted(set(issued) - set(finished)),
        "stored": _stored_tickets(key_prefix),
    }


def _sections(key_prefix: str, worker: int, count: int, start: Any) -> int:
    """Runs ``count`` critical sections under ``store.lock`` and logs each one in Redis."""
    store = _store(AtomicRedisLockStore, key_prefix)
    red = _redis()
    inside_key, log_key = f"{key_prefix}:inside", f"{key_prefix}:log"

    async def run() -> int:
        for section in range(count):
            async with store.lock(CONVERSATION, lock_lifetime=30, wait_time_in_seconds=0.005) as lock:
                entered = time.monotonic()
                inside = red.incr(inside_key)  # how many sections are running right now
                await asyncio.sleep(0.003)  # hold the lock a moment: others poll meanwhile
                queued = [ticket.number for ticket in store.get_lock(CONVERSATION).tickets]
                red.decr(inside_key)
                left = time.monotonic()
                entry = dict(worker=worker, section=section, ticket=lock.now_serving, inside=inside, queued=queued)
                red.rpush(log_key, json.dumps(dict(entry, entered=entered, left=left)))
        return count

    start.wait()
    return asyncio.run(run())


def _finish(key_prefix: str, tickets: list[int], start: Any) -> None:
    store = _store(AtomicRedisLockStore, key_prefix)
    start.wait()
    for ticket in tickets:
        store.finish_serving(CONVERSATION, ticket)


def _issue(key_prefix: str, count: int, start: Any) -> list[int]:
    store = _store(AtomicRedisLockStore, key_prefix)
    start.wait()
    issued = []
    for _ in range(count):
        issued.append(store.issue_ticket(CONVERSATION, lock_lifetime=60))
        store.update_lock(CONVERSATION)  # what a waiting message does between polls
    return issued


class _RasaCleanupStore(AtomicRedisLockStore):
    """Our store with Rasa's own ``cleanup``: finish, then "anyone waiting?", then ``DEL``."""

    cleanup = LockStore.cleanup


def _issue_check_clean_up(cls: type[RedisLockStore], key_prefix: str, count: int, start: Any) -> int:
    """Takes a ticket, checks it is still queued, cleans up; returns how many had vanished."""
    store = _store(cls, key_prefix)
    vanished = 0
    start.wait()
    for _ in range(count):
        ticket = store.issue_ticket(CONVERSATION, lock_lifetime=60)
        lock = store.get_lock(CONVERSATION)  # as `_acquire_lock` does before serving it
        if lock is None or ticket not in [queued.number for queued in lock.tickets]:
            vanished += 1
        store.cleanup(CONVERSATION, ticket)
    return vanished


def _by_kind(kind: str, *args: Any) -> Any:
    return {"finish": _finish, "issue": _issue}[kind](*args)


# --- tests -----------------------------------------------------------------------------


def test_rasa_builds_the_store_from_an_endpoints_file_with_env_strings(tmp_path: Path, key_prefix, monkeypatch):
    monkeypatch.setenv("LOCKTEST_REDIS_HOST", REDIS_HOST)
    monkeypatch.setenv("LOCKTEST_REDIS_PORT", str(REDIS_PORT))
    monkeypatch.setenv("LOCKTEST_REDIS_DB", str(REDIS_DB))
    monkeypatch.setenv("LOCKTEST_REDIS_PASSWORD", "")
    monkeypatch.setenv("LOCKTEST_REDIS_SSL", "false")
    endpoints_file = tmp_path / "endpoints.yml"
    endpoints_file.write_text(
        "lock_store:\n"
        "  type: bot.rasa_ext.lock_store.AtomicRedisLockStore\n"
        "  url: ${LOCKTEST_REDIS_HOST}\n"
        "  port: ${LOCKTEST_REDIS_PORT}\n"
        "  db: ${LOCKTEST_REDIS_DB}\n"
        "  password: ${LOCKTEST_REDIS_PASSWORD}\n"
        "  use_ssl: ${LOCKTEST_REDIS_SSL}\n"
        '  socket_timeout: "5"\n'
        f"  key_prefix: {key_prefix}\n"
    )

    config = read_endpoints_from_path(endpoints_file).lock_store
    assert config.kwargs["port"] == str(REDIS_PORT) and config.kwargs["password"] == ""  # strings, as promised
    store = LockStore.create(config)

    assert type(store) is AtomicRedisLockStore and isinstance(store, RedisLockStore)
    connection = store.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == (REDIS_HOST, REDIS_PORT, REDIS_DB)
    assert connection["password"] is None and connection["socket_timeout"] == 5.0
    assert store.key_prefix == f"{key_prefix}:lock:"
    assert [store.issue_ticket(CONVERSATION), store.issue_ticket(CONVERSATION)] == [0, 1]
    assert _stored_tickets(key_prefix) == [0, 1]


def test_constructor_takes_redis_lock_store_arguments_and_rejects_bad_config(key_prefix):
    store = AtomicRedisLockStore(host="", port="6379", db=" 1 ", password="", use_ssl="", key_prefix=key_prefix)
    connection = store.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"], connection["password"]) == (
        "localhost",
        6379,
        1,
        None,
    )
    with pytest.raises(ValueError, match="port"):
        AtomicRedisLockStore(port="six")
    with pytest.raises(ValueError, match="use_ssl"):
        AtomicRedisLockStore(use_ssl="maybe")
    with pytest.raises(TypeError, match="record_exp"):
        LockStore.create(
            EndpointConfig(url="localhost", type="bot.rasa_ext.lock_store.AtomicRedisLockStore", record_exp=5)
        )


def test_stored_lock_stays_compatible_with_rasas_redis_lock_store(key_prefix):
    ours, rasas = _store(AtomicRedisLockStore, key_prefix), _store(RedisLockStore, key_prefix)
    assert rasas.issue_ticket(CONVERSATION) == 0
    assert ours.issue_ticket(CONVERSATION) == 1
    assert rasas.issue_ticket(CONVERSATION) == 2
    ours.finish_serving(CONVERSATION, 0)
    assert [t.number for t in rasas.get_lock(CONVERSATION).tickets] == [1, 2]
    assert ours.get_lock(CONVERSATION).dumps() == rasas.get_lock(CONVERSATION).dumps()
    ours.cleanup(CONVERSATION, 1)
    assert rasas.get_lock(CONVERSATION).now_serving == 2
    ours.cleanup(CONVERSATION, 2)
    assert rasas.get_lock(CONVERSATION) is None  # deleted once nobody waits


def test_concurrent_ticket_race_is_lossless_with_atomic_store_and_lossy_with_rasas(key_prefix):
    """8 processes x 50 tickets on one conversation, each finishing its previous ticket."""
    processes, count = 8, 50

    ours = _run_ticket_race(AtomicRedisLockStore, key_prefix, processes, count)
    assert ours["duplicates"] == 0
    assert sorted(ours["issued"]) == list(range(processes * count))  # no number skipped either
    assert len(ours["unfinished"]) == processes  # every process's newest ticket...
    assert ours["stored"] == ours["unfinished"]  # ...and nothing else is in the lock

    _redis().delete(f"{key_prefix}:lock:{CONVERSATION}")
    rasas = _run_ticket_race(RedisLockStore, key_prefix, processes, count)
    # Rasa's GET-then-SET hands out the same number twice, and/or loses or resurrects tickets.
    assert rasas["duplicates"] > 0 or rasas["stored"] != rasas["unfinished"], rasas


def test_lock_sections_from_many_processes_never_overlap_and_run_in_ticket_order(key_prefix):
    processes, count = 6, 6
    start = CTX.Barrier(processes)

    done = _run_in_processes(_sections, [(key_prefix, worker, count, start) for worker in range(processes)])

    assert done == [count] * processes  # no section was lost or failed to get the lock
    log = [json.loads(entry) for entry in _redis().lrange(f"{key_prefix}:log", 0, -1)]  # in serving order
    assert sorted((e["worker"], e["section"]) for e in log) == [(w, s) for w in range(processes) for s in range(count)]
    assert all(e["inside"] == 1 for e in log)  # nobody else was inside when a section entered
    spans = sorted((e["entered"], e["left"]) for e in log)
    assert all(left <= next_entered for (_, left), (next_entered, _) in zip(spans, spans[1:], strict=False))
    # Ticket order: the section being served is at the head of the queue, and the next section
    # served holds the next ticket; only when nobody was queued behind it may the lock have
    # been deleted and numbering restarted at 0.
    assert all(e["queued"][0] == e["ticket"] for e in log)
    assert log[0]["ticket"] == 0
    for served, following in zip(log, log[1:], strict=False):
        expected = {served["ticket"] + 1} if len(served["queued"]) > 1 else {served["ticket"] + 1, 0}
        assert following["ticket"] in expected, (served, following)
    assert any(len(e["queued"]) > 1 for e in log)  # the processes really did queue up
    assert _stored_tickets(key_prefix) == [] and int(_redis().get(f"{key_prefix}:inside")) == 0


def test_finish_serving_under_contention_never_drops_a_waiting_ticket(key_prefix):
    finishers, per_finisher, issuers, per_issuer = 4, 30, 4, 30
    store = _store(AtomicRedisLockStore, key_prefix)
    preissued = [store.issue_ticket(CONVERSATION) for _ in range(finishers * per_finisher + 1)]
    # The finishers remove all pre-issued tickets but the newest one, interleaved.
    to_finish = [preissued[index:-1:finishers] for index in range(finishers)]
    start = CTX.Barrier(finishers + issuers)

    results = _run_in_processes(
        _by_kind,
        [("finish", key_prefix, tickets, start) for tickets in to_finish]
        + [("issue", key_prefix, per_issuer, start)] * issuers,
    )

    issued = sorted(number for numbers in results[finishers:] for number in numbers)
    first_new = preissued[-1] + 1
    assert issued == list(range(first_new, first_new + issuers * per_issuer))
    assert _stored_tickets(key_prefix) == [preissued[-1], *issued]


def test_cleanup_never_deletes_a_lock_another_process_just_queued_on(key_prefix):
    """4 processes x 200 back-to-back messages: the queue keeps emptying and refilling."""
    processes, count = 4, 200

    def race(cls: type[RedisLockStore]) -> int:
        start = CTX.Barrier(processes)
        return sum(_run_in_processes(_issue_check_clean_up, [(cls, key_prefix, count, start)] * processes))

    assert race(AtomicRedisLockStore) == 0
    assert _redis().exists(f"{key_prefix}:lock:{CONVERSATION}") == 0  # the last one out deleted it
    # Rasa's check-then-delete lets a cleanup delete a lock holding another process's fresh
    # ticket; in Rasa that message then fails with "Could not acquire lock".
    assert race(_RasaCleanupStore) > 0

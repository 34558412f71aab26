"""A Redis lock store whose ticket operations are atomic across Rasa processes.

Rasa 3.6's ``RedisLockStore`` keeps one JSON document per conversation (a ``TicketLock``
with its queue of tickets) and changes it in two separate calls: ``GET`` the lock, change it
in Python, ``SET`` it back. When two Rasa processes handle messages from the same sender at
the same time, both can read the same queue, so both hand out the same ticket number, or the
second ``SET`` silently drops the ticket the first one just added (or brings back a ticket that
was already finished). ``cleanup`` is worse still: "is anyone waiting?" and ``DEL`` are two
more calls, so it can delete a lock that another process has just put its ticket in.

``AtomicRedisLockStore`` does every read-modify-write of a conversation's lock as an
optimistic Redis transaction: ``WATCH`` the key, ``GET`` and decode it, apply Rasa's own
``TicketLock`` logic in Python, then ``MULTI`` / ``SET`` (or ``DEL``) / ``EXEC``. If another
client wrote the key in between, ``EXEC`` fails with ``WatchError``, nothing is written, and
the whole step is redone on fresh data (a failed round means another client's write went
through, so the retries always make progress; after ``TRANSACTION_ATTEMPTS`` failed rounds a
``LockError`` is raised). This covers ``issue_ticket``, ``finish_serving``, ``update_lock``
(the expiry sweep a waiting message runs between polls) and ``cleanup`` (finish the ticket and
delete the lock only if its queue is now empty, in one transaction).

Why ``WATCH``/``MULTI``/``EXEC`` rather than a Lua script: the ticket rules stay Rasa's own
code (``TicketLock.issue_ticket`` / ``remove_ticket_for`` / ``remove_expired_tickets``) and the
stored value is still exactly ``TicketLock.dumps()``, so plain ``RedisLockStore`` processes,
``get_lock`` and existing keys stay compatible. A Lua port would duplicate that logic and
re-encode the ticket expiry floats with Redis' cjson (14 significant digits). Contention is
per conversation, i.e. per visitor, so retries are rare and cheap.

Configured in an endpoints file like this (values may come from environment variables, so
they may arrive as strings; an empty password means "no password")::

    lock_store:
      type: bot.rasa_ext.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: ${REDIS_DB}
      password: ${REDIS_PASSWORD}
      key_prefix: bot
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any, Callable, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    LockError,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import WatchError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _Keep:
    """Marker: the transaction leaves the stored lock as it is."""


class _Delete:
    """Marker: the transaction deletes the stored lock."""


KEEP = _Keep()
DELETE = _Delete()
Outcome = TicketLock | _Keep | _Delete

# Keys of the `lock_store` section of an endpoints file that this class understands
# (`url` is the host, as for Rasa's `type: redis`).
_OPTIONS = (
    "host",
    "port",
    "db",
    "username",
    "password",
    "use_ssl",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_ca_certs",
    "key_prefix",
    "socket_timeout",
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    return None if _blank(value) else str(value).strip()


def _int(name: str, value: Any, default: int) -> int:
    if _blank(value):
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"Lock store option '{name}' must be an integer, not {value!r}.") from None


def _float(name: str, value: Any, default: float) -> float:
    if _blank(value):
        return default
    try:
        return float(str(value).strip())
    except ValueError:
        raise ValueError(f"Lock store option '{name}' must be a number, not {value!r}.") from None


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"Lock store option '{name}' must be true or false, not {value!r}.")


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` with atomic ticket operations (see the module docstring)."""

    # Failed optimistic rounds (another client wrote the lock in between) before giving up.
    TRANSACTION_ATTEMPTS = 200

    def __init__(
        self,
        host: str | None = "localhost",
        port: int | str | None = 6379,
        db: int | str | None = 1,
        username: str | None = None,
        password: str | None = None,
        use_ssl: bool | str | None = False,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_ca_certs: str | None = None,
        key_prefix: str | None = None,
        socket_timeout: float | str | None = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
        endpoint_config: EndpointConfig | None = None,
    ) -> None:
        """Connects to Redis.

        Rasa builds a custom lock store as ``cls(endpoint_config=...)``; the keyword
        arguments are those of ``RedisLockStore``. Values in ``endpoint_config`` win over the
        keyword arguments. Numbers and booleans may be strings, empty strings mean "not set".
        """
        options: dict[str, Any] = dict(
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            use_ssl=use_ssl,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            ssl_ca_certs=ssl_ca_certs,
            key_prefix=key_prefix,
            socket_timeout=socket_timeout,
        )
        if endpoint_config is not None:
            options.update(self._options_from_endpoint(endpoint_config))

        super().__init__(
            host=_text(options["host"]) or "localhost",
            port=_int("port", options["port"], 6379),
            db=_int("db", options["db"], 1),
            username=_text(options["username"]),
            # Not stripped: a password may legitimately contain spaces; only "" means none.
            password=None if options["password"] in (None, "") else str(options["password"]),
            use_ssl=_bool("use_ssl", options["use_ssl"]),
            ssl_certfile=_text(options["ssl_certfile"]),
            ssl_keyfile=_text(options["ssl_keyfile"]),
            ssl_ca_certs=_text(options["ssl_ca_certs"]),
            key_prefix=_text(options["key_prefix"]),
            socket_timeout=_float("socket_timeout", options["socket_timeout"], DEFAULT_SOCKET_TIMEOUT_IN_SECONDS),
        )

    @staticmethod
    def _options_from_endpoint(endpoint_config: EndpointConfig) -> dict[str, Any]:
        options = dict(endpoint_config.kwargs)
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise TypeError(
                f"Unknown option(s) {unknown} in the lock_store section of the endpoints file; "
                f"known: url, {', '.join(_OPTIONS)}."
            )
        if not _blank(endpoint_config.url):
            options["host"] = endpoint_config.url
        return options

    # --- the atomic read-modify-write -------------------------------------------------

    def _transact(self, conversation_id: str, step: Callable[[TicketLock | None], tuple[T, Outcome]]) -> T:
        """Runs ``step`` on the stored lock and writes its outcome, atomically.

        ``step`` gets the decoded lock (``None`` if there is none) and returns ``(result,
        outcome)`` where outcome is a ``TicketLock`` to store, ``KEEP`` or ``DELETE``. It may
        run several times (once per optimistic round), so it must not have side effects.
        """
        key = self.key_prefix + conversation_id
        for attempt in range(self.TRANSACTION_ATTEMPTS):
            with self.red.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    result, outcome = step(lock)
                    if isinstance(outcome, _Keep):
                        return result
                    pipe.multi()
                    if isinstance(outcome, _Delete):
                        pipe.delete(key)
                    else:
                        pipe.set(key, outcome.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    # Someone else's write went through; redo on fresh data. After a few
                    # immediate retries, back off a little (with jitter) to spread them out.
                    if attempt >= 3:
                        time.sleep(random.uniform(0, min(0.0005 * 2 ** (attempt - 3), 0.02)))
        raise LockError(
            f"Could not update the lock for conversation '{conversation_id}': it changed "
            f"{self.TRANSACTION_ATTEMPTS} times while being updated."
        )

    # --- LockStore operations that read, change and save the lock ----------------------

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issues the next ticket for ``conversation_id`` (creating the lock if needed)."""
        logger.debug(f"Issuing ticket for conversation '{conversation_id}'.")

        def step(lock: TicketLock | None) -> tuple[int, Outcome]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._transact(conversation_id, step)
        except Exception as e:
            # Same contract as Rasa's `LockStore.issue_ticket`.
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Removes ticket ``ticket_number`` (and expired tickets) from the lock."""

        def step(lock: TicketLock | None) -> tuple[None, Outcome]:
            if lock is None:
                return None, KEEP
            before = len(lock.tickets)
            lock.remove_ticket_for(ticket_number)
            return None, (lock if len(lock.tickets) != before else KEEP)

        self._transact(conversation_id, step)

    def update_lock(self, conversation_id: str) -> None:
        """Removes expired tickets from the lock (run by a waiting message between polls)."""

        def step(lock: TicketLock | None) -> tuple[None, Outcome]:
            if lock is None:
                return None, KEEP
            before = len(lock.tickets)
            lock.remove_expired_tickets()
            return None, (lock if len(lock.tickets) != before else KEEP)

        self._transact(conversation_id, step)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finishes ``ticket_number`` and deletes the lock if nobody is waiting, atomically."""

        def step(lock: TicketLock | None) -> tuple[bool, Outcome]:
            if lock is None:
                return False, KEEP
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                return False, lock
            return True, DELETE

        if self._transact(conversation_id, step):
            self._log_deletion(conversation_id, deletion_successful=True)

"""What the fake providers share: fault switches, token bookkeeping helpers, lifecycle."""

from __future__ import annotations

from collections import deque
from typing import Any


class FaultSwitches:
    """``fail_next`` / ``delay_next`` per route; a subclass names its ``ROUTES`` and the details a
    failure may carry (``FAIL_DEFAULTS``). Needs ``self._lock``, ``self._access``, ``self._refresh``."""

    ROUTES: tuple[str, ...] = ()
    FAIL_DEFAULTS: dict[str, Any] = {}

    def _init_switches(self) -> None:
        self._failures: dict[str, deque] = {r: deque() for r in self.ROUTES}
        self._delays: dict[str, deque] = {r: deque() for r in self.ROUTES}

    def _check_route(self, route: str) -> None:
        if route not in self.ROUTES:
            raise ValueError(f"unknown route {route!r}; expected one of {sorted(self.ROUTES)}")

    def fail_next(self, route: str, status: int, *, times: int = 1, **details: Any) -> None:
        """The next ``times`` calls to ``route`` answer ``status`` with these details."""
        self._check_route(route)
        unknown = set(details) - set(self.FAIL_DEFAULTS)
        if unknown:
            raise TypeError(f"fail_next got unknown details {sorted(unknown)}")
        with self._lock:
            self._failures[route].extend([dict(self.FAIL_DEFAULTS, status=status, **details)] * times)

    def recover(self, route: str) -> None:
        """The outage is over: failures still queued for ``route`` are dropped."""
        self._check_route(route)
        with self._lock:
            self._failures[route].clear()

    def delay_next(self, route: str, seconds: float, times: int = 1) -> None:
        self._check_route(route)
        with self._lock:
            self._delays[route].extend([seconds] * times)

    def issued_secrets(self) -> set[str]:
        """Every credential this fake handed out or holds: client secret, codes, access and
        refresh tokens (the log scan looks for each of them)."""
        with self._lock:
            return {self.client_secret, *self._codes, *self._access, *self._refresh}

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (the API answers 401)."""
        with self._lock:
            for info in self._access.values():
                info["expired"] = True

    def issued_refresh_tokens(self) -> list[str]:
        with self._lock:
            return list(self._refresh)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

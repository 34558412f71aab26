"""A real Radicale 3 CalDAV server, in-process on a free 127.0.0.1 port, in a temp folder.

htpasswd auth with ``plain`` encryption (the default hash makes every request slow), owner-only
rights. ``faults`` lets a test make the server answer 503 or hang past the client's timeout; a
wrong password is a real 401 from Radicale.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import radicale
import radicale.config


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:  # noqa: D102 - no access log in test output
        pass


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@dataclass
class Faults:
    #: Answer this status (e.g. 503) to every request while set.
    status: int | None = None
    retry_after: str | None = None
    #: Sleep this long before answering (past the client's timeout).
    delay: float = 0.0
    #: Only requests whose method is in here (empty: all).
    methods: set[str] = field(default_factory=set)
    seen: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.status, self.retry_after, self.delay, self.methods = None, None, 0.0, set()


class Radicale:
    def __init__(self, folder: Path, users: dict[str, str]):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.htpasswd = folder / "users"
        self.users = dict(users)
        self._write_users()
        cfg = radicale.config.load([])
        cfg.update(
            {
                "auth": {"type": "htpasswd", "htpasswd_filename": str(self.htpasswd), "htpasswd_encryption": "plain",
                         "delay": "0"},  # Radicale waits ~1 s after each failed login (the client's first, unauthenticated request too)
                "storage": {"filesystem_folder": str(folder / "collections")},
                "rights": {"type": "owner_only"},
                "logging": {"level": "warning", "mask_passwords": "True"},
            },
            "test",
        )
        self.faults = Faults()
        app = radicale.Application(cfg)
        self._server = make_server("127.0.0.1", 0, self._wrap(app), server_class=_Threading, handler_class=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="radicale", daemon=True)
        self._thread.start()

    def _write_users(self) -> None:
        self.htpasswd.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))

    def make_calendars(self, user: str, calendars: dict[str, str]) -> None:
        """Make ``{id: display name}`` calendars for ``user``, through a real CalDAV client."""
        import caldav

        client = caldav.DAVClient(url=self.url, username=user, password=self.users[user], enable_rfc6764=False)
        principal = client.principal()
        for cal_id, name in calendars.items():
            principal.make_calendar(name=name, cal_id=cal_id)

    def set_password(self, user: str, password: str) -> None:
        self.users[user] = password
        self._write_users()

    def _wrap(self, app: Callable) -> Callable:
        def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
            f = self.faults
            method = environ["REQUEST_METHOD"]
            f.seen.append(f"{method} {environ.get('PATH_INFO', '')}")
            if not f.methods or method in f.methods:
                if f.delay:
                    time.sleep(f.delay)
                if f.status:
                    headers = [("Content-Type", "text/plain")]
                    if f.retry_after is not None:
                        headers.append(("Retry-After", f.retry_after))
                    start_response(f"{f.status} Fault", headers)
                    return [b"injected fault"]
            return app(environ, start_response)

        return wsgi

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

"""A Sanic app served for real on a free loopback port from its own thread (the fuzz tests
talk HTTP to it, so every byte goes through Sanic's own parsing)."""

from __future__ import annotations

import asyncio
import http.client
import threading
from typing import Any

from bot.ops.supervisor import free_port


class Served:
    """A Sanic app on a free loopback port, served from its own thread and event loop."""

    def __init__(self, app: Any):
        self.app, self.port = app, free_port()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"test server did not start: {self._error!r}")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self.loop.run_until_complete(
                self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False)
            )
            self.loop.run_until_complete(self.server.startup())
            self.loop.run_until_complete(self.server.before_start())
            self.loop.run_until_complete(self.server.after_start())
        except BaseException as exc:  # reported to the constructor
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def call(self, fn: Any) -> Any:
        """Run ``fn()`` on the server's loop (for touching ``app.ctx``)."""
        done = threading.Event()
        out: list[Any] = []
        self.loop.call_soon_threadsafe(lambda: (out.append(fn()), done.set()))
        done.wait(10)
        return out[0]

    def stop(self) -> None:
        async def shutdown() -> None:
            await self.server.before_stop()
            await self.server.close()
            await self.server.after_stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def post(self, path: str, body: bytes, content_type: str | None = "application/json") -> tuple[int, str, bytes]:
        return self.request("POST", path, body, {"Content-Type": content_type} if content_type else {})

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            try:
                conn.request(method, path, body=body, headers=headers or {})
            except (BrokenPipeError, ConnectionResetError):
                # The server answered before reading the whole body (a 413 for a body over the
                # limit) and closed: read that answer, as a browser does.
                pass
            resp = conn.getresponse()
            self.last_headers = resp.headers
            return resp.status, resp.getheader("Content-Type") or "", resp.read()
        finally:
            conn.close()

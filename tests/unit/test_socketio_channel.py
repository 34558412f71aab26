"""The socket.io channel (bot/rasa_ext/channels.py: SocketIOInput) mounted the way `rasa run
--cors ...` mounts it: Rasa's own ``configure_cors`` (sanic-cors) on the app, then Rasa's
``register()``; served for real from a background thread, so the polling handshake and the
WebSocket upgrade go through Sanic's own parsing.

What is checked: a page of an allowed origin polls and opens a socket (one
``Access-Control-Allow-Origin``, its own); another origin gets 403 on both, with no CORS header,
and is logged once however often it tries; a client without ``Origin`` (not a browser) passes; the
channel keeps upstream's name, keys and path.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import uuid
from typing import Any

import pytest
import socketio
import structlog
import websockets
from rasa.core.channels import BUILTIN_CHANNELS
from rasa.core.channels.channel import UserMessage, register
from rasa.core.channels.socketio import SocketIOInput as UpstreamSocketIOInput
from rasa.server import configure_cors
from sanic import Sanic

from bot.inputs import MAX_REPORTED_ORIGINS, OriginGate
from bot.rasa_ext.channels import SocketIOInput, _report_refused
from tests.served import Served

ALLOWED = "http://127.0.0.1:4100"
OTHER_ALLOWED = "https://www.acme.example"
FOREIGN = "http://127.0.0.1:4200"
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


class EchoAgent:
    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"echo {message.text}")


@pytest.fixture(scope="module")
def served():
    before = os.environ.get("WIDGET_ORIGINS")
    os.environ["WIDGET_ORIGINS"] = f"{ALLOWED},{OTHER_ALLOWED}/"
    try:
        app = Sanic(f"socketio_channel_test_{uuid.uuid4().hex[:8]}")
        configure_cors(app, [ALLOWED, OTHER_ALLOWED])  # what `rasa run --cors A B` does
        app.ctx.agent = EchoAgent()
        channel = SocketIOInput.from_credentials(
            {
                "user_message_evt": "user_uttered",
                "bot_message_evt": "bot_uttered",
                "session_persistence": True,
                "metadata_key": "customData",
            }
        )
        register([channel], app, route="/webhooks/")
        s = Served(app)
    finally:
        if before is None:
            os.environ.pop("WIDGET_ORIGINS", None)
        else:
            os.environ["WIDGET_ORIGINS"] = before
    s.channel = channel
    yield s
    s.call(_cancel_pings)  # of the sessions the polling handshakes opened: quiet at loop close
    s.stop()


def _cancel_pings() -> None:
    for task in asyncio.all_tasks():
        if getattr(task.get_coro(), "__name__", "") == "_send_ping":
            task.cancel()


def get(served: Served, path: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def acao(headers: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in headers if k.lower() == "access-control-allow-origin"]


def test_the_channel_keeps_upstreams_name_keys_and_path(served):
    assert SocketIOInput.name() == "socketio" == UpstreamSocketIOInput.name()
    assert issubclass(SocketIOInput, UpstreamSocketIOInput) and BUILTIN_CHANNELS["socketio"] is UpstreamSocketIOInput
    ch = served.channel
    assert (ch.socketio_path, ch.metadata_key, ch.session_persistence) == ("/socket.io", "customData", True)
    assert ch.origin_gate.allowed == {ALLOWED, OTHER_ALLOWED}  # read from WIDGET_ORIGINS, normalised


@pytest.mark.parametrize("origin", [ALLOWED, OTHER_ALLOWED, OTHER_ALLOWED.upper().replace("HTTPS", "https")])
def test_an_allowed_page_polls_with_exactly_one_cors_header(served, origin):
    status, headers, body = get(served, HANDSHAKE, {"Origin": origin})
    assert status == 200, body
    assert body.startswith(b"0{") and b'"sid"' in body  # engine.io's open packet
    # sanic-cors (Rasa's --cors) answers CORS; engine.io adds nothing of its own.
    assert acao(headers) == [origin], headers
    assert dict((k.lower(), v) for k, v in headers).get("vary") == "Origin"


def test_a_foreign_page_cannot_poll(served):
    for _ in range(3):
        status, headers, body = get(served, HANDSHAKE, {"Origin": FOREIGN})
        assert status == 403 and acao(headers) == [], (status, headers)
        assert "WIDGET_ORIGINS" in json.loads(body)["error"]
    # Not even with a session id of a real session (a poll, not a handshake).
    _, _, opened = get(served, HANDSHAKE, {"Origin": ALLOWED})
    sid = json.loads(opened[1:])["sid"]
    status, headers, _ = get(served, f"{HANDSHAKE}&sid={sid}", {"Origin": FOREIGN})
    assert status == 403 and acao(headers) == []
    # "null" (a sandboxed frame, a file:// page) is an origin like any other: not on the list.
    assert get(served, HANDSHAKE, {"Origin": "null"})[0] == 403


def test_without_origin_it_is_not_a_browser_and_passes(served):
    status, _, body = get(served, HANDSHAKE, {})
    assert status == 200 and body.startswith(b"0{")


def _ws_url(served: Served) -> str:
    return f"ws://127.0.0.1:{served.port}/socket.io/?EIO=4&transport=websocket"


def test_a_foreign_page_cannot_open_a_websocket(served):
    async def attempt(origin: str | None) -> Any:
        async with websockets.connect(_ws_url(served), origin=origin, open_timeout=10) as ws:
            return await asyncio.wait_for(ws.recv(), 10)

    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        asyncio.run(attempt(FOREIGN))
    assert refused.value.status_code == 403
    assert str(asyncio.run(attempt(ALLOWED))).startswith("0{")  # the open packet


def test_an_allowed_page_chats_over_the_websocket_with_its_custom_data(served):
    served.app.ctx.agent.messages.clear()

    async def chat() -> list[Any]:
        client = socketio.AsyncClient(reconnection=False)
        got: asyncio.Queue = asyncio.Queue()

        @client.on("bot_uttered")
        async def bot_uttered(data: Any) -> None:
            await got.put(data)

        @client.on("session_confirm")
        async def session_confirm(sid: str) -> None:
            await got.put({"session": sid})

        await client.connect(
            f"http://127.0.0.1:{served.port}", headers={"Origin": ALLOWED}, transports=["websocket"], wait_timeout=10
        )
        try:
            await client.emit("session_request", {"session_id": "s-allowed"})
            first = await asyncio.wait_for(got.get(), 10)
            await client.emit(
                "user_uttered", {"message": "hi", "session_id": "s-allowed", "customData": {"queue": "q"}}
            )
            return [first, await asyncio.wait_for(got.get(), 10)]
        finally:
            await client.disconnect()

    assert asyncio.run(chat()) == [{"session": "s-allowed"}, {"text": "echo hi"}]
    [message] = served.app.ctx.agent.messages
    assert (message.sender_id, message.metadata, message.input_channel) == ("s-allowed", {"queue": "q"}, "socketio")

    async def foreign() -> None:
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(
                f"http://127.0.0.1:{served.port}", headers={"Origin": FOREIGN}, transports=["polling"], wait_timeout=5
            )
        finally:
            await client.disconnect()

    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(foreign())


def test_a_message_over_the_limit_gets_the_reason_not_the_agent(served):
    served.app.ctx.agent.messages.clear()

    async def chat() -> Any:
        client = socketio.AsyncClient(reconnection=False)
        got: asyncio.Queue = asyncio.Queue()
        client.on("bot_uttered", got.put)
        client.on("session_confirm", lambda sid: got.put_nowait({"session": sid}))
        await client.connect(
            f"http://127.0.0.1:{served.port}", headers={"Origin": ALLOWED}, transports=["websocket"], wait_timeout=10
        )
        try:
            await client.emit("session_request", {"session_id": "s-long"})
            await asyncio.wait_for(got.get(), 10)
            long = "ciao, vi scrivo per raccontarvi il nostro progetto nei dettagli " * 40
            await client.emit("user_uttered", {"message": long, "session_id": "s-long", "customData": {}})
            return await asyncio.wait_for(got.get(), 10)
        finally:
            await client.disconnect()

    reply = asyncio.run(chat())
    assert "2000" in reply["text"] and "caratteri" in reply["text"]  # in the visitor's language
    assert served.app.ctx.agent.messages == []


def test_a_refused_origin_is_logged_once():
    gate = OriginGate([ALLOWED], lambda origin: _report_refused(origin, [ALLOWED]))
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            assert not gate.admits(FOREIGN)
            assert not gate.admits(FOREIGN.upper())  # the same origin, however it is written
            assert gate.admits(ALLOWED) and gate.admits(None)
        assert not gate.admits("https://evil.example")
    refused = [e for e in logs if e["event"] == "socketio.origin.refused"]
    assert [e["origin"] for e in refused] == [FOREIGN, "https://evil.example"]
    assert refused[0]["log_level"] == "warning" and refused[0]["allowed"] == [ALLOWED]


def test_made_up_origins_cannot_flood_the_log():
    gate = OriginGate([ALLOWED], lambda origin: _report_refused(origin, [ALLOWED]))
    with structlog.testing.capture_logs() as logs:
        for i in range(MAX_REPORTED_ORIGINS + 50):
            assert not gate.admits(f"https://x{i}.example")
    assert len(logs) == MAX_REPORTED_ORIGINS + 1 and logs[-1]["event"] == "socketio.origin.refused.many"

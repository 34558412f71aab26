"""Rasa's REST channel with the request checked before Rasa sees it.

Named in ``credentials.yml`` as ``bot.rasa_ext.channels.RestInput``. ``name()`` is still
"rest", so the URL stays ``POST /webhooks/rest/webhook`` (DESIGN.md contract 3) and replies
are the same list of bot messages as upstream, ``?stream=true`` included.

Upstream answers 500 or misbehaves on a body that is not a JSON object, a non-string sender or
message, metadata that is not an object, huge texts, lone surrogates. Here every such request gets
HTTP 400 (413 over 64 KB) ``{"error": "<what is wrong>"}`` and never reaches the agent. The rules
are in :func:`parse_payload`; everything the web app's ``POST /chat`` relay lets through passes
them (the relay is stricter), so the relay never forwards a message that is refused here.

Also Rasa's ``socketio`` channel (rasa-webchat's, and our widget's), named in ``credentials.yml``
as ``bot.rasa_ext.channels.SocketIOInput``: the same name, URL path and configuration keys, plus an
``Origin`` check on every socket.io request (see :class:`SocketIOInput`).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import structlog
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as UpstreamRestInput
from rasa.core.channels.socketio import SocketIOInput as UpstreamSocketIOInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.i18n.replies import too_long
from bot.inputs import OriginGate, nesting_depth
from bot.settings import load_settings

structlogger = structlog.get_logger()

MAX_BODY_BYTES = 64 * 1024
MAX_SENDER = 128
MAX_MESSAGE = 2000
MAX_METADATA = 8192  # characters of json.dumps(metadata), as the web app's /chat relay counts
MAX_METADATA_DEPTH = 16  # objects/arrays inside one another, metadata itself included
MAX_INPUT_CHANNEL = 64
SENDER_RE = re.compile(rf"[A-Za-z0-9_.@:-]{{1,{MAX_SENDER}}}")
INPUT_CHANNEL_RE = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_INPUT_CHANNEL}}}")


class PayloadError(ValueError):
    """The request body breaks a rule; ``str(exc)`` is the message for the client."""

    def __init__(self, message: str, status: int = 400, reply: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.reply = reply  # a bot message for the visitor, when the refusal is theirs to read


@dataclass(frozen=True)
class Payload:
    sender: str
    message: str
    metadata: dict[str, Any] | None
    input_channel: str | None


class _NotStandardJSON(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotStandardJSON(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotStandardJSON(text)
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_payload(raw: bytes) -> Payload:
    """The checked message of a request body, or PayloadError saying what is wrong."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadError(f"request body must be at most 64 KB ({MAX_BODY_BYTES} bytes)", 413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("request body must be JSON encoded as UTF-8") from None
    try:
        body = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except _NotStandardJSON:
        raise PayloadError("request body must be standard JSON: no NaN, Infinity or out-of-range numbers") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"request body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError:  # an integer of more than 4300 digits
        raise PayloadError("request body is not valid JSON (a number is too large)") from None
    except RecursionError:
        raise PayloadError("request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise PayloadError('request body must be a JSON object: {"sender": "...", "message": "..."}')

    sender = body.get("sender")
    if not isinstance(sender, str) or not SENDER_RE.fullmatch(sender):
        raise PayloadError(f"sender must be a string of 1-{MAX_SENDER} letters, digits, '-', '_', '.', '@' or ':'")

    message = body.get("message")
    if not isinstance(message, str):
        raise PayloadError("message must be a string")
    if not message.strip():
        raise PayloadError("message must not be empty")
    if len(message) > MAX_MESSAGE:
        reply = too_long(sender, message, body.get("metadata"), MAX_MESSAGE)
        raise PayloadError(f"message must be at most {MAX_MESSAGE} characters", reply=reply)
    if "\x00" in message:
        raise PayloadError("message must not contain NUL characters")
    if not _encodable(message):
        raise PayloadError("message must be valid Unicode (no lone surrogates)")

    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise PayloadError("metadata must be a JSON object")
        if nesting_depth(metadata, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
            raise PayloadError(f"metadata must not nest objects or arrays more than {MAX_METADATA_DEPTH} levels deep")
        # Shallow (checked above) and finite (checked by the parser): these cannot raise.
        if len(json.dumps(metadata)) > MAX_METADATA:
            raise PayloadError(f"metadata must be at most {MAX_METADATA} characters as JSON")
        if not _encodable(json.dumps(metadata, ensure_ascii=False)):
            raise PayloadError("metadata must be valid Unicode (no lone surrogates)")

    input_channel = body.get("input_channel")
    if input_channel == "":
        input_channel = None  # upstream treats "" as absent too
    if input_channel is not None and (not isinstance(input_channel, str) or not INPUT_CHANNEL_RE.fullmatch(input_channel)):
        raise PayloadError(f"input_channel must be a string of 1-{MAX_INPUT_CHANNEL} letters, digits, '-', '_' or '.'")

    return Payload(sender, message, metadata, input_channel)


def _bad_request(message: str, status: int = 400, reply: dict[str, Any] | None = None) -> HTTPResponse:
    """``{"error": ...}``; with ``messages`` (bot messages, as a 200 has) when the visitor should
    read why ("that message is too long"), so a chat widget can show it as the bot's answer."""
    body: dict[str, Any] = {"error": message}
    if reply is not None:
        body["messages"] = [reply]
    return response.json(body, status=status)


class RestInput(UpstreamRestInput):
    """``rest`` with validation: invalid requests get 400 ``{"error": ...}``, never the agent."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            try:
                payload = parse_payload(request.body or b"")
            except PayloadError as exc:
                structlogger.info("rest.message.rejected", reason=str(exc))
                return _bad_request(str(exc), exc.status, exc.reply)
            sender_id, text, metadata = payload.sender, payload.message, payload.metadata
            input_channel = payload.input_channel or self.name()

            if bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender_id, input_channel, metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(text, collector, sender_id, input_channel=input_channel, metadata=metadata)
                )
            except asyncio.CancelledError:
                structlogger.error("rest.message.received.timeout", text=copy.deepcopy(text))
            except Exception:
                structlogger.exception("rest.message.received.failure", text=copy.deepcopy(text))
            return response.json(collector.messages)

        return webhook


def _report_refused(origin: str | None, allowed: list[str]) -> None:
    if origin is None:
        structlogger.warning("socketio.origin.refused.many", hint="many origins refused: no longer logging each")
    else:
        structlogger.warning(
            "socketio.origin.refused",
            origin=origin,
            allowed=allowed,
            hint="a page of this origin may not use the chat; WIDGET_ORIGINS lists those that may "
            "(logged once per origin)",
        )


class SocketIOInput(UpstreamSocketIOInput):
    """``socketio`` that only pages of WIDGET_ORIGINS may use.

    Upstream builds its socket.io server with ``cors_allowed_origins=[]``, which turns
    python-engineio's origin check off: any page could poll or open a WebSocket. Here every
    engine.io request (the polling handshake and polls, and the WebSocket upgrade, which browsers
    never subject to CORS) is checked before engine.io sees it: an ``Origin`` header outside
    WIDGET_ORIGINS gets 403 and nothing else; a request without one (not a browser) goes through.

    The CORS headers themselves come from Rasa's ``--cors`` (sanic-cors, for every Rasa route),
    which the supervisor sets from the same list; engine.io adds none (``[]`` stays), so an
    answer carries exactly one ``Access-Control-Allow-Origin``.
    """

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        assert self.sio is not None  # set by upstream's blueprint()
        allowed = list(load_settings().widget_origins)
        gate = OriginGate(allowed, lambda origin: _report_refused(origin, allowed))
        eio = self.sio.eio
        handle = eio.handle_request  # what SocketBlueprint.register() routes /socket.io/ to

        @functools.wraps(handle)
        async def handle_request(request: Request, *args: Any, **kwargs: Any) -> Any:
            if not gate.admits(request.headers.get("origin")):
                return response.json({"error": "this site may not embed the chat (WIDGET_ORIGINS)"}, status=403)
            return await handle(request, *args, **kwargs)

        eio.handle_request = handle_request
        self.origin_gate = gate
        self._limit_messages()
        return webhook

    def _limit_messages(self) -> None:
        """A message over MAX_MESSAGE (our widget stops at it; others may not) is not handed to
        Rasa: the page gets the bot's answer saying so, in the visitor's language, as the REST
        channel's 400 carries it."""
        assert self.sio is not None
        handlers = self.sio.handlers.get(self.namespace or "/", {})
        upstream = handlers[self.user_message_evt]
        sio, event = self.sio, self.bot_message_evt

        @functools.wraps(upstream)
        async def handle_message(sid: str, data: Any) -> None:
            message = data.get("message") if isinstance(data, dict) else None
            if isinstance(message, str) and len(message) > MAX_MESSAGE:
                sender = data.get("session_id") if isinstance(data.get("session_id"), str) else sid
                reply = too_long(sender, message, data.get(self.metadata_key), MAX_MESSAGE)
                structlogger.info("socketio.message.rejected", reason="too long", length=len(message))
                await sio.emit(event, {"text": reply["text"]}, room=sid)
                return
            await upstream(sid, data)

        handlers[self.user_message_evt] = handle_message

"""The checked REST channel (bot/rasa_ext/channels.py), mounted the way Rasa mounts it.

Rasa's own ``register()`` puts the channel's blueprint under ``/webhooks/rest`` on a Sanic app
served from a background thread; the "agent" records every message it is handed and answers one
text. Valid requests must reach it intact; anything else gets 400 (413 when too large) with
``{"error": ...}`` and never reaches it. An independent re-statement of the rules (``accepts``)
is the oracle for the hypothesis cases.
"""

from __future__ import annotations

import http.client
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.core.channels import BUILTIN_CHANNELS
from rasa.core.channels.channel import UserMessage, register
from rasa.shared.utils.common import class_from_module_path
from rasa.shared.utils.io import read_config_file
from sanic import Sanic

from bot.rasa_ext.channels import RestInput
from tests.served import Served

ROOT = Path(__file__).resolve().parents[2]
URL = "/webhooks/rest/webhook"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


class RecordingAgent:
    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, "ok")


@pytest.fixture(scope="module")
def served():
    app = Sanic(f"rest_channel_test_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = RecordingAgent()
    register([RestInput()], app, route="/webhooks/")
    s = Served(app)
    yield s
    s.stop()


@pytest.fixture
def agent(served) -> RecordingAgent:
    served.app.ctx.agent.messages.clear()
    return served.app.ctx.agent


# ---- the oracle: the rules, stated independently of the implementation ------------------------------
def accepts(raw: bytes) -> tuple[bool, int]:
    """(valid?, status when not)."""
    if len(raw) > 64 * 1024:
        return False, 413
    try:
        body = json.loads(raw.decode("utf-8"))
        json.dumps(body, allow_nan=False)  # NaN, Infinity, 1e999 anywhere: not standard JSON
    except (ValueError, RecursionError):
        return False, 400
    if not isinstance(body, dict):
        return False, 400

    def unicode_ok(s: str) -> bool:
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in s)

    sender, message = body.get("sender"), body.get("message")
    if not (isinstance(sender, str) and 1 <= len(sender) <= 128 and re.fullmatch(r"[A-Za-z0-9_.@:-]+", sender)):
        return False, 400
    if not (isinstance(message, str) and 1 <= len(message) <= 2000 and not message.isspace()):
        return False, 400
    if "\x00" in message or not unicode_ok(message):
        return False, 400
    def deeper_than(value: Any, levels: int) -> bool:
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            return False
        return levels <= 0 or any(deeper_than(child, levels - 1) for child in children)

    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or deeper_than(metadata, 16):
            return False, 400
        try:
            if len(json.dumps(metadata)) > 8192 or not unicode_ok(json.dumps(metadata, ensure_ascii=False)):
                return False, 400
        except RecursionError:
            return False, 400
    channel = body.get("input_channel")
    if channel not in (None, "") and not (isinstance(channel, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", channel)):
        return False, 400
    return True, 200


def assert_rejected(status: int, ctype: str, out: bytes, expected: int, agent: RecordingAgent) -> str:
    assert status == expected, out[:300]
    assert ctype.startswith("application/json")
    error = json.loads(out)["error"]
    assert isinstance(error, str) and error
    assert agent.messages == [], "a rejected request reached the agent"
    return error


# ---- valid requests reach the agent intact --------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=15,
)
SENDER = st.from_regex(r"\A[A-Za-z0-9_.@:-]{1,128}\Z") | st.sampled_from(
    [uuid.uuid4().hex, str(uuid.uuid4()), "visitor-42", "web-k3j2h1lz", "e2e-anon", "user@example.com", "whatsapp:33612345678"]
)
MESSAGE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=2000).filter(
    lambda s: s.strip()
) | st.sampled_from(["hello", '/choose_slot{"slot_id":"abc"}', "مرحبا", "👩‍👩‍👧‍👦 book", "\u202eevil", "x" * 2000])
METADATA = st.dictionaries(TEXT, JSON, max_size=5).filter(lambda d: len(json.dumps(d)) <= 8192)


@FUZZ
@given(
    sender=SENDER,
    message=MESSAGE,
    metadata=st.none() | METADATA | st.just("absent"),
    channel=st.none() | st.just("") | st.from_regex(r"\A[A-Za-z0-9_.-]{1,64}\Z") | st.just("absent"),
)
def test_valid_messages_reach_the_agent(served, sender, message, metadata, channel):
    agent = served.app.ctx.agent
    agent.messages.clear()
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata != "absent":
        body["metadata"] = metadata
    if channel != "absent":
        body["input_channel"] = channel
    status, _, out = served.post(URL, json.dumps(body).encode())
    assert status == 200, out[:300]
    assert json.loads(out) == [{"recipient_id": sender, "text": "ok"}]
    (got,) = agent.messages
    assert (got.sender_id, got.text, got.metadata) == (sender, message.strip(), None if metadata == "absent" else metadata)
    assert got.input_channel == (channel if channel not in (None, "", "absent") else "rest")


def test_metadata_nested_16_levels_is_fine(served, agent):
    metadata: dict[str, Any] = {"leaf": True}
    for _ in range(15):
        metadata = {"a": metadata}
    status, _, out = served.post(URL, json.dumps({"sender": "deep", "message": "hi", "metadata": metadata}).encode())
    assert status == 200 and agent.messages[0].metadata == metadata


def test_streaming_works_as_upstream(served, agent):
    status, ctype, out = served.post(URL + "?stream=true", b'{"sender": "s1", "message": "hi", "metadata": {"a": 1}}')
    assert status == 200 and ctype.startswith("text/event-stream")
    assert [json.loads(line) for line in out.decode().splitlines()] == [{"recipient_id": "s1", "text": "ok"}]
    assert [(m.sender_id, m.text, m.metadata) for m in agent.messages] == [("s1", "hi", {"a": 1})]


def test_streaming_rejects_bad_bodies_too(served, agent):
    status, ctype, out = served.post(URL + "?stream=true", b'{"sender": "s1", "message": 5}')
    assert_rejected(status, ctype, out, 400, agent)


def test_health_route_and_name(served):
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.request("GET", "/webhooks/rest/")
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read()) == {"status": "ok"}
    conn.close()
    assert RestInput.name() == "rest" and RestInput().url_prefix() == "rest"


def test_credentials_file_loads_our_channel():
    # As rasa.core.run.create_http_input_channels does (importing that module costs ~7 s).
    credentials = read_config_file(str(ROOT / "credentials.yml"))
    channels = [
        (BUILTIN_CHANNELS.get(key) or class_from_module_path(key)).from_credentials(value)
        for key, value in credentials.items()
    ]
    rest = [c for c in channels if c.name() == "rest"]
    assert len(rest) == 1 and type(rest[0]) is RestInput
    assert "socketio" in {c.name() for c in channels}


# ---- what gets rejected, and how it is explained ------------------------------------------------------
CASES = [
    (b"", 400, "JSON"),
    (b"[]", 400, "JSON object"),
    (b'"hi"', 400, "JSON object"),
    (b"null", 400, "JSON object"),
    (b"{", 400, "not valid JSON"),
    (b"\xff\xfe{}", 400, "UTF-8"),
    (b"sender=a&message=b", 400, "not valid JSON"),
    (b'{"message": "hi"}', 400, "sender"),
    (b'{"sender": 42, "message": "hi"}', 400, "sender"),
    (b'{"sender": "", "message": "hi"}', 400, "sender"),
    (b'{"sender": "a b", "message": "hi"}', 400, "sender"),
    (b'{"sender": "abc\\n", "message": "hi"}', 400, "sender"),
    (('{"sender": "%s", "message": "hi"}' % ("s" * 129)).encode(), 400, "sender"),
    (b'{"sender": ["a"], "message": "hi"}', 400, "sender"),
    (b'{"sender": "a"}', 400, "message must be a string"),
    (b'{"sender": "a", "message": 7}', 400, "message must be a string"),
    (b'{"sender": "a", "message": {"text": "hi"}}', 400, "message must be a string"),
    (b'{"sender": "a", "message": ""}', 400, "empty"),
    (b'{"sender": "a", "message": " \\t\\n "}', 400, "empty"),
    (('{"sender": "a", "message": "%s"}' % ("x" * 2001)).encode(), 400, "2000"),
    (b'{"sender": "a", "message": "a\\u0000b"}', 400, "NUL"),
    (b'{"sender": "a", "message": "\\ud800"}', 400, "surrogate"),
    (b'{"sender": "a", "message": "hi", "metadata": "nope"}', 400, "metadata must be a JSON object"),
    (b'{"sender": "a", "message": "hi", "metadata": [1]}', 400, "metadata must be a JSON object"),
    (b'{"sender": "a", "message": "hi", "metadata": {"k": "\\udfff"}}', 400, "surrogate"),
    (b'{"sender": "a", "message": "hi", "metadata": {"k": NaN}}', 400, "NaN"),
    (b'{"sender": "a", "message": "hi", "metadata": {"k": -Infinity}}', 400, "NaN"),
    (b'{"sender": "a", "message": "hi", "metadata": {"k": 1e999}}', 400, "out-of-range"),
    (('{"sender": "a", "message": "hi", "metadata": {"k": "%s"}}' % ("v" * 8200)).encode(), 400, "8192"),
    (('{"sender": "a", "message": "hi", "metadata": {"k": %s}}' % ("1" * 5000)).encode(), 400, "too large"),
    (b'{"sender": "a", "message": "hi", "metadata": {"k": ' + b"[" * 5000 + b"]" * 5000 + b"}}", 400, "deeply"),
    (b'{"sender": "a", "message": "hi", "metadata": ' + b'{"a": ' * 17 + b"1" + b"}" * 17 + b"}", 400, "16 levels"),
    (b'{"sender": "a", "message": "hi", "metadata": {"a": ' + b"[" * 16 + b"]" * 16 + b"}}", 400, "16 levels"),
    (b'{"sender": "a", "message": "hi", "input_channel": 3}', 400, "input_channel"),
    (b'{"sender": "a", "message": "hi", "input_channel": "x/y"}', 400, "input_channel"),
    (json.dumps({"sender": "a", "message": "hi", "pad": "p" * 70_000}).encode(), 413, "64"),
]


@pytest.mark.parametrize("raw,status,words", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_requests_get_a_clear_400(served, agent, raw, status, words):
    assert accepts(raw) == (False, status)
    error = assert_rejected(*served.post(URL, raw), status, agent)
    assert words.lower() in error.lower(), error


# ---- hypothesis: hostile payloads ---------------------------------------------------------------------
@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["any", "fields", "raw", "escape", "nested"]))
    if kind == "any":
        return json.dumps(draw(JSON)).encode()
    if kind == "raw":
        return draw(st.binary(max_size=200))
    if kind == "nested":
        depth = draw(st.integers(1, 3000))
        return b'{"sender": "a", "message": "hi", "metadata": {"x": ' + b"[" * depth + b"]" * depth + b"}}"
    body: dict[str, Any] = {"sender": draw(SENDER), "message": draw(MESSAGE)}
    if kind == "escape":
        raw = json.dumps(body)
        piece = draw(st.sampled_from(['"\\ud83d"', "NaN", "Infinity", "1e400", '"\\u0000"', '"a\\u0000"']))
        field = draw(st.sampled_from(["sender", "message", "metadata", "input_channel"]))
        return (raw[:-1] + f', "{field}": {piece}' + "}").encode()
    for field in draw(st.sets(st.sampled_from(["sender", "message", "metadata", "input_channel"]), min_size=1)):
        body[field] = draw(JSON | st.text(max_size=3000) | st.sampled_from(["", " ", "\x00", "a\nb", "x" * 2001, "é" * 129]))
    return json.dumps(body, ensure_ascii=draw(st.booleans())).encode()


@FUZZ
@given(raw=hostile(), content_type=st.sampled_from(["application/json", "text/plain", None]))
def test_hostile_payloads_never_reach_the_agent_and_never_500(served, raw, content_type):
    agent = served.app.ctx.agent
    agent.messages.clear()
    ok, expected = accepts(raw)
    status, ctype, out = served.post(URL, raw, content_type)
    if ok:
        assert status == 200 and len(agent.messages) == 1, out[:300]
    else:
        assert_rejected(status, ctype, out, expected, agent)


def test_a_message_over_the_limit_is_refused_with_a_reply_to_show(served, agent):
    body = {"sender": "s-long", "message": "hola, os cuento lo que necesitamos para el proyecto " * 50}
    status, ctype, out = served.post(URL, json.dumps(body).encode())
    assert_rejected(status, ctype, out, 400, agent)
    [reply] = json.loads(out)["messages"]
    assert reply["recipient_id"] == "s-long" and "caracteres" in reply["text"]

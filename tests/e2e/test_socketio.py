"""rasa-webchat's transport: socket.io with metadata as `customData` (DESIGN.md contract 3).

The session opens before any metadata (as rasa-webchat does), so the context must come from
each message's `customData`, not from `action_session_start`.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import socketio

pytestmark = pytest.mark.e2e


async def test_known_visitor_books_over_socketio_with_custom_data(stack):
    client = socketio.AsyncClient(reconnection=False)
    replies: asyncio.Queue = asyncio.Queue()
    session_id = uuid.uuid4().hex

    @client.on("bot_uttered")
    async def on_bot(data):
        await replies.put(data)

    await client.connect(stack.rasa, transports=["websocket"], wait_timeout=20)
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.sleep(0.5)
        custom = {
            "person": {"first_name": "Sam", "email": "sam.socket@example.com"},
            "company": {"name": "Socket Inc"},
            "timezone": "Asia/Tokyo",
        }

        async def say(message):
            await client.emit("user_uttered", {"message": message, "session_id": session_id, "customData": custom})
            first = await asyncio.wait_for(replies.get(), timeout=60)
            out = [first]
            while True:
                try:
                    out.append(await asyncio.wait_for(replies.get(), timeout=1.5))
                except asyncio.TimeoutError:
                    return out

        got = await say("I would like to book a meeting")
        quick = [q for r in got for q in r.get("quick_replies", [])]
        assert quick and "Tokyo" in " ".join(r.get("text", "") for r in got), got
        got = await say(quick[0]["payload"])
        assert "You're booked!" in " ".join(r.get("text", "") for r in got), got
    finally:
        await client.disconnect()
    rows = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "sam.socket@example.com"]
    assert len(rows) == 1 and rows[0]["timezone"] == "Asia/Tokyo" and rows[0]["status"] == "confirmed"

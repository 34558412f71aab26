"""Hypothesis against the web app, driven by its own OpenAPI document (``GET /openapi.json``).

The app is served once per module on a loopback port from a background thread (a real Sanic
server, so body limits and path decoding are the real ones). Two copies: one whose Rasa is down
(nothing listens on port 9), one whose relay answers through a stub that checks the body with
the Rasa REST channel's own rules (``bot.rasa_ext.channels.parse_payload``) and echoes.

Invariants: never a 5xx, except the documented 503 of ``POST /chat`` while Rasa is down; every
status is listed in the document for that route; a documented JSON error is ``{"error": str}``;
and ``/chat`` never relays a message the Rasa channel would refuse.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.calendars.connect import invite_token
from bot.ops.runtime import vault
from bot.rasa_ext.channels import PayloadError, parse_payload
from bot.settings import Settings
from bot.store import Store
from bot.web import create_app
from bot.web.openapi import document
from tests.served import Served

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
DOC = document()
MAX_BODY = 64 * 1024


# ---- serving ----------------------------------------------------------------------------------------
def rasa_stub(request: httpx.Request) -> httpx.Response:
    """Answers like our Rasa REST channel: its validation, then an echo."""
    assert request.url.path == "/webhooks/rest/webhook"
    try:
        payload = parse_payload(request.content)
    except PayloadError as exc:
        return httpx.Response(exc.status, json={"error": str(exc)})
    return httpx.Response(200, json=[{"recipient_id": payload.sender, "text": f"echo {len(payload.message)}"}])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    var = tmp_path_factory.mktemp("var")
    base = dict(
        var_dir=var,
        public_url="http://localhost:8000",
        # Configured providers whose endpoints are closed loopback ports: no network, ever.
        google_client_id="fuzz-google-client",
        google_client_secret="fuzz-google-secret",
        google_auth_uri="https://127.0.0.1:9/auth",
        google_token_uri="https://127.0.0.1:9/token",
        google_revoke_uri="https://127.0.0.1:9/revoke",
        google_api_base_url="https://127.0.0.1:9",
        # Microsoft stays unconfigured here: see test_microsoft_start_with_authority_down_is_not_a_500.
        provider_timeout_seconds=1.0,
        web_runs_worker=False,
    )
    store = Store(Settings(var_dir=var).db_url)
    store.migrate()
    down = Served(create_app(Settings(**base, rasa_url="http://127.0.0.1:9"), store=store))
    up = Served(create_app(Settings(**base, rasa_url="http://rasa.stub"), store=store))
    original = up.call(lambda: up.app.ctx.http)
    up.call(lambda: setattr(up.app.ctx, "http", httpx.AsyncClient(transport=httpx.MockTransport(rasa_stub))))
    yield {"down": down, "up": up, "vault": vault(Settings(**base)), "store": store}
    up.call(lambda: asyncio.ensure_future(original.aclose()))
    up.stop()
    down.stop()
    store.dispose()


# ---- the OpenAPI document as the oracle ---------------------------------------------------------------
def check(template: str, method: str, status: int, content_type: str, body: bytes, *, rasa_down: bool = False) -> None:
    """The response is one the document promises for this operation, in the promised shape."""
    where = f"{method.upper()} {template} -> {status} {body[:300]!r}"
    if status >= 500:
        assert (template, method, status, rasa_down) == ("/chat", "post", 503, True), f"server error: {where}"
    responses = DOC["paths"][template][method]["responses"]
    assert str(status) in responses, f"undocumented status: {where}"
    documented = responses[str(status)].get("content", {})
    media = content_type.split(";")[0].strip()
    if documented:
        assert media in documented, f"content type {media!r} not documented: {where}"
    if media == "application/json" and documented.get(media, {}).get("schema") == {"$ref": "#/components/schemas/Error"}:
        parsed = json.loads(body)
        assert isinstance(parsed, dict) and isinstance(parsed.get("error"), str) and parsed["error"], where


# ---- strategies -------------------------------------------------------------------------------------
# Text as a browser can send it: any code point but lone surrogates (those get their own cases).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
TRICKY = st.sampled_from(
    [
        "\x00",
        "\u202eevil\u202c",
        "مرحبا بالعالم",
        "שלום",
        "👩‍👩‍👧‍👦🏳️‍🌈",
        "\ufeff",
        "\u200b",
        "a\nb",
        "\r\n",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "../../etc/passwd",
        "%00",
        "{{person.first_name}}",
        "/choose_slot{\"slot_id\":\"x\"}",
        "\U0010ffff",
        " ",
    ]
)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT | TRICKY
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT | TRICKY, inner, max_size=4),
    max_leaves=20,
)
SENDER_OK = st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z")
MESSAGE_OK = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=2000).filter(
    lambda s: s.strip()
)
METADATA_OK = st.none() | st.dictionaries(TEXT, JSON, max_size=5).filter(lambda d: len(json.dumps(d)) <= 8192)


def _nested(depth: int) -> dict[str, Any]:
    value: Any = {}
    for _ in range(depth):
        value = {"a": [value]}
    return value


@st.composite
def valid_chat(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"sender": draw(SENDER_OK), "message": draw(MESSAGE_OK)}
    metadata = draw(st.none() | METADATA_OK)
    if metadata is not None or draw(st.booleans()):
        body["metadata"] = metadata
    return body


@st.composite
def hostile_chat(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """(raw body, headers): wrong types, junk, limits, encodings, content types."""
    kind = draw(st.sampled_from(["json", "fields", "raw", "escape", "size", "nested"]))
    if kind == "json":  # any JSON value at all
        raw = json.dumps(draw(JSON)).encode()
    elif kind == "fields":  # a chat-shaped object with each field drawn from anything
        body = draw(valid_chat())
        for field in draw(st.sets(st.sampled_from(["sender", "message", "metadata", "extra"]))):
            body[field] = draw(JSON | TRICKY | st.text(max_size=200))
        for field in draw(st.sets(st.sampled_from(["sender", "message"]))):
            body.pop(field)
        raw = json.dumps(body, ensure_ascii=draw(st.booleans())).encode()
    elif kind == "raw":  # not JSON, or not UTF-8
        raw = draw(st.binary(max_size=300) | st.sampled_from([b"", b"{", b"null", b"[]", b"\xff\xfe{}", b"\xef\xbb\xbf{}"]))
    elif kind == "escape":  # what json.dumps would never write: lone surrogates, NaN, huge numbers
        piece = draw(st.sampled_from(['"\\ud800"', '"a\\udfffb"', "NaN", "-Infinity", "1e999", "1" * 5000, '"\\u0000"']))
        where = draw(st.sampled_from(["sender", "message", "metadata"]))
        value = piece if where != "metadata" else '{"k": ' + piece + "}"
        fields = {"sender": '"fuzz"', "message": '"hello"', where: value}
        raw = ("{" + ",".join(f'"{k}": {v}' for k, v in fields.items()) + "}").encode()
    elif kind == "size":  # around each limit, and over the body limit
        body = draw(valid_chat())
        target = draw(st.sampled_from(["sender", "message", "metadata", "body"]))
        n = draw(st.sampled_from([63, 64, 65, 127, 128, 129, 1999, 2000, 2001, 8192, 9000, 70_000]))
        if target == "sender":
            body["sender"] = "s" * n
        elif target == "message":
            body["message"] = draw(st.sampled_from(["x", "é", "😀"])) * n
        elif target == "metadata":
            body["metadata"] = {"k": "v" * n}
        else:
            body["padding"] = "p" * n
        raw = json.dumps(body).encode()
    else:  # deeply nested metadata (or body)
        depth = draw(st.sampled_from([10, 14, 15, 16, 17, 100, 500, 990, 1000, 1500, 5000]))
        if draw(st.booleans()):
            raw = json.dumps({"sender": "fuzz", "message": "hi", "metadata": {"x": 1}}).encode()
            raw = raw.replace(b'{"x": 1}', b'{"a": ' + b"[" * depth + b"]" * depth + b"}")
        else:
            raw = b"[" * depth + b"]" * depth
    content_type = draw(
        st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", None]
        )
    )
    return raw, ({"Content-Type": content_type} if content_type else {})


# ---- /chat ------------------------------------------------------------------------------------------
@FUZZ
@given(body=valid_chat())
def test_chat_relays_every_valid_message(env, body):
    status, ctype, raw = env["up"].request("POST", "/chat", json.dumps(body).encode(), {"Content-Type": "application/json"})
    check("/chat", "post", status, ctype, raw)
    assert status == 200, raw[:300]
    assert json.loads(raw) == [{"recipient_id": body["sender"], "text": f"echo {len(body['message'])}"}]


@FUZZ
@given(case=hostile_chat())
def test_chat_never_fails_on_hostile_bodies(env, case):
    raw, headers = case
    for name in ("up", "down"):
        status, ctype, out = env[name].request("POST", "/chat", raw, headers)
        check("/chat", "post", status, ctype, out, rasa_down=name == "down")
        if name == "up":
            # The relay never forwards what the Rasa channel refuses (that would read "not reachable").
            assert status != 503, f"/chat relayed a body Rasa refuses: {raw[:200]!r} -> {out[:200]!r}"


def test_chat_rasa_down_is_the_documented_503(env):
    status, ctype, raw = env["down"].request("POST", "/chat", b'{"sender": "ok", "message": "hi"}')
    check("/chat", "post", status, ctype, raw, rasa_down=True)
    assert status == 503 and "not reachable" in json.loads(raw)["error"]


# ---- path parameters --------------------------------------------------------------------------------
SEGMENT = st.one_of(
    TEXT.filter(bool),
    TRICKY,
    st.sampled_from(["chat.js", "chat.css", "index.html", "..", ".", "%", "%2e%2e", "0" * 32, "f" * 32, "A" * 32, "0" * 33]),
    st.from_regex(r"\A[0-9a-f]{31,33}\Z"),
)


@st.composite
def encoded_segment(draw: st.DrawFn) -> str:
    value = draw(SEGMENT)
    # Mostly properly escaped; sometimes only the bytes HTTP forbids are, so '/', '%', '..' stay raw.
    safe = draw(st.sampled_from(["", "", "/.%", "/.%?#&="]))
    quoted = quote(value, safe=safe)
    return quoted if quoted and not quoted.startswith("?") else "x"


@FUZZ
@given(seg=encoded_segment(), which=st.sampled_from(["/static/{name}", "/meet/{key}"]))
def test_path_params(env, seg, which):
    path = which.split("{")[0] + seg
    status, ctype, raw = env["down"].request("GET", path)
    check(which, "get", status, ctype, raw)
    if which == "/static/{name}" and seg not in ("chat.js", "chat.css"):
        assert status == 404
    if which == "/meet/{key}":
        assert status == 404  # no bookings in this store


@FUZZ
@given(seg=encoded_segment(), token=TEXT | TRICKY, signed=st.booleans(), form=st.booleans())
def test_cancel_link_with_any_booking_and_token(env, seg, token, signed, form):
    """The cancel page: any booking id, any token (forged, or genuinely signed with fuzzed
    contents): a page with a status the document names, never a 500 (no bookings here: never 200)."""
    if signed:
        token = env["vault"].sign({"a": "cancel", "b": seg, "s": 0}, 600)
    path = f"/booking/{seg}/cancel"
    if form:
        body = urlencode({"t": token}).encode()
        status, ctype, raw = env["down"].request(
            "POST", path, body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        check("/booking/{booking_id}/cancel", "post", status, ctype, raw)
    else:
        status, ctype, raw = env["down"].request("GET", f"{path}?{urlencode({'t': token})}")
        check("/booking/{booking_id}/cancel", "get", status, ctype, raw)
    assert status in (404, 405, 413) or (status == 400 and form)


# ---- OAuth routes: query strings --------------------------------------------------------------------
PROVIDERS = st.sampled_from(["google", "microsoft"]) | encoded_segment()


@st.composite
def query(draw: st.DrawFn, env_vault: Any) -> str:
    params: list[tuple[str, str]] = []
    for key in draw(st.lists(st.sampled_from(["invite", "state", "code", "error", "scope", "session_state"]) | TEXT, max_size=6)):
        params.append((key, draw(TEXT | TRICKY)))
    if draw(st.booleans()):  # a genuinely signed invitation with fuzzed contents
        token = invite_token(
            env_vault, draw(TEXT | TRICKY), draw(st.none() | TEXT), draw(st.none() | TEXT), draw(st.none() | TEXT | TRICKY)
        )
        params.insert(0, ("invite", token))
    encoded = urlencode(params)
    if draw(st.booleans()):  # and raw junk appended
        encoded += "&" + quote(draw(TEXT | TRICKY), safe="=&%+")
    return encoded


@FUZZ
@given(data=st.data(), which=st.sampled_from(["/portal/connect/{provider}", "/oauth/{provider}/start", "/oauth/{provider}/callback"]))
def test_oauth_routes_with_any_query(env, data, which):
    provider = data.draw(PROVIDERS)
    path = which.replace("{provider}", provider) + "?" + data.draw(query(env["vault"]))
    status, ctype, raw = env["down"].request("GET", path)
    check(which, "get", status, ctype, raw)


CALDAV_KEYS = ["invite", "do", "preset", "url", "username", "password", "calendar", "busy", "x"]


@settings(FUZZ, max_examples=60)
@given(
    form=st.dictionaries(st.sampled_from(CALDAV_KEYS), TEXT | TRICKY, max_size=6),
    real_invite=st.booleans(),
    do=st.sampled_from([None, "caldav", "calendars", "x"]),
)
def test_caldav_connect_with_any_form(env, form, real_invite, do):
    """Whatever is posted (the servers named are closed ports or no servers at all), the answer is
    a documented page: connected never, 400 or 403 always; nothing stored."""
    if real_invite:
        form = {**form, "invite": invite_token(env["vault"], "agent@example.com", None)}
    if do:
        form = {**form, "do": do}
    if "url" in form and real_invite:
        form["url"] = "http://127.0.0.1:1/" if len(form["url"]) % 2 else form["url"]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, ctype, raw = env["down"].request("POST", "/portal/connect/caldav", urlencode(form).encode(), headers)
    check("/portal/connect/caldav", "post", status, ctype, raw)
    assert status in (400, 403), (form, status)


@settings(FUZZ, max_examples=75)  # two requests and a token exchange attempt per example
@given(params=st.dictionaries(st.sampled_from(["code", "error", "scope", "session_state", "state", "x"]), TEXT | TRICKY))
def test_oauth_callback_after_a_real_start(env, params):
    """A state the app handed out itself, then whatever comes back (token endpoints are closed ports)."""
    served = env["down"]
    token = invite_token(env["vault"], "agent@example.com", None)
    status, _, _ = served.request("GET", f"/oauth/google/start?invite={token}")
    assert status == 302
    state = re.search(r"[?&]state=([^&]+)", served.last_headers["Location"]).group(1)
    params = {**params, "state": state}
    status, ctype, raw = served.request("GET", "/oauth/google/callback?" + urlencode(params))
    check("/oauth/{provider}/callback", "get", status, ctype, raw)


# ---- the portal: every page, signed out, as an agent, as an admin ----------------------------------
PORTAL_OPS = sorted(
    (t, m) for t, item in DOC["paths"].items()
    if t.startswith("/portal") and not t.startswith("/portal/connect/")  # connect: own tests above
    for m in item
)
FORM_KEYS = ["csrf", "do", "lang", "agent", "weight", "email", "password", "again", "next", "t", "subject", "body",
             "hours", "timezone", "day", "blocks", "start", "end", "id", "slug", "queue", "max_per_day",
             "meeting_minutes"]


def _sessions(env: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Fresh cookie and CSRF token of an agent (Ada, agent 1) and an admin: an earlier example
    may have signed them out or deactivated Ada."""
    from bot.admin import accounts
    from bot.store.models import Account, Agent

    store, v = env["store"], env["vault"]
    if "accounts" not in env:
        from tests.helpers import add_queue

        [ada] = add_queue(store, slug="fuzz")
        env["accounts"] = {
            role: accounts.create_account(store, email, "fuzz password 123", role, agent_id=agent)
            for role, email, agent in (("agent", "ada@agents.example", ada), ("admin", "root@example.com", None))
        }
    with store.session() as s:
        for account_id in env["accounts"].values():
            acct = s.get(Account, account_id)
            acct.active = True
            if acct.agent_id:
                s.get(Agent, acct.agent_id).active = True
    out = {}
    for role, account_id in env["accounts"].items():
        token = accounts.session_token(store, v, account_id)
        out[role] = (token, v.verify(token)["c"])
    return out


@settings(FUZZ, max_examples=150)
@given(
    op=st.sampled_from(PORTAL_OPS),
    seg=encoded_segment() | st.sampled_from(["1", "2", "999999", "-1", "0"]),
    who=st.sampled_from([None, "agent", "admin"]),
    form=st.dictionaries(st.sampled_from(FORM_KEYS), TEXT | TRICKY, max_size=6),
    with_csrf=st.booleans(),
)
def test_portal_pages_need_the_right_role_and_never_fail(env, op, seg, who, form, with_csrf):
    template, method = op
    path = template.replace("{agent_id}", seg).replace("{slug}", seg)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if who:
        cookie, csrf = _sessions(env)[who]
        headers["Cookie"] = f"bot_portal={cookie}"
        if with_csrf:
            form = {**form, "csrf": csrf}
    body = urlencode(form).encode() if method == "post" else None
    status, ctype, raw = env["down"].request(method.upper(), path, body, headers)
    if status == 404 and not re.fullmatch(r"[0-9]+", seg) and "{agent_id}" in template:
        return  # not an agent id: no such route (Sanic's own JSON 404)
    check(template, method, status, ctype, raw)
    public = template in ("/portal/signin", "/portal/invite")
    if who is None and not public:
        assert status in (302, 401), (path, status)
    if who == "agent" and "/portal/admin/" in template:
        assert status in (403, 404) or (status == 400 and method == "post"), (path, status)
    if who == "agent" and "{agent_id}" in template and seg != "1":
        assert status in (403, 400, 413) if method == "post" else status == 403, (path, status)
    if who and method == "post" and not with_csrf and not public:
        assert status in (403, 400, 413), (path, status)


# ---- the document itself ----------------------------------------------------------------------------
def test_every_route_is_documented_and_every_documented_route_exists(env):
    app = env["down"].app
    served = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<([^:>]+)(?::[^>]*)?>", r"{\1}", route.path)
        for method in route.methods:
            served.add((path, method.lower()))
    documented = {(path, method) for path, item in DOC["paths"].items() for method in item}
    assert served == documented


def test_openapi_json_is_served_and_well_formed(env):
    status, ctype, raw = env["down"].request("GET", "/openapi.json")
    check("/openapi.json", "get", status, ctype, raw)
    doc = json.loads(raw)
    assert doc["openapi"].startswith("3.1")
    assert doc["paths"].keys() == DOC["paths"].keys()
    chat = doc["components"]["schemas"]["ChatRequest"]["properties"]
    assert chat["message"]["maxLength"] == 2000 and chat["sender"]["maxLength"] == 64


@pytest.mark.parametrize(
    "template,method",
    [(t, m) for t in sorted(DOC["paths"]) for m in ("GET", "POST", "PUT", "DELETE") if m.lower() not in DOC["paths"][t]],
)
def test_undocumented_methods_get_a_json_405(env, template, method):
    path = template.replace("{name}", "chat.js").replace("{key}", "0" * 32).replace("{provider}", "google")
    path = path.replace("{booking_id}", "0" * 32).replace("{agent_id}", "1").replace("{slug}", "sales")
    status, ctype, raw = env["down"].request(method, path, b"{}")
    assert status == 405, (method, path, status)
    assert ctype.startswith("application/json") and isinstance(json.loads(raw).get("error"), str)


def test_microsoft_start_with_authority_down_is_not_a_500(tmp_path):
    cfg = Settings(
        var_dir=tmp_path / "var",
        microsoft_client_id="fuzz-ms-client",
        microsoft_client_secret="fuzz-ms-secret",
        microsoft_authority="https://127.0.0.1:9/common",  # closed port: "Microsoft is down"
        provider_timeout_seconds=1.0,
        web_runs_worker=False,
    )
    store = Store(cfg.db_url)
    store.migrate()
    served = Served(create_app(cfg, store=store))
    try:
        token = invite_token(vault(cfg), "mo@example.com", None)
        status, ctype, raw = served.request("GET", f"/oauth/microsoft/start?invite={token}")
        check("/oauth/{provider}/start", "get", status, ctype, raw)
    finally:
        served.stop()
        store.dispose()

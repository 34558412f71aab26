"""The /chat relay's CORS at the HTTP level: the web app served for real (tests/served.py), its
Rasa a stub that records what reaches it.

A page of an origin in WIDGET_ORIGINS gets its preflight answered and every answer of POST /chat
readable (one ``Access-Control-Allow-Origin``, its own; ``Vary: Origin``; no credentials), and its
metadata reaches Rasa; this site's own pages and clients without ``Origin`` work as before, with
no CORS headers; any other origin gets 403 on both, no CORS header, nothing relayed, and one log
line however often it tries. Checked against ``/openapi.json`` too.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.settings import Settings, load_settings
from bot.store import Store
from bot.web import create_app
from bot.web.openapi import document
from tests.served import Served

SITE = "https://www.acme.example"
SHOP = "http://shop.acme.example:8080"
FOREIGN = "https://evil.example"
DOC = document()
CHAT = {"sender": "web-cors-1", "message": "hi", "metadata": {"person": {"email": "dana@acme.example"}}}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    var = tmp_path_factory.mktemp("var")
    cfg = load_settings(
        {
            "BOT_VAR_DIR": str(var),
            "PUBLIC_URL": "http://localhost:8000",
            "WIDGET_ORIGINS": f"{SITE}, {SHOP}/",
            "RASA_URL": "http://rasa.stub",
            "WEB_RUNS_WORKER": "0",
        },
        dotenv=False,
    )
    assert cfg.widget_origins == (SITE, SHOP)
    store = Store(Settings(var_dir=var).db_url)
    store.migrate()
    s = Served(create_app(cfg, store=store))
    s.relayed = []

    def rasa(request: httpx.Request) -> httpx.Response:
        s.relayed.append(json.loads(request.content))
        return httpx.Response(200, json=[{"recipient_id": "x", "text": "hello"}])

    original = s.call(lambda: s.app.ctx.http)
    s.call(lambda: setattr(s.app.ctx, "http", httpx.AsyncClient(transport=httpx.MockTransport(rasa))))
    yield s
    s.call(lambda: asyncio.ensure_future(original.aclose()))
    s.stop()
    store.dispose()


def call(
    served: Served, method: str, headers: dict[str, str], body: Any = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, "/chat", body=data, headers={"Host": f"127.0.0.1:{served.port}", **headers})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def preflight(origin: str | None, method: str = "POST") -> dict[str, str]:
    headers = {"Access-Control-Request-Method": method, "Access-Control-Request-Headers": "content-type"}
    return headers if origin is None else {**headers, "Origin": origin}


def documented(method: str, status: int) -> bool:
    return str(status) in DOC["paths"]["/chat"][method]["responses"]


@pytest.mark.parametrize("origin", [SITE, SHOP, "HTTPS://WWW.ACME.EXAMPLE"])
def test_an_allowed_origin_gets_its_preflight(served, origin):
    status, headers, body = call(served, "OPTIONS", preflight(origin))
    assert status == 204 and body == b"" and documented("options", status)
    assert headers.get_all("Access-Control-Allow-Origin") == [origin.lower()]
    assert headers["Access-Control-Allow-Methods"] == "POST"
    assert headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in headers  # the widget sends no cookies


def test_an_allowed_origin_posts_and_its_metadata_reaches_rasa(served):
    served.relayed.clear()
    status, headers, body = call(served, "POST", {"Origin": SITE, "Content-Type": "application/json"}, CHAT)
    assert status == 200 and json.loads(body) == [{"recipient_id": "x", "text": "hello"}]
    assert headers.get_all("Access-Control-Allow-Origin") == [SITE] and headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in headers
    assert served.relayed == [CHAT]
    # Its errors are readable too: the widget shows the message.
    status, headers, body = call(served, "POST", {"Origin": SITE, "Content-Type": "application/json"}, {"sender": "x"})
    assert status == 400 and "message" in json.loads(body)["error"]
    assert headers.get_all("Access-Control-Allow-Origin") == [SITE]


def test_a_foreign_origin_is_refused_and_logged_once(served, caplog):
    served.relayed.clear()
    caplog.set_level(logging.WARNING, logger="bot.web.app")
    for _ in range(3):
        status, headers, body = call(served, "OPTIONS", preflight(FOREIGN))
        assert status == 403 and documented("options", status) and "WIDGET_ORIGINS" in json.loads(body)["error"]
        assert "Access-Control-Allow-Origin" not in headers and headers["Vary"] == "Origin"
        # Even a POST the browser sends without asking (text/plain needs no preflight) goes nowhere.
        status, headers, _ = call(served, "POST", {"Origin": FOREIGN, "Content-Type": "text/plain"}, CHAT)
        assert status == 403 and documented("post", status) and "Access-Control-Allow-Origin" not in headers
    assert served.relayed == []
    lines = [r.getMessage() for r in caplog.records if FOREIGN in r.getMessage()]
    assert len(lines) == 1 and "WIDGET_ORIGINS" in lines[0], lines


@pytest.mark.parametrize(
    "origin",
    [
        None,  # not a browser (curl, the tests), or a browser's same-origin request that sent none
        "http://localhost:8000",  # PUBLIC_URL: this site
        "same",  # this site as addressed (Host), e.g. http://127.0.0.1:<port>
    ],
)
def test_this_sites_own_pages_need_no_cors(served, origin):
    served.relayed.clear()
    origin = f"http://127.0.0.1:{served.port}" if origin == "same" else origin
    extra = {} if origin is None else {"Origin": origin}
    status, headers, _ = call(served, "POST", {**extra, "Content-Type": "application/json"}, CHAT)
    assert status == 200 and served.relayed == [CHAT]
    assert "Access-Control-Allow-Origin" not in headers and headers["Vary"] == "Origin"
    status, headers, _ = call(served, "OPTIONS", preflight(origin))
    assert status == 204 and "Access-Control-Allow-Origin" not in headers and headers["Allow"] == "OPTIONS, POST"


def test_an_origin_is_matched_whole_not_by_prefix_or_suffix(served):
    for near in (
        SITE + ".evil.example",
        "https://evil.example/" + SITE,
        SITE + ":444",
        "http://www.acme.example",
        "https://acme.example",
        SHOP.replace(":8080", ""),
        "null",
    ):
        status, headers, _ = call(served, "OPTIONS", preflight(near))
        assert status == 403 and "Access-Control-Allow-Origin" not in headers, near


ORIGINS = st.one_of(
    st.sampled_from([SITE, SHOP, FOREIGN, "null", "", " ", SITE.upper(), SITE + "/", "*"]),
    st.builds(
        lambda scheme, host, port: f"{scheme}://{host}{port}",
        st.sampled_from(["http", "https", "ftp"]),
        st.from_regex(r"[a-z0-9.-]{1,30}", fullmatch=True),
        st.sampled_from(["", ":80", ":8080", ":443"]),
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60),
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(origin=ORIGINS, method=st.sampled_from(["OPTIONS", "POST"]))
def test_any_origin_header_gets_a_documented_answer(served, origin, method):
    body = CHAT if method == "POST" else None
    status, headers, _ = call(served, method, {"Origin": origin, "Content-Type": "application/json"}, body)
    assert status < 500 and documented(method.lower(), status), (origin, status)
    allowed = origin.strip().lower() in (SITE, SHOP)
    # A blank Origin (no browser sends one) counts as none.
    same = origin.strip().lower() in ("", "http://localhost:8000", f"http://127.0.0.1:{served.port}")
    assert headers.get_all("Access-Control-Allow-Origin") == ([origin.strip().lower()] if allowed else None)
    assert (status == 403) is (not allowed and not same), (origin, status)


@pytest.mark.parametrize(
    ("message", "metadata", "lang_word"),
    [
        ("x " * 1001, {"locale": "de-DE"}, "Zeichen"),  # no language to read: the widget's locale
        ("bonjour, je voudrais vous expliquer mon projet en détail " * 40, {}, "caractères"),
    ],
    ids=["locale", "written-in-french"],
)
def test_a_message_over_the_limit_gets_a_reply_in_the_visitors_language(served, message, metadata, lang_word):
    served.relayed.clear()
    body = {"sender": "web-long-1", "message": message, "metadata": metadata}
    status, _headers, out = call(served, "POST", {"Origin": SITE, "Content-Type": "application/json"}, body)
    data = json.loads(out)
    assert status == 400 and documented("post", status) and data["error"]
    [reply] = data["messages"]
    assert reply["recipient_id"] == "web-long-1" and lang_word in reply["text"] and "2000" in reply["text"]
    assert served.relayed == []  # nothing reached Rasa

"""The fake Microsoft identity platform + Graph server, exercised through the real msal and httpx."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import msal
import pytest
import requests

from tests.fakes.microsoft import GRAPH_APP_ID, FakeMicrosoft

# msal 1.39 nudges towards response_mode="form_post"; the default (query) is what we mostly drive here.
pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended:UserWarning")

ALICE = "alice@example.com"
BOB = "bob@example.com"
REDIRECT = "http://localhost:8000/oauth/microsoft/callback"
SCOPES = ["Calendars.ReadWrite"]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
UTC_PREFER = {"Prefer": 'outlook.timezone="UTC"'}


@pytest.fixture
def ms():
    with FakeMicrosoft() as fake:
        fake.add_user(ALICE, "Alice Example")
        fake.add_user(BOB)
        yield fake


# ---------------------------------------------------------------- helpers
def trusting_session(ms: FakeMicrosoft) -> requests.Session:
    """requests would let REQUESTS_CA_BUNDLE override session.verify unless trust_env is off."""
    session = requests.Session()
    session.trust_env = False
    session.verify = ms.ca_path
    return session


def make_app(ms: FakeMicrosoft, cache=None, secret=None, **kwargs) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        ms.client_id,
        client_credential=secret or ms.client_secret,
        authority=ms.authority,
        http_client=trusting_session(ms),
        instance_discovery=kwargs.pop("instance_discovery", False),
        token_cache=cache if cache is not None else msal.SerializableTokenCache(),
        **kwargs,
    )


def consent(ms: FakeMicrosoft, flow: dict) -> dict:
    """The browser leg: follow the authorize URL, return the redirect's query parameters."""
    resp = trusting_session(ms).get(flow["auth_uri"], allow_redirects=False)
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sign_in(ms: FakeMicrosoft, app=None, scopes=SCOPES, login_hint=ALICE):
    """Full auth code flow -> (app, token result)."""
    app = app or make_app(ms)
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=REDIRECT, login_hint=login_hint)
    result = app.acquire_token_by_auth_code_flow(flow, consent(ms, flow))
    assert "access_token" in result, result
    return app, result


def graph(ms: FakeMicrosoft, token: str | None, prefer_utc: bool = True) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if prefer_utc:
        headers.update(UTC_PREFER)
    return httpx.Client(base_url=ms.graph_url, verify=ms.ca_path, headers=headers)


def jwt_claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def meeting(**extra) -> dict:
    return {
        "subject": "Intro call",
        "body": {"contentType": "text", "content": "Booked by the bot"},
        "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-01T10:30:00", "timeZone": "UTC"},
        "attendees": [{"emailAddress": {"address": "guest@example.org", "name": "Guest"}, "type": "required"}],
        **extra,
    }


def schedule_body(start="2026-12-01T08:00:00", end="2026-12-01T12:00:00", who=(ALICE,), interval=60) -> dict:
    return {
        "schedules": list(who),
        "startTime": {"dateTime": start, "timeZone": "UTC"},
        "endTime": {"dateTime": end, "timeZone": "UTC"},
        "availabilityViewInterval": interval,
    }


def token_calls(ms: FakeMicrosoft) -> list[dict]:
    return [r for r in ms.requests if r["path"].endswith("/oauth2/v2.0/token")]


# ---------------------------------------------------------------- identity: discovery and TLS
def test_msal_construction_reads_openid_configuration(ms):
    make_app(ms)
    assert [(r["method"], r["path"]) for r in ms.requests] == [("GET", "/common/v2.0/.well-known/openid-configuration")]
    config = trusting_session(ms).get(ms.authority + "/v2.0/.well-known/openid-configuration").json()
    assert config["authorization_endpoint"] == ms.authority + "/oauth2/v2.0/authorize"
    assert config["token_endpoint"] == ms.authority + "/oauth2/v2.0/token"
    assert config["issuer"] == ms.url + "/{tenantid}/v2.0"  # the "common" authority advertises a template
    keys = trusting_session(ms).get(config["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["kid"]


def test_instance_discovery_endpoint_when_msal_is_pointed_at_it(ms):
    make_app(ms, instance_discovery=ms.url + "/common/discovery/instance")
    assert [r["path"] for r in ms.requests] == [
        "/common/discovery/instance",
        "/common/v2.0/.well-known/openid-configuration",
    ]
    # msal builds this from the host name alone (no port)
    assert ms.requests[0]["query"]["authorization_endpoint"] == "https://127.0.0.1/common/oauth2/v2.0/authorize"


def test_single_tenant_authority_issuer_matches_id_token():
    tenant = "72f988bf-0000-4000-8000-000000000001"
    with FakeMicrosoft(tenant=tenant, client_id="other-app", client_secret="s3cret") as fake:
        fake.add_user(ALICE)
        assert fake.authority == f"{fake.url}/{tenant}" and fake.tenant_id == tenant
        config = trusting_session(fake).get(fake.authority + "/v2.0/.well-known/openid-configuration").json()
        _, result = sign_in(fake)
        assert result["id_token_claims"]["iss"] == config["issuer"] == f"{fake.url}/{tenant}/v2.0"
        assert result["id_token_claims"]["aud"] == "other-app"


def test_unknown_tenant_fails_msal_construction(ms):
    with pytest.raises(ValueError, match="Unable to get authority configuration") as e:
        msal.ConfidentialClientApplication(
            ms.client_id,
            client_credential=ms.client_secret,
            authority=ms.url + "/no-such-tenant",
            http_client=trusting_session(ms),
            instance_discovery=False,
        )
    assert "invalid_tenant" in str(e.value.__context__) and "AADSTS90002" in str(e.value.__context__)


def test_tls_is_real_and_needs_the_throwaway_ca(ms):
    plain = requests.Session()
    plain.trust_env = False  # default certifi bundle: does not know our CA
    with pytest.raises(requests.exceptions.SSLError):
        plain.get(ms.authority + "/v2.0/.well-known/openid-configuration")
    with httpx.Client(verify=ms.ca_path) as client:  # httpx verifies the IP SAN too
        assert client.get(ms.authority + "/v2.0/.well-known/openid-configuration").status_code == 200
    with httpx.Client(verify=ms.ca_path) as client:
        url = ms.url.replace("127.0.0.1", "localhost") + "/common/v2.0/.well-known/openid-configuration"
        assert client.get(url).status_code == 200  # and the DNS SAN


# ---------------------------------------------------------------- identity: auth code flow
def test_auth_code_flow_end_to_end(ms):
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint=ALICE)
    params = consent(ms, flow)
    assert params["state"] == flow["state"] and params["code"] and params["session_state"]
    client_info = jwt_claims("x." + params["client_info"])
    result = app.acquire_token_by_auth_code_flow(flow, params)

    assert result["token_type"] == "Bearer" and result["expires_in"] == 3599 and result["ext_expires_in"] == 3599
    assert result["scope"] == "Calendars.ReadWrite openid profile email"
    assert result["refresh_token"] in ms.issued_refresh_tokens()
    claims = result["id_token_claims"]
    assert claims["preferred_username"] == ALICE and claims["name"] == "Alice Example"
    assert claims["aud"] == ms.client_id and claims["iss"] == f"{ms.url}/{ms.tenant_id}/v2.0"
    assert claims["oid"] == client_info["uid"] and claims["tid"] == client_info["utid"] == ms.tenant_id
    assert claims["nbf"] <= claims["iat"] < claims["exp"]
    access = jwt_claims(result["access_token"])
    assert access["aud"] == GRAPH_APP_ID and access["scp"].startswith("Calendars.ReadWrite") and access["upn"] == ALICE

    authorize = next(r for r in ms.requests if r["path"].endswith("/authorize"))
    assert authorize["query"]["code_challenge_method"] == "S256" and authorize["query"]["client_info"] == "1"
    assert claims["nonce"] == authorize["query"]["nonce"]  # msal sends (and checks) the hashed nonce
    assert authorize["query"]["scope"] == "Calendars.ReadWrite offline_access openid profile"
    token = token_calls(ms)[0]
    assert token["body"]["grant_type"] == "authorization_code" and token["body"]["client_secret"] == ms.client_secret
    assert token["body"]["code_verifier"] == flow["code_verifier"] and token["body"]["client_info"] == "1"
    assert token["headers"]["X-AnchorMailbox"] == f"Oid:{claims['oid']}@{ms.tenant_id}"

    [account] = app.get_accounts()
    assert account["username"] == ALICE and account["home_account_id"] == f"{claims['oid']}.{ms.tenant_id}"


def test_form_post_response_mode(ms):
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, response_mode="form_post")
    page = trusting_session(ms).get(flow["auth_uri"], allow_redirects=False)
    assert page.status_code == 200 and f'action="{REDIRECT}"' in page.text

    class Inputs(HTMLParser):
        fields: dict = {}

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "input":
                self.fields[attrs["name"]] = attrs["value"]

    parser = Inputs()
    parser.feed(page.text)
    result = app.acquire_token_by_auth_code_flow(flow, parser.fields)
    assert result["id_token_claims"]["preferred_username"] == ALICE


def test_wrong_state_is_rejected_by_msal(ms):
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    params = consent(ms, flow)
    with pytest.raises(ValueError, match="state mismatch"):
        app.acquire_token_by_auth_code_flow(flow, {**params, "state": "forged"})


def test_denied_consent(ms):
    ms.deny_consent = True
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    params = consent(ms, flow)
    assert "code" not in params and params["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert result["error"] == "access_denied" and result["error_description"].startswith("AADSTS65004")
    assert not token_calls(ms)


def test_consent_as_and_login_hint(ms):
    _, result = sign_in(ms, login_hint=BOB)  # a known login_hint picks the account
    assert result["id_token_claims"]["preferred_username"] == BOB
    ms.consent_as = ALICE  # consent_as wins over the hint
    _, result = sign_in(ms, login_hint=BOB)
    assert result["id_token_claims"]["preferred_username"] == ALICE


def test_unknown_client_and_bad_redirect_get_error_pages(ms):
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    session = trusting_session(ms)
    resp = session.get(flow["auth_uri"].replace(f"client_id={ms.client_id}", "client_id=nope"), allow_redirects=False)
    assert resp.status_code == 400 and "AADSTS700016" in resp.text
    ms.redirect_uris = ["https://app.example.com/callback"]
    resp = session.get(flow["auth_uri"], allow_redirects=False)
    assert resp.status_code == 400 and "AADSTS50011" in resp.text


def test_unknown_scope_is_redirected_as_invalid_scope(ms):
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(["Calendars.Teleport"], redirect_uri=REDIRECT)
    params = consent(ms, flow)
    assert params["error"] == "invalid_scope" and "Calendars.Teleport" in params["error_description"]


def test_pkce_mismatch_then_success(ms):
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    params = consent(ms, flow)
    result = app.acquire_token_by_auth_code_flow({**flow, "code_verifier": "x" * 43}, params)
    assert result["error"] == "invalid_grant" and result["error_codes"] == [501481]
    assert "The Code_Verifier does not match the code_challenge" in result["error_description"]
    assert "Trace ID:" in result["error_description"] and result["correlation_id"] and result["timestamp"]
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, params)  # the failure did not burn the code


def test_code_is_single_use(ms):
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    params = consent(ms, flow)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, params)
    again = app.acquire_token_by_auth_code_flow(flow, params)
    assert again["error"] == "invalid_grant" and again["error_codes"] == [54005]


def test_expired_code(ms, monkeypatch):
    monkeypatch.setattr(FakeMicrosoft, "CODE_TTL", 0)
    app = make_app(ms)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    params = consent(ms, flow)
    time.sleep(0.01)
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert result["error"] == "invalid_grant" and result["error_codes"] == [70008]


def test_bad_client_secret(ms):
    app = make_app(ms, secret="wrong")
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    result = app.acquire_token_by_auth_code_flow(flow, consent(ms, flow))
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")


# ---------------------------------------------------------------- identity: refresh
def test_silent_uses_cache_then_force_refresh_rotates_refresh_token(ms):
    app, first = sign_in(ms)
    account = app.get_accounts()[0]
    cached = app.acquire_token_silent(SCOPES, account=account)
    assert cached["access_token"] == first["access_token"] and cached["token_source"] == "cache"
    assert len(token_calls(ms)) == 1

    fresh = app.acquire_token_silent(SCOPES, account=account, force_refresh=True)
    assert fresh["token_source"] == "identity_provider" and fresh["access_token"] != first["access_token"]
    refresh_call = token_calls(ms)[-1]["body"]
    assert refresh_call["grant_type"] == "refresh_token" and refresh_call["refresh_token"] == first["refresh_token"]
    assert refresh_call["scope"] == "Calendars.ReadWrite offline_access openid profile"
    assert len(ms.issued_refresh_tokens()) == 2  # rotated ...
    # ... and the old refresh token still works, as with Microsoft
    old = trusting_session(ms).post(
        ms.authority + "/oauth2/v2.0/token",
        data={
            "client_id": ms.client_id,
            "client_secret": ms.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "scope": "Calendars.ReadWrite offline_access",
        },
    )
    assert old.status_code == 200 and old.json()["refresh_token"] not in (first["refresh_token"], None)
    assert "id_token" not in old.json()  # no openid asked -> no id_token


def test_revoked_refresh_token(ms):
    app, first = sign_in(ms)
    account = app.get_accounts()[0]
    ms.revoke_refresh_token(first["refresh_token"])
    assert app.acquire_token_silent(SCOPES, account=account, force_refresh=True) is None
    calls = len(token_calls(ms))
    error = app.acquire_token_silent_with_error(SCOPES, account=account, force_refresh=True)
    assert error["error"] == "invalid_grant" and error["error_codes"] == [70008]
    assert error["error_description"].startswith("AADSTS70008: The provided authorization code or refresh token")
    # msal's HTTP cache answers an identical 400 for 60 s without calling the server again
    assert len(token_calls(ms)) == calls


def test_revoke_user_kills_all_refresh_tokens(ms):
    app, _ = sign_in(ms)
    other_app, _ = sign_in(ms)
    ms.revoke_user(ALICE)
    for a in (app, other_app):
        error = a.acquire_token_silent_with_error(SCOPES, account=a.get_accounts()[0], force_refresh=True)
        assert error["error"] == "invalid_grant" and error["error_codes"] == [50173]


def test_injected_token_error(ms):
    cache = msal.SerializableTokenCache()
    app, _ = sign_in(ms, app=make_app(ms, cache=cache))
    account = app.get_accounts()[0]
    ms.fail_next("token", 400, oauth_error="interaction_required")
    error = app.acquire_token_silent_with_error(SCOPES, account=account, force_refresh=True)
    assert error["error"] == "interaction_required" and error["error_codes"] == [50076]
    # The same app would replay that 400 from msal's own HTTP cache for 60 s; a new app (same token cache)
    # reaches the server again, and only the next call was failed.
    again = make_app(ms, cache=cache).acquire_token_silent(SCOPES, account=account, force_refresh=True)
    assert again["access_token"]

    ms.fail_next("token", 503, retry_after=1)
    with pytest.raises(msal.exceptions.MsalServiceError):  # msal raises on 5xx token responses
        make_app(ms, cache=cache).acquire_token_silent(SCOPES, account=account, force_refresh=True)


def test_unconsented_scope_on_refresh(ms):
    app, _ = sign_in(ms)
    error = app.acquire_token_silent_with_error(["Mail.Send"], account=app.get_accounts()[0])
    assert error["error"] == "invalid_grant" and error["suberror"] == "consent_required"


def test_serialized_cache_works_in_a_new_app(ms):
    cache = msal.SerializableTokenCache()
    _, first = sign_in(ms, app=make_app(ms, cache=cache))
    assert cache.has_state_changed
    blob = cache.serialize()

    restored = msal.SerializableTokenCache()
    restored.deserialize(blob)
    app = make_app(ms, cache=restored)
    [account] = app.get_accounts(username=ALICE)
    from_cache = app.acquire_token_silent(SCOPES, account=account)
    assert from_cache["access_token"] == first["access_token"] and from_cache["token_source"] == "cache"
    refreshed = app.acquire_token_silent(SCOPES, account=account, force_refresh=True)
    assert refreshed["token_source"] == "identity_provider"
    with graph(ms, refreshed["access_token"]) as client:
        assert client.post("/me/calendar/getSchedule", json=schedule_body()).status_code == 200


# ---------------------------------------------------------------- Graph: auth
def test_graph_authentication_errors(ms):
    _, result = sign_in(ms)
    with graph(ms, None) as client:
        resp = client.post("/me/events", json=meeting())
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert set(resp.json()["error"]["innerError"]) == {"date", "request-id", "client-request-id"}
    assert "WWW-Authenticate" in resp.headers

    ms.expire_access_tokens()
    with graph(ms, result["access_token"]) as client:
        resp = client.post("/me/events", json=meeting())
    assert resp.status_code == 401
    assert resp.json()["error"] == {
        "code": "InvalidAuthenticationToken",
        "message": "Access token has expired or is not yet valid.",
        "innerError": resp.json()["error"]["innerError"],
    }
    assert ms.events[ALICE] == {}


def test_scopes_and_other_mailboxes(ms):
    _, read_only = sign_in(ms, scopes=["Calendars.Read"])
    with graph(ms, read_only["access_token"]) as client:
        assert client.post("/me/calendar/getSchedule", json=schedule_body()).status_code == 200
        resp = client.post("/me/events", json=meeting())
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "ErrorAccessDenied"
        resp = client.get("/me")
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "Authorization_RequestDenied"
    _, rw = sign_in(ms, scopes=["Calendars.ReadWrite", "User.Read"])
    assert rw["scope"] == "Calendars.Read Calendars.ReadWrite User.Read openid profile email"  # incremental consent
    with graph(ms, rw["access_token"]) as client:
        me = client.get("/me").json()
        assert me["userPrincipalName"] == ALICE and me["displayName"] == "Alice Example"
        assert client.post(f"/users/{ALICE}/events", json=meeting()).status_code == 201
        resp = client.post(f"/users/{BOB}/events", json=meeting())
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "ErrorAccessDenied"
        resp = client.post("/users/nobody@example.com/events", json=meeting())
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "ErrorInvalidUser"


# ---------------------------------------------------------------- Graph: getSchedule
def test_get_schedule_returns_added_busy_in_utc(ms):
    ms.add_busy(ALICE, T0, T0 + timedelta(hours=1))
    ms.add_busy(ALICE, T0 + timedelta(hours=1, minutes=30), T0 + timedelta(hours=2), show_as="tentative")
    ms.add_busy(ALICE, T0 - timedelta(hours=5), T0 - timedelta(hours=4, minutes=30), show_as="oof")  # outside
    ms.add_busy(ALICE, T0 + timedelta(hours=2), T0 + timedelta(hours=3), show_as="free")  # not busy
    cancelled = ms.add_busy(ALICE, T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    ms.events[ALICE][cancelled]["isCancelled"] = True  # not busy either
    ms.add_busy(BOB, datetime(2026, 12, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))), T0 + timedelta(hours=1))
    _, result = sign_in(ms)
    with graph(ms, result["access_token"]) as client:
        resp = client.post("/me/calendar/getSchedule", json=schedule_body(who=(ALICE, BOB, "ghost@example.com")))
    assert resp.status_code == 200, resp.text
    alice, bob, ghost = resp.json()["value"]
    assert alice["scheduleId"] == ALICE and alice["availabilityView"] == "0210"  # 08-09 free, 09-10 busy, ...
    assert [(i["status"], i["start"], i["end"]) for i in alice["scheduleItems"]] == [
        (
            "busy",
            {"dateTime": "2026-12-01T09:00:00.0000000", "timeZone": "UTC"},
            {"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": "UTC"},
        ),
        (
            "tentative",
            {"dateTime": "2026-12-01T10:30:00.0000000", "timeZone": "UTC"},
            {"dateTime": "2026-12-01T11:00:00.0000000", "timeZone": "UTC"},
        ),
    ]
    assert alice["scheduleItems"][0]["isPrivate"] is False and alice["scheduleItems"][0]["subject"] == "Busy"
    assert bob["availabilityView"] == "0200" and "subject" not in bob["scheduleItems"][0]  # others: free/busy only
    assert ghost["error"]["responseCode"] == "ErrorMailRecipientNotFound"
    assert resp.headers["Preference-Applied"] == 'outlook.timezone="UTC"'
    call = [r for r in ms.requests if r["path"] == "/v1.0/me/calendar/getSchedule"][-1]
    assert call["headers"]["Prefer"] == 'outlook.timezone="UTC"'
    assert call["body"]["availabilityViewInterval"] == 60


def test_get_schedule_other_zone_and_without_prefer(ms):
    ms.add_busy(ALICE, T0, T0 + timedelta(hours=1))
    _, result = sign_in(ms)
    with graph(ms, result["access_token"], prefer_utc=False) as client:
        plain = client.post("/me/calendar/getSchedule", json=schedule_body()).json()
        pacific = client.post(
            "/me/calendar/getSchedule",
            json=schedule_body(),
            headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'},
        ).json()
    assert plain["value"][0]["scheduleItems"][0]["start"] == {
        "dateTime": "2026-12-01T09:00:00.0000000",
        "timeZone": "UTC",
    }
    assert pacific["value"][0]["scheduleItems"][0]["start"] == {
        "dateTime": "2026-12-01T01:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    call = [r for r in ms.requests if r["path"] == "/v1.0/me/calendar/getSchedule"][0]
    assert "Prefer" not in call["headers"]


def test_get_schedule_validation(ms):
    _, result = sign_in(ms)
    with graph(ms, result["access_token"]) as client:
        resp = client.post("/me/calendar/getSchedule", json=schedule_body(end="2027-02-02T08:00:00"))
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "ErrorInvalidParameter"
        assert "62 days" in resp.json()["error"]["message"]
        resp = client.post("/me/calendar/getSchedule", json={**schedule_body(), "timeZone": "UTC"})
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "RequestBodyRead"
        bad_zone = {**schedule_body(), "endTime": {"dateTime": "2026-12-01T12:00:00", "timeZone": "Mars/Olympus"}}
        resp = client.post("/me/calendar/getSchedule", json=bad_zone)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "TimeZoneNotSupportedException"


def test_mailbox_concurrency_limit(ms):
    _, result = sign_in(ms)
    ms.delay_next("getschedule", 0.6, times=4)
    statuses = []

    def call():
        with graph(ms, result["access_token"]) as client:
            statuses.append(client.post("/me/calendar/getSchedule", json=schedule_body()).status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while sum(r["path"].endswith("getSchedule") for r in ms.requests) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # let the 4th request be counted
    with graph(ms, result["access_token"]) as client:
        fifth = client.post("/me/calendar/getSchedule", json=schedule_body())
    for t in threads:
        t.join()
    assert fifth.status_code == 429 and fifth.headers["Retry-After"]
    assert fifth.json()["error"]["code"] == "ApplicationThrottled"
    assert fifth.json()["error"]["message"] == "Application is over its MailboxConcurrency limit."
    assert statuses == [200] * 4
    with graph(ms, result["access_token"]) as client:  # budget is back once they finished
        assert client.post("/me/calendar/getSchedule", json=schedule_body()).status_code == 200


# ---------------------------------------------------------------- Graph: events
def test_create_is_idempotent_per_transaction_id_and_has_teams_link(ms):
    _, result = sign_in(ms)
    body = meeting(isOnlineMeeting=True, onlineMeetingProvider="teamsForBusiness", transactionId="booking-42")
    with graph(ms, result["access_token"]) as client:
        first = client.post("/me/events", json=body)
        second = client.post("/me/calendar/events", json=body)
        other = client.post("/me/events", json={**body, "transactionId": "booking-43"})
    assert first.status_code == 201 and second.status_code == 201
    ev = first.json()
    assert second.json()["id"] == ev["id"] and other.json()["id"] != ev["id"]
    assert set(ms.events[ALICE]) == {ev["id"], other.json()["id"]}

    assert re.fullmatch(
        r"https://teams\.microsoft\.com/l/meetup-join/19%3ameeting_[A-Za-z0-9]+%40thread\.v2/0\?context=.+",
        ev["onlineMeeting"]["joinUrl"],
    )
    assert ev["onlineMeeting"]["joinUrl"] in ev["body"]["content"] and ev["body"]["contentType"] == "html"
    assert ev["bodyPreview"].startswith("Booked by the bot")
    assert ev["isOnlineMeeting"] is True and ev["onlineMeetingProvider"] == "teamsForBusiness"
    assert ev["start"] == {"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": "UTC"}
    assert ev["attendees"] == [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Guest", "address": "guest@example.org"},
        }
    ]
    assert ev["organizer"] == {"emailAddress": {"name": "Alice Example", "address": ALICE}}
    assert ev["isOrganizer"] is True and ev["showAs"] == "busy" and ev["transactionId"] == "booking-42"
    assert ev["id"].startswith("AAMk") and len(ev["id"]) > 100 and ev["changeKey"] and ev["iCalUId"]
    assert ev["webLink"].startswith("https://outlook.office365.com/owa/?itemid=")
    assert ev["createdDateTime"].endswith("Z") and ev["@odata.etag"] == f'W/"{ev["changeKey"]}"'

    with graph(ms, result["access_token"]) as client:
        plain = client.post("/me/events", json=meeting()).json()
    assert plain["onlineMeeting"] is None and plain["isOnlineMeeting"] is False
    assert plain["onlineMeetingProvider"] == "unknown"


def test_create_in_another_zone(ms):
    _, result = sign_in(ms)
    body = meeting(
        start={"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Berlin"},
        end={"dateTime": "2026-12-01T10:30:00", "timeZone": "W. Europe Standard Time"},
    )
    with graph(ms, result["access_token"], prefer_utc=False) as client:
        ev = client.post("/me/events", json=body).json()
        assert ev["start"] == {"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": "Europe/Berlin"}  # as given
        fetched = client.get(f"/me/events/{ev['id']}").json()  # GET without Prefer: UTC
        assert fetched["start"] == {"dateTime": "2026-12-01T09:00:00.0000000", "timeZone": "UTC"}
        text = client.get(f"/me/events/{ev['id']}", headers={"Prefer": 'outlook.body-content-type="text"'}).json()
        assert text["body"] == {"contentType": "text", "content": "Booked by the bot"}


def test_invalid_event_bodies(ms):
    _, result = sign_in(ms)
    cases = [
        (
            meeting(meetingLink="x"),
            "RequestBodyRead",
            "The property 'meetingLink' does not exist on type 'microsoft.graph.event'",
        ),
        (
            meeting(start={"dateTime": "2026-12-01T10:00:00", "tz": "UTC"}),
            "RequestBodyRead",
            "The property 'tz' does not exist on type 'microsoft.graph.dateTimeTimeZone'",
        ),
        (meeting(isOnlineMeeting="yes"), "RequestBodyRead", "'Edm.Boolean'"),
        (meeting(showAs="sleeping"), "RequestBodyRead", "microsoft.graph.freeBusyStatus"),
        (
            meeting(attendees={"emailAddress": {"address": "a@b.c"}}),
            "RequestBodyRead",
            "'StartArray' node was expected",
        ),
        (meeting(end={"dateTime": "2026-12-01T09:00:00", "timeZone": "UTC"}), "ErrorInvalidParameter", "end time"),
        (meeting(start={"dateTime": "2026-12-01T10:00:00"}), "TimeZoneNotSupportedException", "valid TimeZone"),
        (
            meeting(start={"dateTime": "2026-12-01T10:00:00", "timeZone": "Nowhere"}),
            "TimeZoneNotSupportedException",
            "'Nowhere'",
        ),
    ]
    with graph(ms, result["access_token"]) as client:
        for body, code, needle in cases:
            resp = client.post("/me/events", json=body)
            assert resp.status_code == 400, body
            assert resp.json()["error"]["code"] == code and needle in resp.json()["error"]["message"], resp.json()
        resp = client.post("/me/events", content=b"{not json", headers={"Content-Type": "application/json"})
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadRequest"
    assert ms.events[ALICE] == {}


def test_fail_next_429_with_retry_after(ms):
    _, result = sign_in(ms)
    ms.fail_next("create", 429, retry_after=3)
    with graph(ms, result["access_token"]) as client:
        resp = client.post("/me/events", json=meeting())
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
        assert resp.json()["error"]["code"] == "TooManyRequests"
        assert client.post("/me/events", json=meeting()).status_code == 201  # only the next call failed

        ms.fail_next("getschedule", 503, times=2)
        for _ in range(2):
            resp = client.post("/me/calendar/getSchedule", json=schedule_body())
            assert resp.status_code == 503 and resp.json()["error"]["code"] == "ServiceNotAvailable"
        ms.fail_next("get", 500, code="ErrorInternalServerError", message="boom")
        resp = client.get("/me/events/" + next(iter(ms.events[ALICE])))
        assert resp.json()["error"]["code"] == "ErrorInternalServerError" and resp.json()["error"]["message"] == "boom"


def test_delay_next(ms):
    _, result = sign_in(ms)
    event_id = ms.add_busy(ALICE, T0, T0 + timedelta(hours=1))
    ms.delay_next("get", 0.3)
    started = time.monotonic()
    with graph(ms, result["access_token"]) as client:
        assert client.get(f"/me/events/{event_id}").json()["subject"] == "Busy"
    assert time.monotonic() - started >= 0.3


def test_patch_get_delete_then_404(ms):
    _, result = sign_in(ms)
    with graph(ms, result["access_token"]) as client:
        ev = client.post("/me/events", json=meeting()).json()
        patched = client.patch(
            f"/me/events/{ev['id']}",
            json={"subject": "Renamed", "start": {"dateTime": "2026-12-01T09:45:00", "timeZone": "UTC"}},
        )
        assert patched.status_code == 200
        p = patched.json()
        assert (
            p["subject"] == "Renamed"
            and p["end"] == ev["end"]
            and p["start"]["dateTime"].startswith("2026-12-01T09:45")
        )
        assert p["changeKey"] != ev["changeKey"] and p["lastModifiedDateTime"] > ev["lastModifiedDateTime"]
        assert p["createdDateTime"] == ev["createdDateTime"] and p["id"] == ev["id"]
        bad = client.patch(
            f"/me/events/{ev['id']}", json={"end": {"dateTime": "2026-12-01T09:00:00", "timeZone": "UTC"}}
        )
        assert bad.status_code == 400 and ms.events[ALICE][ev["id"]]["subject"] == "Renamed"
        assert client.get(f"/me/events/{ev['id']}").json()["subject"] == "Renamed"

        deleted = client.delete(f"/me/events/{ev['id']}")
        assert deleted.status_code == 204 and deleted.content == b""
        for resp in (client.get(f"/me/events/{ev['id']}"), client.delete(f"/me/events/{ev['id']}")):
            assert resp.status_code == 404
            assert resp.json()["error"]["code"] == "ErrorItemNotFound"
            assert resp.json()["error"]["message"] == "The specified object was not found in the store."
        resp = client.get("/me/events/nope")
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "ErrorInvalidIdMalformed"


def test_cancel(ms):
    _, result = sign_in(ms)
    with graph(ms, result["access_token"]) as client:
        ev = client.post("/me/events", json=meeting()).json()
        resp = client.post(f"/me/events/{ev['id']}/cancel", json={"comment": "Sorry, cancelled by the bot"})
        assert resp.status_code == 202 and resp.content == b""
        assert ev["id"] not in ms.events[ALICE]
        assert client.post(f"/me/events/{ev['id']}/cancel", json={}).status_code == 404

        other = client.post("/me/events", json=meeting()).json()
        ms.events[ALICE][other["id"]]["isOrganizer"] = False  # an invitation from someone else
        resp = client.post(f"/me/events/{other['id']}/cancel", json={"comment": "no"})
        assert resp.status_code == 400 and "organizer" in resp.json()["error"]["message"]
        resp = client.post(f"/me/events/{other['id']}/cancel", json={"reason": "x"})
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "RequestBodyRead"


def test_unknown_graph_path(ms):
    _, result = sign_in(ms)
    with graph(ms, result["access_token"]) as client:
        resp = client.get("/me/calendars/whatever")
    assert (
        resp.status_code == 400 and resp.json()["error"]["message"] == "Resource not found for the segment 'calendars'."
    )

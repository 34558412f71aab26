"""The fake Google server, exercised through the real Google client libraries."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from oauthlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError

from tests.fakes.google import FakeGoogle

ALICE = "alice@example.com"
BOB = "bob@example.com"
REDIRECT = "http://localhost:8000/oauth/google/callback"
SCOPES = [
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _insecure_transport(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # oauthlib refuses http:// token URLs otherwise


@pytest.fixture
def g():
    with FakeGoogle() as fake:
        fake.add_user(ALICE)
        fake.add_user(BOB)
        yield fake


# ---------------------------------------------------------------- helpers
def make_flow(g: FakeGoogle, scopes=SCOPES, secret=None) -> Flow:
    config = {
        "web": {
            "client_id": g.client_id,
            "client_secret": secret or g.client_secret,
            "auth_uri": g.auth_uri,
            "token_uri": g.token_uri,
            "redirect_uris": [REDIRECT],
        }
    }
    return Flow.from_client_config(config, scopes=scopes, redirect_uri=REDIRECT, autogenerate_code_verifier=True)


def consent(g: FakeGoogle, flow: Flow) -> dict:
    """Run the browser leg: follow the auth URL, return the redirect's query parameters."""
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    resp = requests.get(url, allow_redirects=False)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["state"] == state
    return params


def connect(g: FakeGoogle, scopes=SCOPES) -> Credentials:
    flow = make_flow(g, scopes)
    flow.fetch_token(code=consent(g, flow)["code"])
    return flow.credentials


def calendar(g: FakeGoogle, creds: Credentials):
    return build(
        "calendar",
        "v3",
        credentials=creds,
        static_discovery=True,
        client_options={"api_endpoint": g.url + "/calendar/v3/"},
    )


def jwt_payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def meeting(**extra) -> dict:
    return {
        "summary": "Intro call",
        "description": "Booked by the bot",
        "start": {"dateTime": "2026-12-01T10:00:00+01:00"},
        "end": {"dateTime": "2026-12-01T10:30:00+01:00"},
        "attendees": [{"email": "guest@example.org"}],
        **extra,
    }


def error_reason(err: HttpError) -> str:
    return json.loads(err.content)["error"]["errors"][0]["reason"]


# ---------------------------------------------------------------- OAuth
def test_pkce_auth_code_exchange(g):
    flow = make_flow(g)
    params = consent(g, flow)
    assert params["scope"].split() == SCOPES
    token = flow.fetch_token(code=params["code"])

    assert token["refresh_token"] in g.issued_refresh_tokens()
    assert token["expires_in"] == 3599 and token["token_type"] == "Bearer"
    claims = jwt_payload(token["id_token"])
    assert claims["email"] == ALICE and claims["email_verified"] is True
    assert claims["aud"] == g.client_id and claims["iss"] == g.url and claims["exp"] > claims["iat"]
    auth_req = next(r for r in g.requests if r["path"] == "/o/oauth2/auth")
    assert auth_req["query"]["code_challenge_method"] == "S256"
    token_req = next(r for r in g.requests if r["path"] == "/token")
    assert token_req["body"]["code_verifier"] == flow.code_verifier
    creds = flow.credentials
    assert creds.refresh_token == token["refresh_token"] and creds.valid


def test_consent_as_and_denied(g):
    g.consent_as = BOB
    flow = make_flow(g)
    flow.fetch_token(code=consent(g, flow)["code"])
    assert jwt_payload(flow.oauth2session.token["id_token"])["email"] == BOB

    g.deny_consent = True
    params = consent(g, make_flow(g))
    assert params["error"] == "access_denied" and "code" not in params


def test_unknown_client_gets_error_page(g):
    resp = requests.get(
        g.auth_uri,
        params={"client_id": "nope", "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid"},
        allow_redirects=False,
    )
    assert resp.status_code == 400


def test_wrong_or_missing_verifier_rejected(g):
    flow = make_flow(g)
    code = consent(g, flow)["code"]
    right = flow.code_verifier
    flow.code_verifier = "x" * 64
    with pytest.raises(InvalidGrantError, match="Invalid code verifier"):
        flow.fetch_token(code=code)
    flow.code_verifier = None
    with pytest.raises(InvalidGrantError, match="Missing code verifier"):
        flow.fetch_token(code=code)
    flow.code_verifier = right
    flow.fetch_token(code=code)  # a failed attempt does not burn the code


def test_reused_code_rejected(g):
    flow = make_flow(g)
    code = consent(g, flow)["code"]
    flow.fetch_token(code=code)
    with pytest.raises(InvalidGrantError, match="Bad Request"):
        flow.fetch_token(code=code)


def test_expired_code_rejected(g, monkeypatch):
    flow = make_flow(g)
    code = consent(g, flow)["code"]
    monkeypatch.setattr(FakeGoogle, "CODE_TTL", 0)
    flow2 = make_flow(g)
    code2 = consent(g, flow2)["code"]
    time.sleep(0.01)
    with pytest.raises(InvalidGrantError):
        flow2.fetch_token(code=code2)
    flow.fetch_token(code=code)  # issued with the normal 10 minute lifetime


def test_wrong_client_secret(g):
    flow = make_flow(g, secret="wrong")
    with pytest.raises(InvalidClientError):
        flow.fetch_token(code=consent(g, flow)["code"])


def test_email_alias_scope_is_rewritten_like_google(g):
    flow = make_flow(g, scopes=["email", "https://www.googleapis.com/auth/calendar.events"])
    code = consent(g, flow)["code"]
    with pytest.raises(Warning, match="Scope has changed"):  # what real Google does to oauthlib, too
        flow.fetch_token(code=code)


def test_refresh_then_revoked_refresh_fails(g):
    rt = connect(g).refresh_token
    creds = Credentials(
        None, refresh_token=rt, token_uri=g.token_uri, client_id=g.client_id, client_secret=g.client_secret
    )
    creds.refresh(Request())
    assert creds.token.startswith("ya29.") and creds.valid
    assert calendar(g, creds).events().insert(calendarId="primary", body=meeting()).execute()["id"]

    g.revoke_refresh_token(rt)
    again = Credentials(
        None, refresh_token=rt, token_uri=g.token_uri, client_id=g.client_id, client_secret=g.client_secret
    )
    with pytest.raises(RefreshError, match="invalid_grant"):
        again.refresh(Request())


def test_revoke_endpoint(g):
    creds = connect(g)
    assert requests.post(g.revoke_uri, data={"token": creds.refresh_token}).json() == {}
    with pytest.raises(RefreshError, match="invalid_grant"):
        creds.refresh(Request())
    assert requests.post(g.revoke_uri, params={"token": creds.refresh_token}).status_code == 400


def test_injected_token_error(g):
    creds = connect(g)
    g.fail_next("token", 400, oauth_error="invalid_grant")
    with pytest.raises(RefreshError, match="Token has been expired or revoked"):
        creds.refresh(Request())
    creds.refresh(Request())  # only the next call failed


# ---------------------------------------------------------------- Calendar
def test_freebusy_returns_added_busy(g):
    g.add_busy(ALICE, T0, T0 + timedelta(hours=1))
    g.add_busy(ALICE, T0 + timedelta(minutes=30), T0 + timedelta(hours=2))  # overlaps: merged
    g.add_busy(ALICE, T0 + timedelta(days=3), T0 + timedelta(days=3, hours=1))  # outside the window
    svc = calendar(g, connect(g))
    resp = (
        svc.freebusy()
        .query(
            body={
                "timeMin": "2026-12-01T08:00:00Z",
                "timeMax": "2026-12-01T10:30:00Z",
                "items": [{"id": ALICE}, {"id": BOB}],
            }
        )
        .execute()
    )
    assert resp["kind"] == "calendar#freeBusy"
    assert resp["calendars"][ALICE]["busy"] == [{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:30:00Z"}]
    assert resp["calendars"][BOB] == {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}


def test_freebusy_limits(g):
    svc = calendar(g, connect(g))
    with pytest.raises(HttpError) as e:
        svc.freebusy().query(
            body={"timeMin": "2026-12-01T00:00:00Z", "timeMax": "2027-03-01T00:00:00Z", "items": [{"id": ALICE}]}
        ).execute()
    assert e.value.resp.status == 400 and error_reason(e.value) == "timeRangeTooLong"
    with pytest.raises(HttpError) as e:
        svc.freebusy().query(
            body={
                "timeMin": "2026-12-01T00:00:00Z",
                "timeMax": "2026-12-02T00:00:00Z",
                "items": [{"id": f"u{i}@example.com"} for i in range(51)],
            }
        ).execute()
    assert e.value.resp.status == 400


def test_insert_with_meet_link_and_duplicate_id(g):
    svc = calendar(g, connect(g))
    body = meeting(
        id="booking0001",
        conferenceData={"createRequest": {"requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}},
    )
    ev = svc.events().insert(calendarId="primary", body=body, conferenceDataVersion=1, sendUpdates="all").execute()

    assert ev["id"] == "booking0001" and ev["status"] == "confirmed" and ev["kind"] == "calendar#event"
    assert re.fullmatch(r"https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}", ev["hangoutLink"])
    assert ev["conferenceData"]["entryPoints"][0]["uri"] == ev["hangoutLink"]
    assert ev["conferenceData"]["createRequest"]["status"] == {"statusCode": "success"}
    assert ev["attendees"] == [{"email": "guest@example.org", "responseStatus": "needsAction"}]
    assert ev["organizer"] == {"email": ALICE, "self": True} and ev["iCalUID"] == "booking0001@google.com"
    assert g.events[ALICE]["booking0001"] == ev
    insert_req = [r for r in g.requests if r["method"] == "POST" and r["path"].endswith("/events")][-1]
    assert insert_req["query"]["sendUpdates"] == "all" and insert_req["auth"].startswith("Bearer ya29.")

    # same requestId -> same Meet link; no conferenceDataVersion -> conferenceData ignored
    again = svc.events().insert(calendarId=ALICE, body={**body, "id": "booking0002"}, conferenceDataVersion=1).execute()
    assert again["hangoutLink"] == ev["hangoutLink"]
    plain = svc.events().insert(calendarId=ALICE, body={**body, "id": "booking0003"}).execute()
    assert "hangoutLink" not in plain and "conferenceData" not in plain

    with pytest.raises(HttpError) as e:
        svc.events().insert(calendarId="primary", body=body, conferenceDataVersion=1).execute()
    assert e.value.resp.status == 409 and error_reason(e.value) == "duplicate"
    with pytest.raises(HttpError) as e:
        svc.events().insert(calendarId="primary", body=meeting(id="Not-Base32")).execute()
    assert e.value.resp.status == 400 and "Invalid resource id value." in str(e.value)


def test_invalid_event_bodies_rejected(g):
    svc = calendar(g, connect(g))
    for body, needle in [
        (meeting(meetingLink="x"), 'Unknown name "meetingLink"'),
        (meeting(start={"dateTime": "2026-12-01T10:00:00Z", "tz": "UTC"}), 'Unknown name "tz"'),
        (meeting(attendees=[{"email": "a@b.c", "optional": "yes"}]), "Invalid value"),
        (meeting(end={"dateTime": "2026-12-01T08:00:00Z"}), "The specified time range is empty."),
        (meeting(start={"dateTime": "2026-12-01T10:00:00"}), "Missing time zone definition for start time."),
    ]:
        with pytest.raises(HttpError) as e:
            svc.events().insert(calendarId="primary", body=body).execute()
        assert e.value.resp.status == 400 and needle in str(e.value), body


def test_unknown_query_parameter_and_missing_auth(g):
    creds = connect(g)
    url = g.url + "/calendar/v3/freeBusy"
    body = {"timeMin": "2026-12-01T00:00:00Z", "timeMax": "2026-12-02T00:00:00Z", "items": []}
    resp = requests.post(url, params={"bogus": "1"}, json=body, headers={"Authorization": f"Bearer {creds.token}"})
    assert resp.status_code == 400 and 'Unknown name "bogus"' in resp.json()["error"]["message"]
    resp = requests.post(url, json=body)
    assert resp.status_code == 401 and resp.json()["error"]["status"] == "UNAUTHENTICATED"


def test_other_users_calendar_and_scope(g):
    svc = calendar(g, connect(g))
    with pytest.raises(HttpError) as e:
        svc.events().insert(calendarId=BOB, body=meeting()).execute()
    assert e.value.resp.status == 404
    readonly = calendar(g, connect(g, scopes=["https://www.googleapis.com/auth/calendar.freebusy"]))
    with pytest.raises(HttpError) as e:
        readonly.events().insert(calendarId="primary", body=meeting()).execute()
    assert e.value.resp.status == 403 and error_reason(e.value) == "insufficientPermissions"


def test_expired_access_token_is_refreshed_by_the_client(g):
    creds = connect(g)
    svc = calendar(g, creds)
    old = creds.token
    g.expire_access_tokens()
    ev = svc.events().insert(calendarId="primary", body=meeting()).execute()
    assert ev["id"] in g.events[ALICE] and creds.token != old
    calls = [r for r in g.requests if r["path"].startswith("/calendar/") or r["path"] == "/token"]
    assert [r["path"] for r in calls[-3:]] == [
        "/calendar/v3/calendars/primary/events",
        "/token",
        "/calendar/v3/calendars/primary/events",
    ]
    assert calls[-3]["auth"] == f"Bearer {old}" and calls[-1]["auth"] == f"Bearer {creds.token}"


def test_fail_next_429_with_retry_after(g):
    svc = calendar(g, connect(g))
    g.fail_next("insert", 429, retry_after=7)
    with pytest.raises(HttpError) as e:
        svc.events().insert(calendarId="primary", body=meeting()).execute()
    assert e.value.resp.status == 429 and e.value.resp["retry-after"] == "7"
    assert error_reason(e.value) == "rateLimitExceeded" and e.value.reason == "Rate Limit Exceeded"
    assert json.loads(e.value.content)["error"]["errors"][0]["domain"] == "usageLimits"
    assert svc.events().insert(calendarId="primary", body=meeting()).execute()["status"] == "confirmed"

    g.fail_next("freebusy", 503, times=2)
    for _ in range(2):
        with pytest.raises(HttpError) as e:
            svc.freebusy().query(
                body={"timeMin": "2026-12-01T00:00:00Z", "timeMax": "2026-12-02T00:00:00Z", "items": []}
            ).execute()
        assert e.value.resp.status == 503 and error_reason(e.value) == "backendError"


def test_delay_next(g):
    svc = calendar(g, connect(g))
    g.delay_next("get", 0.3)
    event_id = g.add_busy(ALICE, T0, T0 + timedelta(hours=1))
    started = time.monotonic()
    assert svc.events().get(calendarId=ALICE, eventId=event_id).execute()["summary"] == "Busy"
    assert time.monotonic() - started >= 0.3


def test_patch_get_delete_then_410(g):
    svc = calendar(g, connect(g))
    ev = svc.events().insert(calendarId="primary", body=meeting()).execute()
    patched = (
        svc.events()
        .patch(
            calendarId="primary",
            eventId=ev["id"],
            sendUpdates="all",
            body={"summary": "Renamed", "start": {"dateTime": "2026-12-01T09:45:00+01:00"}},
        )
        .execute()
    )
    assert patched["summary"] == "Renamed" and patched["sequence"] == 1 and patched["end"] == ev["end"]

    assert svc.events().delete(calendarId="primary", eventId=ev["id"], sendUpdates="all").execute() == ""
    assert svc.events().get(calendarId="primary", eventId=ev["id"]).execute()["status"] == "cancelled"
    with pytest.raises(HttpError) as e:
        svc.events().delete(calendarId="primary", eventId=ev["id"]).execute()
    assert e.value.resp.status == 410 and error_reason(e.value) == "deleted"
    with pytest.raises(HttpError) as e:
        svc.events().get(calendarId="primary", eventId="unknown0001").execute()
    assert e.value.resp.status == 404 and error_reason(e.value) == "notFound"
    with pytest.raises(HttpError) as e:  # cancelled ids stay taken
        svc.events().insert(calendarId="primary", body=meeting(id=ev["id"])).execute()
    assert e.value.resp.status == 409

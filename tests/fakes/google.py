"""A fake Google OAuth 2.0 + Google Calendar v3 server for tests.

It runs on 127.0.0.1 (free port, plain HTTP) in a daemon thread and is meant to be
driven by the *real* client libraries (google-auth, google-auth-oauthlib,
google-api-python-client).  It mimics Google's observable behaviour closely
enough that a request Google would reject also fails here:

* OAuth: auth-code + PKCE (S256/plain), refresh, revoke; Google's error bodies;
  Google's scope rewriting ("email" -> ".../userinfo.email" plus "openid").
* Calendar: freeBusy.query, events.insert/get/patch/delete, each checked
  against the discovery document shipped with google-api-python-client
  (query parameter names/enums, request body property names and JSON types,
  OAuth scopes accepted by the method).

    with FakeGoogle() as g:
        g.add_user("alice@example.com")
        ...  # point the code under test at g.auth_uri / g.token_uri / g.url

Test hooks: fail_next / delay_next (per route), revoke_refresh_token,
expire_access_tokens; everything received is recorded in ``requests``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from datetime import date, datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import googleapiclient

from tests.fakes.base import FaultSwitches

_DISCOVERY = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents", "calendar.v3.json")
# Query parameters every Google API accepts on top of the method's own ones.
_STANDARD_PARAMS = {
    "alt",
    "fields",
    "key",
    "oauth_token",
    "prettyPrint",
    "quotaUser",
    "userIp",
    "$.xgafv",
    "access_token",
    "callback",
    "upload_protocol",
    "uploadType",
}
# Injectable route -> discovery method ("resource.method"); "token" is the OAuth endpoint.
_ROUTES = {
    "freebusy": "freebusy.query",
    "insert": "events.insert",
    "get": "events.get",
    "patch": "events.patch",
    "delete": "events.delete",
    "token": None,
}
_DEFAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "rateLimitExceeded",
    404: "notFound",
    409: "conflict",
    410: "deleted",
    429: "rateLimitExceeded",
}
_DEFAULT_MESSAGES = {"rateLimitExceeded": "Rate Limit Exceeded", "backendError": "Backend Error"}
# Reasons Google files under the "usageLimits" domain (everything else is "global").
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
_ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")  # Google event ids: base32hex, lowercase
_SCOPE_ALIASES = {
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
_ACCESS_TTL = 3599
_UNAUTHENTICATED = {
    "error": {
        "code": 401,
        "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
        "errors": [
            {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
}


class _Reply(Exception):
    """Raised anywhere while handling a request to answer it immediately."""

    def __init__(self, status: int, body=None, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _api_error(status: int, reason: str, message: str, *, domain: str | None = None, headers=None) -> _Reply:
    """Calendar-API-style error: {"error": {"code", "message", "errors": [...]}}."""
    domain = domain or ("usageLimits" if reason in _RATE_REASONS else "global")
    err = {"domain": domain, "reason": reason, "message": message}
    return _Reply(status, {"error": {"code": status, "message": message, "errors": [err]}}, headers)


def _invalid_argument(message: str) -> _Reply:
    """The newer ESF-style 400 Google uses for unparsable / unknown JSON and query parameters."""
    return _Reply(
        400,
        {
            "error": {
                "code": 400,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": "invalid"}],
                "status": "INVALID_ARGUMENT",
            }
        },
    )


def _oauth_error(status: int, error: str, description: str) -> _Reply:
    return _Reply(status, {"error": error, "error_description": description})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parse_rfc3339(value) -> datetime | None:
    """RFC 3339 timestamp -> aware datetime (naive if it has no offset); None if unparsable."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)?", value)
    if not m:
        return None
    frac = (m.group(2) or ".0")[1:7].ljust(6, "0")
    offset = {"z": "+00:00", "Z": "+00:00"}.get(m.group(3), m.group(3) or "")
    try:
        return datetime.fromisoformat(f"{m.group(1).upper()}.{frac}{offset}")
    except ValueError:
        return None


def _utc_z(dt: datetime, millis: bool = False) -> str:
    s = dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return s + (".000Z" if millis else "Z")


def _now_stamp() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _meet_code(request_id: str) -> str:
    """Deterministic xxx-xxxx-xxx Meet code derived from the createRequest.requestId."""
    digest = hashlib.sha256(request_id.encode()).digest()
    letters = "".join(chr(ord("a") + b % 26) for b in digest[:10])
    return f"{letters[:3]}-{letters[3:7]}-{letters[7:]}"


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to FakeGoogle._handle (HTTP/1.0: one request per connection)."""

    server_version = "FakeGoogle/1.0"

    def do_GET(self):
        self.server.fake._handle(self)

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET

    def log_message(self, *args):  # keep pytest output quiet
        pass


class FakeGoogle(FaultSwitches):
    ROUTES = tuple(_ROUTES)
    FAIL_DEFAULTS = {"reason": "", "message": "", "retry_after": None, "oauth_error": None}
    CODE_TTL = 600  # seconds an authorization code stays valid

    def __init__(self, *, client_id: str = "test-client", client_secret: str = "test-secret"):
        self.client_id, self.client_secret = client_id, client_secret
        self.url = ""
        self.consent_as: str | None = None
        self.deny_consent = False
        self.events: dict[str, dict[str, dict]] = {}
        self.requests: list[dict] = []
        #: The e-mails Google would send attendees ({"kind", "email", "event"}): sendUpdates=all
        #: (externalOnly: every attendee here, none has a Google calendar in the fake) invites the
        #: attendees of an insert and those a patch adds, tells the others of a moved time and
        #: everyone of a delete. GUESS: which attendees get an "updated" e-mail when only the
        #: attendee list changes is not documented; we record none.
        self.notified: list[dict] = []
        self._users: list[str] = []
        self._codes: dict[str, dict] = {}  # code -> {client_id, redirect_uri, challenge, method, scopes, user, ...}
        self._access: dict[str, dict] = {}  # access token -> {"grant": grant, "expired": bool}
        self._refresh: dict[str, dict] = {}  # refresh token -> grant
        self._init_switches()
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        with open(_DISCOVERY, encoding="utf-8") as f:
            self._discovery = json.load(f)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeGoogle:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="FakeGoogle", daemon=True
        )  # short poll interval: fast stop()
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    @property
    def auth_uri(self) -> str:
        return self.url + "/o/oauth2/auth"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    @property
    def revoke_uri(self) -> str:
        return self.url + "/revoke"

    # ------------------------------------------------------------------ test setup / hooks
    def add_user(self, email: str) -> None:
        with self._lock:
            if email not in self._users:
                self._users.append(email)
            self.events.setdefault(email, {})

    def add_busy(self, calendar_id: str, start: datetime, end: datetime) -> str:
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("add_busy needs timezone-aware datetimes")
        with self._lock:
            event_id = self._new_event_id()
            body = {
                "id": event_id,
                "summary": "Busy",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": end.isoformat()},
            }
            self.events.setdefault(calendar_id, {})[event_id] = self._new_event(calendar_id, body)
            return event_id

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """As if the user removed the app's access: the whole grant dies."""
        with self._lock:
            self._refresh[refresh_token]["revoked"] = True

    # ------------------------------------------------------------------ HTTP plumbing
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        ctype = h.headers.get("Content-Type", "")
        body, bad_json = None, False
        if raw and "json" in ctype:
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        elif raw and "x-www-form-urlencoded" in ctype:
            body = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        segments = [unquote(s) for s in split.path.split("/")[1:]]
        with self._lock:
            self.requests.append(
                {
                    "method": h.command,
                    "path": unquote(split.path),
                    "query": query,
                    "body": body,
                    "auth": h.headers.get("Authorization"),
                }
            )
        try:
            route, fn, args = self._route(h.command, segments)
            if route:
                self._injected(route)  # may sleep, may raise _Reply
            if bad_json:
                raise _invalid_argument("Invalid JSON payload received. Unexpected token.")
            with self._lock:
                reply = fn(h, query, body, *args)
        except _Reply as r:
            reply = r
        except Exception as e:  # a bug in the fake: make it loud
            reply = _api_error(500, "backendError", f"FakeGoogle crashed: {e!r}")
        self._send(h, reply)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, reply: _Reply) -> None:
        if reply.body is None:
            payload, ctype = b"", None
        elif isinstance(reply.body, str):
            payload, ctype = reply.body.encode(), "text/html; charset=UTF-8"
        else:
            payload, ctype = json.dumps(reply.body, indent=2).encode(), "application/json; charset=UTF-8"
        h.send_response(reply.status)
        if ctype:
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        for k, v in reply.headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)

    def _route(self, method: str, seg: list[str]):
        """-> (injectable route name or None, handler, extra args)."""
        if method == "GET" and seg == ["o", "oauth2", "auth"]:
            return None, self._authorize, ()
        if method == "POST" and seg == ["token"]:
            return "token", self._token, ()
        if method == "POST" and seg == ["revoke"]:
            return None, self._revoke, ()
        if seg[:2] == ["calendar", "v3"]:
            rest = seg[2:]
            if method == "POST" and rest == ["freeBusy"]:
                return "freebusy", self._freebusy, ()
            if len(rest) == 3 and rest[0] == "calendars" and rest[2] == "events" and method == "POST":
                return "insert", self._insert, (rest[1],)
            if len(rest) == 4 and rest[0] == "calendars" and rest[2] == "events":
                name = {"GET": "get", "PATCH": "patch", "DELETE": "delete"}.get(method)
                if name:
                    return name, getattr(self, "_" + name), (rest[1], rest[3])
            raise _api_error(501, "notImplemented", f"FakeGoogle does not implement {method} /{'/'.join(seg)}")
        raise _Reply(404, "<html><body>Error 404 (Not Found)!!1</body></html>")

    def _injected(self, route: str) -> None:
        """Apply delay_next / fail_next for this route."""
        with self._lock:
            delay = self._delays[route].popleft() if self._delays[route] else 0
            failure = self._failures[route].popleft() if self._failures[route] else None
        if delay:
            time.sleep(delay)
        if not failure:
            return
        status, reason, message = failure["status"], failure["reason"], failure["message"]
        headers = {"Retry-After": str(failure["retry_after"])} if failure["retry_after"] is not None else {}
        if route == "token":
            error = failure["oauth_error"] or {400: "invalid_request", 401: "invalid_client"}.get(
                status, "internal_failure" if status >= 500 else "temporarily_unavailable"
            )
            default = {
                "invalid_grant": "Token has been expired or revoked.",
                "invalid_client": "The OAuth client was not found.",
            }.get(error, HTTPStatus(status).phrase)
            raise _Reply(status, {"error": error, "error_description": message or default}, headers)
        if not reason:  # Google's usual reason for that status
            reason = _DEFAULT_REASONS.get(status, "backendError" if status >= 500 else "unknown")
        if not message:
            message = _DEFAULT_MESSAGES.get(reason, HTTPStatus(status).phrase)
        raise _api_error(status, reason, message, headers=headers)

    # ------------------------------------------------------------------ OAuth 2.0
    def _authorize(self, h, q, body):
        """GET /o/oauth2/auth: the consent screen, answered instantly."""
        if q.get("client_id") != self.client_id:
            raise _Reply(400, "<html><body>Error 401: invalid_client. The OAuth client was not found.</body></html>")
        redirect_uri = q.get("redirect_uri")
        if not redirect_uri:
            raise _Reply(
                400, "<html><body>Error 400: invalid_request. Missing required parameter: redirect_uri</body></html>"
            )
        if q.get("response_type") != "code":
            raise _Reply(400, "<html><body>Error 400: unsupported_response_type</body></html>")
        if not q.get("scope"):
            raise _Reply(400, "<html><body>Error 400: invalid_request. Missing required parameter: scope</body></html>")
        requested = q["scope"].split()
        bad = [
            s
            for s in requested
            if s not in ("openid", *_SCOPE_ALIASES, *_SCOPE_ALIASES.values())
            and not s.startswith("https://www.googleapis.com/auth/")
        ]
        if bad:
            raise _Reply(
                400,
                f"<html><body>Error 400: invalid_scope. Some requested scopes were invalid. "
                f"{{invalid={bad}}}</body></html>",
            )
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method", "plain")
        if challenge and method not in ("S256", "plain"):
            raise _Reply(400, "<html><body>Error 400: invalid_request. Invalid code_challenge_method</body></html>")
        user = self.consent_as or (self._users[0] if self._users else None)
        if user not in self._users:
            raise _Reply(
                400, f"<html><body>FakeGoogle: no user to consent as ({user!r}); call add_user()</body></html>"
            )
        params = {"state": q["state"]} if "state" in q else {}
        if self.deny_consent:
            params = {"error": "access_denied", **params}
        else:
            code = "4/0A" + secrets.token_urlsafe(32)
            scopes = self._grant_scopes(requested)
            self._codes[code] = {
                "client_id": q["client_id"],
                "redirect_uri": redirect_uri,
                "challenge": challenge,
                "method": method,
                "scopes": scopes,
                "user": user,
                "expires": time.monotonic() + self.CODE_TTL,
                "used": False,
            }
            params.update(code=code, scope=" ".join(scopes), authuser="0", prompt="consent")
        sep = "&" if "?" in redirect_uri else "?"
        raise _Reply(302, None, {"Location": redirect_uri + sep + urlencode(params)})

    @staticmethod
    def _grant_scopes(requested: list[str]) -> list[str]:
        """Google rewrites "email"/"profile" to URLs and adds "openid" when they are asked for."""
        scopes = list(dict.fromkeys(_SCOPE_ALIASES.get(s, s) for s in requested))
        if any(s in _SCOPE_ALIASES.values() for s in scopes) and "openid" not in scopes:
            scopes.insert(0, "openid")
        return scopes

    def _client_auth(self, h, form: dict) -> str:
        """Client credentials from HTTP Basic or the form body -> client_id, else 401 invalid_client."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = h.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
                client_id, secret = unquote(client_id), unquote(secret)
            except ValueError:
                raise _oauth_error(401, "invalid_client", "Unauthorized") from None
        if client_id != self.client_id:
            raise _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if secret != self.client_secret:
            raise _oauth_error(401, "invalid_client", "Unauthorized")
        return client_id

    def _token(self, h, q, form):
        """POST /token: authorization_code and refresh_token grants."""
        form = form if isinstance(form, dict) else {}
        client_id = self._client_auth(h, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            info = self._codes.get(form.get("code", ""))
            if not info or info["used"] or time.monotonic() > info["expires"] or info["client_id"] != client_id:
                raise _oauth_error(400, "invalid_grant", "Bad Request")
            if form.get("redirect_uri") != info["redirect_uri"]:
                raise _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
            if info["challenge"]:
                verifier = form.get("code_verifier")
                if not verifier:
                    raise _oauth_error(400, "invalid_grant", "Missing code verifier.")
                computed = _b64url(hashlib.sha256(verifier.encode()).digest()) if info["method"] == "S256" else verifier
                if computed != info["challenge"]:
                    raise _oauth_error(400, "invalid_grant", "Invalid code verifier.")
            info["used"] = True  # single use (only consumed by a successful exchange)
            grant = {"user": info["user"], "client_id": client_id, "scopes": info["scopes"], "revoked": False}
            refresh_token = "1//0" + secrets.token_urlsafe(40)
            self._refresh[refresh_token] = grant
            return _Reply(200, self._token_response(grant, refresh_token))
        if grant_type == "refresh_token":
            grant = self._refresh.get(form.get("refresh_token", ""))
            if not grant or grant["revoked"]:
                raise _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            if grant["client_id"] != client_id:
                raise _oauth_error(401, "unauthorized_client", "Unauthorized")
            return _Reply(200, self._token_response(grant))
        raise _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type or ''}")

    def _token_response(self, grant: dict, refresh_token: str | None = None) -> dict:
        access = "ya29." + secrets.token_urlsafe(40)
        self._access[access] = {"grant": grant, "expired": False}
        out = {
            "access_token": access,
            "expires_in": _ACCESS_TTL,
            "scope": " ".join(grant["scopes"]),
            "token_type": "Bearer",
        }
        if refresh_token:
            out["refresh_token"] = refresh_token
        if "openid" in grant["scopes"]:
            out["id_token"] = self._id_token(grant)
        return out

    def _id_token(self, grant: dict) -> str:
        """HS256 JWT signed with the client secret (Google uses RS256; only the payload matters here)."""
        now = int(time.time())
        sub = str(int(hashlib.sha256(grant["user"].encode()).hexdigest(), 16))[:21]
        header = {"alg": "HS256", "kid": "fake", "typ": "JWT"}
        payload = {
            "iss": self.url,
            "azp": grant["client_id"],
            "aud": grant["client_id"],
            "sub": sub,
            "email": grant["user"],
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
        }
        signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(payload).encode())
        sig = hmac.new(self.client_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64url(sig)

    def _revoke(self, h, q, form):
        """POST /revoke?token=...: revokes the whole grant (refresh + access tokens)."""
        token = (form or {}).get("token") if isinstance(form, dict) else None
        token = token or q.get("token")
        grant = self._refresh.get(token) or (self._access.get(token) or {}).get("grant")
        if not grant or grant["revoked"]:
            raise _oauth_error(400, "invalid_token", "Token expired or revoked")
        grant["revoked"] = True
        return _Reply(200, {})

    # ------------------------------------------------------------------ Calendar: shared checks
    def _method_doc(self, name: str) -> dict:
        resource, method = name.split(".")
        return self._discovery["resources"][resource]["methods"][method]

    def _api_call(self, h, q, body, route: str) -> dict:
        """Auth, scope and discovery-document validation common to every Calendar call -> grant."""
        doc = self._method_doc(_ROUTES[route])
        auth = h.headers.get("Authorization", "")
        info = self._access.get(auth[7:]) if auth.startswith("Bearer ") else None
        if not info or info["expired"] or info["grant"]["revoked"]:
            raise _Reply(
                401,
                copy.deepcopy(_UNAUTHENTICATED),
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        grant = info["grant"]
        if not set(grant["scopes"]) & set(doc["scopes"]):
            raise _Reply(
                403,
                {
                    "error": {
                        "code": 403,
                        "message": "Request had insufficient authentication scopes.",
                        "errors": [
                            {
                                "message": "Insufficient Permission",
                                "domain": "global",
                                "reason": "insufficientPermissions",
                            }
                        ],
                        "status": "PERMISSION_DENIED",
                    }
                },
            )
        params = doc.get("parameters", {})
        for name, value in q.items():
            spec = params.get(name)
            if name in _STANDARD_PARAMS:
                continue
            if not spec or spec.get("location") != "query":
                raise _invalid_argument(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind '
                    f"query parameter. Field '{name}' could not be found in request message."
                )
            if "enum" in spec and value not in spec["enum"]:
                raise _api_error(400, "invalid", f"Invalid value for: {name}")
            if spec.get("type") == "integer":
                ok = isinstance(value, str) and re.fullmatch(r"-?\d+", value)
                if not ok or not int(spec.get("minimum", -(2**31))) <= int(value) <= int(spec.get("maximum", 2**31)):
                    raise _api_error(
                        400,
                        "invalid",
                        f"Invalid value '{value}'. Values must be within the range: "
                        f"[{spec.get('minimum')}, {spec.get('maximum')}]",
                    )
        if "request" in doc:
            if not isinstance(body, dict):
                raise _api_error(400, "parseError", "Parse Error")
            self._check_schema(body, doc["request"], "resource")
        return grant

    def _check_schema(self, value, schema: dict, path: str) -> None:
        """Reject property names / JSON types the discovery schema does not define."""
        if "$ref" in schema:
            schema = self._discovery["schemas"][schema["$ref"]]
        if value is None:  # null clears a field (patch semantics)
            return
        kind = schema.get("type", "object" if "properties" in schema else None)

        def bad_value():
            return _invalid_argument(
                f"Invalid JSON payload received. Invalid value at '{path}' "
                f"(TYPE_{str(kind).upper()}), {json.dumps(value)}"
            )

        if kind == "object":
            if not isinstance(value, dict):
                raise bad_value()
            props, extra = schema.get("properties", {}), schema.get("additionalProperties")
            for key, item in value.items():
                sub = props.get(key, extra)
                if sub is None:
                    raise _invalid_argument(
                        f"Invalid JSON payload received. Unknown name \"{key}\" at '{path}': Cannot find field."
                    )
                self._check_schema(item, sub, f"{path}.{key}")
        elif kind == "array":
            if not isinstance(value, list):
                raise bad_value()
            for i, item in enumerate(value):
                self._check_schema(item, schema.get("items", {}), f"{path}[{i}]")
        elif kind == "string" and not isinstance(value, str):
            raise bad_value()
        elif kind == "boolean" and not isinstance(value, bool):
            raise bad_value()
        elif kind == "integer" and (
            isinstance(value, bool)
            or not isinstance(value, (int, str))
            or isinstance(value, str)
            and not re.fullmatch(r"-?\d+", value)
        ):
            raise bad_value()

    def _calendar(self, grant: dict, calendar_id: str) -> str:
        """Resolve a calendar id the token may touch to its owner's email, else 404."""
        if calendar_id in ("primary", grant["user"]):
            return grant["user"]
        raise _api_error(404, "notFound", "Not Found")

    def _stored(self, owner: str, event_id: str) -> dict:
        event = self.events.get(owner, {}).get(event_id)
        if event is None:
            raise _api_error(404, "notFound", "Not Found")
        return event

    # ------------------------------------------------------------------ Calendar: freeBusy
    def _freebusy(self, h, q, body):
        grant = self._api_call(h, q, body, "freebusy")
        bounds = {}
        for name in ("timeMin", "timeMax"):
            if not body.get(name):
                raise _api_error(400, "required", f"Missing {name} parameter.")
            bounds[name] = _parse_rfc3339(body[name])
            if bounds[name] is None or bounds[name].tzinfo is None:
                raise _api_error(400, "badRequest", "Bad Request")
        t_min, t_max = bounds["timeMin"], bounds["timeMax"]
        if t_max < t_min:
            raise _api_error(400, "timeRangeEmpty", "The specified time range is empty.")
        if t_max - t_min > timedelta(days=61):
            raise _api_error(400, "timeRangeTooLong", "The requested time range is too long.")
        items = body.get("items") or []
        if len(items) > 50:
            raise _api_error(
                400, "tooManyCalendarsRequestedForTimeRange", "Too many calendars requested for the given time range."
            )
        try:
            tz = ZoneInfo(body.get("timeZone") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise _api_error(400, "invalid", "Invalid time zone definition.") from None

        def fmt(d: datetime) -> str:  # UTC as "...Z", other zones with their offset
            return _utc_z(d) if tz.key == "UTC" else d.astimezone(tz).isoformat()

        calendars = {}
        for item in items:
            cid = (item or {}).get("id", "")
            if cid not in ("primary", grant["user"]):
                calendars[cid] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            spans = sorted(
                (max(s, t_min), min(e, t_max))
                for ev in self.events.get(grant["user"], {}).values()
                if ev.get("status") != "cancelled" and ev.get("transparency") != "transparent"
                for s, e in [self._span(ev)]
                if s < t_max and e > t_min
            )
            merged: list[list[datetime]] = []
            for s, e in spans:  # Google reports merged busy blocks
                if merged and s <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], e)
                else:
                    merged.append([s, e])
            calendars[cid] = {"busy": [{"start": fmt(s), "end": fmt(e)} for s, e in merged]}
        return _Reply(
            200,
            {
                "kind": "calendar#freeBusy",
                "timeMin": _utc_z(t_min, True),
                "timeMax": _utc_z(t_max, True),
                "calendars": calendars,
            },
        )

    # ------------------------------------------------------------------ Calendar: events
    def _insert(self, h, q, body, calendar_id):
        owner = self._calendar(self._api_call(h, q, body, "insert"), calendar_id)
        cal = self.events.setdefault(owner, {})
        if "id" in body and body["id"] is not None:
            if not _ID_RE.match(body["id"]):
                raise _api_error(400, "invalid", "Invalid resource id value.")
            if body["id"] in cal:
                raise _api_error(409, "duplicate", "The requested identifier already exists.")
        event = self._new_event(owner, body, conference=q.get("conferenceDataVersion") == "1")
        cal[event["id"]] = event
        self._notify(q, "invitation", event, [a["email"] for a in event.get("attendees") or []])
        return _Reply(200, copy.deepcopy(event))

    def _notify(self, q: dict, kind: str, event: dict, emails) -> None:
        if q.get("sendUpdates") not in ("all", "externalOnly"):
            return  # "none", or absent: Google's default for the API is none
        for email in emails:
            if email.lower() != event["organizer"]["email"].lower():
                self.notified.append({"kind": kind, "email": email.lower(), "event": event["id"]})

    def _get(self, h, q, body, calendar_id, event_id):
        owner = self._calendar(self._api_call(h, q, body, "get"), calendar_id)
        return _Reply(200, copy.deepcopy(self._stored(owner, event_id)))

    def _patch(self, h, q, body, calendar_id, event_id):
        owner = self._calendar(self._api_call(h, q, body, "patch"), calendar_id)
        event = self._stored(owner, event_id)
        merged = self._merge(copy.deepcopy(event), {k: v for k, v in body.items() if k != "id"})
        if q.get("conferenceDataVersion") != "1":  # conferenceData changes are ignored at version 0
            merged.pop("conferenceData", None)
            if "conferenceData" in event:
                merged["conferenceData"] = copy.deepcopy(event["conferenceData"])
        self._normalize(owner, merged, conference=q.get("conferenceDataVersion") == "1")
        merged.update(sequence=event.get("sequence", 0) + 1, updated=_now_stamp(), etag=self._etag())
        self.events[owner][event_id] = merged
        before = {a["email"].lower() for a in event.get("attendees") or []}
        after = [a["email"] for a in merged.get("attendees") or []]
        self._notify(q, "invitation", merged, [e for e in after if e.lower() not in before])
        if self._span(merged) != self._span(event):
            self._notify(q, "update", merged, [e for e in after if e.lower() in before])
        return _Reply(200, copy.deepcopy(merged))

    def _delete(self, h, q, body, calendar_id, event_id):
        owner = self._calendar(self._api_call(h, q, body, "delete"), calendar_id)
        event = self._stored(owner, event_id)
        if event.get("status") == "cancelled":
            raise _api_error(410, "deleted", "Resource has been deleted")
        event.update(status="cancelled", updated=_now_stamp(), etag=self._etag())
        self._notify(q, "cancellation", event, [a["email"] for a in event.get("attendees") or []])
        return _Reply(204)

    # ------------------------------------------------------------------ event helpers
    @staticmethod
    def _new_event_id() -> str:
        return "".join(secrets.choice("0123456789abcdefghijklmnopqrstuv") for _ in range(26))

    @staticmethod
    def _etag() -> str:
        return f'"{time.time_ns() // 1000}"'

    def _new_event(self, owner: str, body: dict, conference: bool = False) -> dict:
        event = copy.deepcopy(body)
        event_id = event.get("id") or self._new_event_id()
        if not conference:
            event.pop("conferenceData", None)
        for output_only in (
            "kind",
            "etag",
            "htmlLink",
            "created",
            "updated",
            "creator",
            "organizer",
            "iCalUID",
            "hangoutLink",
        ):
            event.pop(output_only, None)
        eid = _b64url(f"{event_id} {owner}".encode())
        stamp = _now_stamp()
        status = event.pop("status", None) or "confirmed"
        event = {
            "kind": "calendar#event",
            "etag": self._etag(),
            "id": event_id,
            "status": status,
            "htmlLink": f"https://www.google.com/calendar/event?eid={eid}",
            "created": stamp,
            "updated": stamp,
            **event,
            "creator": {"email": owner, "self": True},
            "organizer": {"email": owner, "self": True},
            "iCalUID": f"{event_id}@google.com",
            "sequence": event.get("sequence") or 0,
        }
        event.setdefault("reminders", {"useDefault": True})
        event.setdefault("eventType", "default")
        self._normalize(owner, event, conference)
        return event

    def _normalize(self, owner: str, event: dict, conference: bool) -> None:
        """Validate times/attendees and materialise a requested Meet conference (insert and patch)."""
        start, end = self._span(event)
        if end <= start:
            raise _api_error(400, "timeRangeEmpty", "The specified time range is empty.")
        for attendee in event.get("attendees") or []:
            email = attendee.get("email")
            if not email:
                raise _api_error(400, "required", "Missing attendee email.")
            if "@" not in email:
                raise _api_error(400, "invalid", "Invalid attendee email.")
            attendee.setdefault("responseStatus", "needsAction")
            if email.lower() == owner.lower():
                attendee.update(organizer=True, self=True)
        request = ((event.get("conferenceData") or {}).get("createRequest") or {}) if conference else {}
        if request:
            if (request.get("conferenceSolutionKey") or {}).get("type") != "hangoutsMeet":
                raise _api_error(400, "invalid", "Invalid conference type value.")
            if not request.get("requestId"):
                raise _api_error(400, "invalid", "Invalid conference create request.")
            code = _meet_code(request["requestId"])
            event["hangoutLink"] = f"https://meet.google.com/{code}"
            event["conferenceData"] = {
                "createRequest": {
                    "requestId": request["requestId"],
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                    "status": {"statusCode": "success"},
                },
                "entryPoints": [
                    {"entryPointType": "video", "uri": event["hangoutLink"], "label": f"meet.google.com/{code}"}
                ],
                "conferenceSolution": {
                    "key": {"type": "hangoutsMeet"},
                    "name": "Google Meet",
                    "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/"
                    "web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
                },
                "conferenceId": code,
            }

    @staticmethod
    def _span(event: dict) -> tuple[datetime, datetime]:
        """(start, end) of an event as aware datetimes, raising Google's 400s for bad times."""
        out = []
        for which in ("start", "end"):
            when = event.get(which) or {}
            if when.get("dateTime"):
                dt = _parse_rfc3339(when["dateTime"])
                if dt is None:
                    raise _api_error(400, "invalid", f"Invalid {which} time.")
                if dt.tzinfo is None:
                    if not when.get("timeZone"):
                        raise _api_error(400, "required", f"Missing time zone definition for {which} time.")
                    try:
                        dt = dt.replace(tzinfo=ZoneInfo(when["timeZone"]))
                    except (ZoneInfoNotFoundError, ValueError):
                        raise _api_error(400, "invalid", f"Invalid time zone definition for {which} time.") from None
            elif when.get("date"):  # all-day event; taken as UTC midnight
                try:
                    dt = datetime.combine(date.fromisoformat(when["date"]), datetime.min.time(), timezone.utc)
                except ValueError:
                    raise _api_error(400, "invalid", f"Invalid {which} time.") from None
            else:
                raise _api_error(400, "required", f"Missing {which} time.")
            out.append(dt)
        return out[0], out[1]

    @classmethod
    def _merge(cls, target: dict, patch: dict) -> dict:
        """Patch semantics: nested objects merge, arrays/scalars replace, null clears."""
        for key, value in patch.items():
            if value is None:
                target.pop(key, None)
            elif isinstance(value, dict) and isinstance(target.get(key), dict):
                cls._merge(target[key], value)
            else:
                target[key] = copy.deepcopy(value)
        return target

"""A fake Microsoft identity platform (Entra ID v2.0) + Microsoft Graph v1.0 calendar server for tests.

It runs on 127.0.0.1 (free port) in a daemon thread, over HTTPS with a throwaway CA
created at start (MSAL refuses http:// authorities).  It is meant to be driven by the
*real* client libraries (msal, httpx/requests) and mimics Microsoft's observable
behaviour closely enough that a request Microsoft would reject also fails here:

* Identity: OpenID discovery, instance discovery, JWKS, authorize (auth code + PKCE,
  nonce, client_info, session_state), token (authorization_code / refresh_token with
  refresh-token rotation); AAD-style error bodies (AADSTS codes, trace/correlation ids).
  Tokens are RS256 JWTs signed by a throwaway key published at the JWKS endpoint.
* Graph: /me/calendar/getSchedule, events create/get/patch/delete/cancel, GET /me;
  request bodies checked against the Graph property names, JSON types and enums;
  Graph error bodies ({"error": {"code", "message", "innerError"}}); Prefer headers
  (outlook.timezone, outlook.body-content-type); transactionId de-duplication;
  Teams join links; the MailboxConcurrency limit (4 concurrent requests per mailbox).

    with FakeMicrosoft() as ms:
        ms.add_user("alice@example.com")
        session = requests.Session(); session.trust_env = False; session.verify = ms.ca_path
        app = msal.ConfidentialClientApplication(ms.client_id, client_credential=ms.client_secret,
                                                 authority=ms.authority, http_client=session,
                                                 instance_discovery=False)
        ...  # Graph calls go to ms.graph_url with httpx.Client(verify=ms.ca_path)

Test hooks: fail_next / delay_next (per route), revoke_refresh_token, revoke_user,
expire_access_tokens; everything received is recorded in ``requests``.

Where Microsoft's exact behaviour is not documented the fake makes an explicit guess;
those places are marked "GUESS" in the comments.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import ipaddress
import json
import math
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.fakes.base import FaultSwitches

# Injectable routes (fail_next / delay_next); "token" is the OAuth token endpoint.
_ROUTES = ("getschedule", "create", "list", "get", "patch", "delete", "cancel", "token")
_ACCESS_TTL = 3599
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph's well-known app id (= token audience)
_GRAPH_PREFIX = "https://graph.microsoft.com/"
_OIDC_SCOPES = ("openid", "profile", "email")
# Delegated Graph permissions the authorize endpoint knows (canonical casing; matched case-insensitively).
_GRAPH_SCOPES = {
    s.lower(): s
    for s in (
        "Calendars.Read Calendars.Read.Shared Calendars.ReadBasic Calendars.ReadWrite Calendars.ReadWrite.Shared "
        "User.Read User.ReadWrite User.ReadBasic.All User.Read.All Mail.Read Mail.ReadWrite Mail.Send "
        "MailboxSettings.Read MailboxSettings.ReadWrite OnlineMeetings.Read OnlineMeetings.ReadWrite "
        "Contacts.Read People.Read Place.Read.All Directory.Read.All"
    ).split()
}
# Which delegated permissions each Graph operation accepts.
_CAL_READ = {
    "Calendars.Read",
    "Calendars.Read.Shared",
    "Calendars.ReadBasic",
    "Calendars.ReadWrite",
    "Calendars.ReadWrite.Shared",
}
_CAL_WRITE = {"Calendars.ReadWrite", "Calendars.ReadWrite.Shared"}
_NEEDS = {
    "getschedule": _CAL_READ,
    "get": _CAL_READ,
    "list": _CAL_READ,
    "create": _CAL_WRITE,
    "patch": _CAL_WRITE,
    "delete": _CAL_WRITE,
    "cancel": _CAL_WRITE,
    "me": {"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "Directory.Read.All"},
}
# Windows time zone names Graph uses -> IANA.  Graph also accepts IANA names directly.
_WINDOWS_ZONES = {
    "utc": "UTC",
    "coordinated universal time": "UTC",
    "tzone://microsoft/utc": "UTC",
    "pacific standard time": "America/Los_Angeles",
    "mountain standard time": "America/Denver",
    "us mountain standard time": "America/Phoenix",
    "central standard time": "America/Chicago",
    "eastern standard time": "America/New_York",
    "atlantic standard time": "America/Halifax",
    "alaskan standard time": "America/Anchorage",
    "hawaiian standard time": "Pacific/Honolulu",
    "e. south america standard time": "America/Sao_Paulo",
    "gmt standard time": "Europe/London",
    "greenwich standard time": "Atlantic/Reykjavik",
    "w. europe standard time": "Europe/Berlin",
    "romance standard time": "Europe/Paris",
    "central europe standard time": "Europe/Budapest",
    "central european standard time": "Europe/Warsaw",
    "e. europe standard time": "Europe/Chisinau",
    "fle standard time": "Europe/Kiev",
    "gtb standard time": "Europe/Bucharest",
    "turkey standard time": "Europe/Istanbul",
    "russian standard time": "Europe/Moscow",
    "israel standard time": "Asia/Jerusalem",
    "south africa standard time": "Africa/Johannesburg",
    "arabian standard time": "Asia/Dubai",
    "india standard time": "Asia/Kolkata",
    "singapore standard time": "Asia/Singapore",
    "china standard time": "Asia/Shanghai",
    "tokyo standard time": "Asia/Tokyo",
    "aus eastern standard time": "Australia/Sydney",
}
_NO_TIME = "0001-01-01T00:00:00Z"  # what Graph puts in never-set response times
_BUSY_CODES = {"tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}  # availabilityView digits
_BUSY_RANK = {"workingElsewhere": 1, "tentative": 2, "busy": 3, "oof": 4}  # GUESS: which status wins a slot
_ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

# ---------------------------------------------------------------- Graph type system (the subset we need)
# A spec is: "string" | "bool" | "int" | "double" | "any" | "enum:<name>" | "<complex type>" | [spec]
_ENUMS = {
    "freeBusyStatus": ("unknown", "free", "tentative", "busy", "oof", "workingElsewhere"),
    "importance": ("low", "normal", "high"),
    "sensitivity": ("normal", "personal", "private", "confidential"),
    "onlineMeetingProviderType": ("unknown", "skypeForBusiness", "skypeForConsumer", "teamsForBusiness"),
    "attendeeType": ("required", "optional", "resource"),
    "bodyType": ("text", "html"),
    "responseType": ("none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded"),
    "locationType": tuple(
        "default conferenceRoom homeAddress businessAddress geoCoordinates streetAddress hotel restaurant "
        "localBusiness postalAddress".split()
    ),
    "locationUniqueIdType": ("unknown", "locationStore", "directory", "private", "bing"),
    "recurrencePatternType": tuple(
        "daily weekly absoluteMonthly relativeMonthly absoluteYearly relativeYearly".split()
    ),
    "recurrenceRangeType": ("endDate", "noEnd", "numbered"),
    "dayOfWeek": ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"),
    "weekIndex": ("first", "second", "third", "fourth", "last"),
}
_READ_ONLY = "any"  # read-only / navigation properties: accepted on input, ignored
_TYPES: dict[str, dict[str, Any]] = {
    "itemBody": {"contentType": "enum:bodyType", "content": "string"},
    "dateTimeTimeZone": {"dateTime": "string", "timeZone": "string"},
    "emailAddress": {"address": "string", "name": "string"},
    "recipient": {"emailAddress": "emailAddress"},
    "responseStatus": {"response": "enum:responseType", "time": "string"},
    "timeSlot": {"start": "dateTimeTimeZone", "end": "dateTimeTimeZone"},
    "attendee": {
        "emailAddress": "emailAddress",
        "type": "enum:attendeeType",
        "status": "responseStatus",
        "proposedNewTime": "timeSlot",
    },
    "physicalAddress": {
        "street": "string",
        "city": "string",
        "state": "string",
        "countryOrRegion": "string",
        "postalCode": "string",
    },
    "outlookGeoCoordinates": {
        "altitude": "double",
        "latitude": "double",
        "longitude": "double",
        "accuracy": "double",
        "altitudeAccuracy": "double",
    },
    "location": {
        "displayName": "string",
        "locationEmailAddress": "string",
        "address": "physicalAddress",
        "coordinates": "outlookGeoCoordinates",
        "locationUri": "string",
        "locationType": "enum:locationType",
        "uniqueId": "string",
        "uniqueIdType": "enum:locationUniqueIdType",
    },
    "recurrencePattern": {
        "type": "enum:recurrencePatternType",
        "interval": "int",
        "month": "int",
        "dayOfMonth": "int",
        "daysOfWeek": ["enum:dayOfWeek"],
        "firstDayOfWeek": "enum:dayOfWeek",
        "index": "enum:weekIndex",
    },
    "recurrenceRange": {
        "type": "enum:recurrenceRangeType",
        "startDate": "string",
        "endDate": "string",
        "recurrenceTimeZone": "string",
        "numberOfOccurrences": "int",
    },
    "patternedRecurrence": {"pattern": "recurrencePattern", "range": "recurrenceRange"},
    "event": {
        # writable
        "subject": "string",
        "body": "itemBody",
        "start": "dateTimeTimeZone",
        "end": "dateTimeTimeZone",
        "attendees": ["attendee"],
        "location": "location",
        "locations": ["location"],
        "isOnlineMeeting": "bool",
        "onlineMeetingProvider": "enum:onlineMeetingProviderType",
        "transactionId": "string",
        "showAs": "enum:freeBusyStatus",
        "importance": "enum:importance",
        "sensitivity": "enum:sensitivity",
        "categories": ["string"],
        "allowNewTimeProposals": "bool",
        "responseRequested": "bool",
        "reminderMinutesBeforeStart": "int",
        "isReminderOn": "bool",
        "isAllDay": "bool",
        "hideAttendees": "bool",
        "recurrence": "patternedRecurrence",
        "originalStartTimeZone": "string",
        "originalEndTimeZone": "string",
        # read-only or navigation properties: known to the type, ignored on input
        **{
            name: _READ_ONLY
            for name in (
                "id createdDateTime lastModifiedDateTime changeKey iCalUId uid bodyPreview isOrganizer isCancelled "
                "isDraft type webLink onlineMeeting onlineMeetingUrl organizer responseStatus seriesMasterId "
                "hasAttachments occurrenceId originalStart attachments extensions instances calendar "
                "exceptionOccurrences cancelledOccurrences singleValueExtendedProperties multiValueExtendedProperties"
            ).split()
        },
    },
}
_WRITABLE_EVENT_PROPS = {k for k, v in _TYPES["event"].items() if v != _READ_ONLY}
# Action parameters (they get a different error message than entity properties).
_ACTIONS = {
    "getSchedule": {
        "schedules": ["string"],
        "startTime": "dateTimeTimeZone",
        "endTime": "dateTimeTimeZone",
        "availabilityViewInterval": "int",
    },
    "cancel": {"comment": "string"},  # parameter names are matched case-insensitively (docs write "Comment")
}


class _Reply(Exception):
    """Raised anywhere while handling a request to answer it immediately.

    kind: "graph" -> a Graph error body that still needs its innerError;
          "aad"   -> an AAD OAuth error body that still needs trace/correlation ids.
    """

    def __init__(self, status: int, body=None, headers: dict | None = None, kind: str | None = None):
        super().__init__(status)
        self.status, self.body, self.headers, self.kind = status, body, headers or {}, kind


def _graph_error(status: int, code: str, message: str, headers: dict | None = None) -> _Reply:
    """{"error": {"code", "message", "innerError"}} -- innerError is filled in when sent."""
    return _Reply(status, {"error": {"code": code, "message": message}}, headers, kind="graph")


def _aad_error(status: int, error: str, aadsts: int, description: str, **extra) -> _Reply:
    """AAD token-endpoint error; the "\\r\\nTrace ID: ..." tail and ids are added when sent."""
    body = {"error": error, "error_description": f"AADSTS{aadsts}: {description}", "error_codes": [aadsts], **extra}
    return _Reply(status, body, kind="aad")


def _request_body_read(message: str) -> _Reply:
    return _graph_error(400, "RequestBodyRead", message)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _stamp7(dt: datetime | None = None) -> str:
    """Graph's 7-digit-fraction UTC timestamp: 2026-12-01T09:00:00.1234567Z."""
    dt = (dt or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


def _aad_timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")  # e.g. "2026-12-01 09:00:00Z"


def _zone(name) -> ZoneInfo | None:
    """Graph time zone name (Windows or IANA) -> ZoneInfo, None if unknown."""
    if not isinstance(name, str) or not name.strip():
        return None
    key = _WINDOWS_ZONES.get(name.strip().lower(), name.strip())
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _parse_local(value) -> datetime | None:
    """Graph dateTime string ("2026-12-01T10:00:00[.0000000][Z|+01:00]") -> datetime (naive unless it had an offset)."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(\.\d{1,7})?(Z|z|[+-]\d\d:\d\d)?", value.strip())
    if not m:
        return None
    base = m.group(1) if m.group(1).count(":") == 2 else m.group(1) + ":00"
    frac = ((m.group(2) or ".0")[1:] + "000000")[:6]
    offset = "+00:00" if m.group(3) in ("Z", "z") else (m.group(3) or "")
    try:
        return datetime.fromisoformat(f"{base}.{frac}{offset}")
    except ValueError:
        return None


def _fmt_local(instant: datetime, tz_name: str) -> dict:
    """UTC instant -> {"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": tz_name}."""
    local = instant.astimezone(_zone(tz_name) or timezone.utc)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0", "timeZone": tz_name}


def _html_body(text: str) -> str:
    """Plain text -> the HTML document Exchange stores for a text body."""
    escaped = html.escape(text).replace("\r\n", "\n").replace("\n", "<br>\r\n")
    return (
        '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n'
        f"</head>\r\n<body>\r\n<div>{escaped}</div>\r\n</body>\r\n</html>\r\n"
    )


def _html_to_text(content: str) -> str:
    content = re.sub(r"(?is)<head>.*?</head>", "", content)
    content = re.sub(r"(?i)<br\s*/?>|</div>|</p>", "\n", content)
    text = html.unescape(re.sub(r"<[^>]+>", "", content))
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def _key_usage(*allowed: str) -> x509.KeyUsage:
    flags = "digital_signature content_commitment key_encipherment data_encipherment key_agreement key_cert_sign"
    return x509.KeyUsage(**{f: f in allowed for f in (flags + " crl_sign encipher_only decipher_only").split()})


def _make_tls(directory: str) -> tuple[str, str, str]:
    """A throwaway CA plus a server certificate for 127.0.0.1/localhost signed by it.

    Returns (ca_pem_path, server_chain_pem_path, server_key_pem_path)."""
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FakeMicrosoft throwaway test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage("digital_signature", "key_cert_sign", "crl_sign"), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage("digital_signature"), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = (f"{directory}/ca.pem", f"{directory}/server.pem", f"{directory}/server.key")
    with open(paths[0], "wb") as f:
        f.write(ca_cert.public_bytes(pem))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


class _TLSServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose TLS handshake happens in the per-request thread (never blocks accept)."""

    daemon_threads = True
    ssl_context: ssl.SSLContext

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust our CA hangs up during the handshake
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            tls.close()

    def handle_error(self, request, client_address):  # keep pytest output quiet
        pass


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to FakeMicrosoft._handle (HTTP/1.0: one request per connection)."""

    server_version = "FakeMicrosoft/1.0"

    def do_GET(self):
        self.server.fake._handle(self)

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET

    def log_message(self, *args):  # keep pytest output quiet
        pass


class _Ctx:
    """Everything a handler needs about the request being served."""

    def __init__(self, h, query: dict, body, prefer: dict):
        self.h, self.query, self.body, self.prefer = h, query, body, prefer
        self.user: str | None = None  # the signed-in user (Graph calls)
        self.owner: str | None = None  # the mailbox addressed (Graph calls)
        self.scopes: set[str] = set()


class FakeMicrosoft(FaultSwitches):
    ROUTES = tuple(_ROUTES)
    FAIL_DEFAULTS = {"code": "", "message": "", "retry_after": None, "oauth_error": None}
    CODE_TTL = 600  # seconds an authorization code stays valid (Microsoft: 10 minutes)
    MAILBOX_CONCURRENCY = 4  # Graph/Outlook: at most 4 concurrent requests per app per mailbox
    MAX_SCHEDULE_DAYS = 62

    def __init__(
        self, *, client_id: str = "ms-client-id", client_secret: str = "ms-client-secret", tenant: str = "common"
    ):
        self.client_id, self.client_secret, self.tenant = client_id, client_secret, tenant
        # The directory every fake user lives in: the tenant itself when it is a GUID, else a stable GUID.
        try:
            self.tenant_id = str(uuid.UUID(tenant))
        except ValueError:
            self.tenant_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-microsoft-tenant:{tenant}"))
        self.url = self.authority = self.graph_url = self.ca_path = ""
        self.consent_as: str | None = None
        self.deny_consent = False
        self.redirect_uris: list[str] | None = None  # registered reply URLs; None accepts any http(s) URL
        self.events: dict[str, dict[str, dict]] = {}
        self._extended: dict[str, dict[str, str]] = {}  # event id -> {extended property id: value}
        self.requests: list[dict] = []
        #: The meeting requests Exchange would send ({"kind", "email", "event"}): every attendee
        #: of a created meeting; on a PATCH, the attendees it adds ("invitation") and, when the
        #: time moves, the others ("update"); on a cancel, everyone ("cancellation"). GUESS: Graph
        #: documents that an organizer's update sends meeting updates; who gets one when only
        #: attendees are added is not spelled out (Outlook asks; we record the added ones only).
        self.notified: list[dict] = []
        self._users: dict[str, dict] = {}  # lower-cased email -> {"email", "name", "oid"}
        self._codes: dict[str, dict] = {}  # auth code -> what the authorize request established
        self._access: dict[str, dict] = {}  # access token -> {"user", "client_id", "scopes", "exp", "expired"}
        self._refresh: dict[str, dict] = {}  # refresh token -> {"user", "client_id", "revoked", "why"}
        self._consents: dict[tuple[str, str], set[str]] = {}  # (user, client_id) -> consented Graph scopes
        self._inflight: dict[str, int] = {}  # mailbox -> Graph requests being served
        self._init_switches()
        self._lock = threading.RLock()
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: str | None = None
        # Token signing key, published at the JWKS endpoint (Microsoft signs with RS256 too).
        self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = _b64url(hashlib.sha1(secrets.token_bytes(16)).digest())

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeMicrosoft:
        self._tmpdir = tempfile.mkdtemp(prefix="fake-microsoft-")
        self.ca_path, chain, key = _make_tls(self._tmpdir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        self._server = _TLSServer(("127.0.0.1", 0), _Handler)
        self._server.ssl_context = context
        self._server.fake = self
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self.authority = f"{self.url}/{self.tenant}"
        self.graph_url = f"{self.url}/v1.0"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="FakeMicrosoft", daemon=True
        )  # short poll interval: fast stop()
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # ------------------------------------------------------------------ test setup / hooks
    def add_user(self, email: str, name: str | None = None) -> None:
        """An account that can sign in and consent; its mailbox is its e-mail address."""
        with self._lock:
            self.events.setdefault(self._mailbox_key(email) or email, {})  # keeps events add_busy put there
            if email.lower() not in self._users:
                self._users[email.lower()] = {
                    "email": email,
                    "name": name or email.split("@")[0].replace(".", " ").title(),
                    "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-microsoft-user:{email.lower()}")),
                }

    def add_busy(self, email: str, start: datetime, end: datetime, show_as: str = "busy") -> str:
        """An existing event in that mailbox (the mailbox owner organizes it); returns its id."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("add_busy needs timezone-aware datetimes")
        if show_as not in _ENUMS["freeBusyStatus"]:
            raise ValueError(f"show_as must be one of {_ENUMS['freeBusyStatus']}")
        with self._lock:
            owner = self._mailbox_key(email) or email
            body = {
                "subject": "Busy",
                "start": _fmt_local(start.astimezone(timezone.utc), "UTC"),
                "end": _fmt_local(end.astimezone(timezone.utc), "UTC"),
                "showAs": show_as,
            }
            event = self._new_event(owner, body)
            self.events.setdefault(owner, {})[event["id"]] = event
            return event["id"]

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Later use of this refresh token -> invalid_grant (AADSTS70008)."""
        with self._lock:
            self._refresh[refresh_token].update(revoked=True, why="expired")

    def revoke_user(self, email: str) -> None:
        """Like revokeSignInSessions: every refresh token of that user dies (AADSTS50173).

        Access tokens already issued stay valid until they expire, as with Microsoft (no CAE)."""
        with self._lock:
            for grant in self._refresh.values():
                if grant["user"].lower() == email.lower():
                    grant.update(revoked=True, why="revoked")

    # ------------------------------------------------------------------ HTTP plumbing
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        ctype = h.headers.get("Content-Type", "")
        body, bad_json = None, False
        if raw and "x-www-form-urlencoded" in ctype:
            body = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        segments = [unquote(s) for s in split.path.split("/")[1:]]
        with self._lock:
            self.requests.append(
                {
                    "method": h.command,
                    "path": unquote(split.path),
                    "query": query,
                    "body": body,
                    "headers": dict(h.headers.items()),
                }
            )
        ctx = _Ctx(h, query, body, self._prefer(h))
        counted = None
        try:
            api, route, fn, args = self._route(h.command, segments)
            if api == "graph":
                with self._lock:
                    self._authenticate(ctx, route, segments)  # 401 / 403 / 404 before anything else
                    counted = self._enter_mailbox(ctx.owner)  # 429 MailboxConcurrency
                if bad_json or (route in ("create", "patch", "getschedule") and not isinstance(body, dict)):
                    raise _graph_error(
                        400,
                        "BadRequest",
                        "Unable to read JSON request payload. Please ensure Content-Type header is set and "
                        "payload is of valid JSON format.",
                    )
            if route in _ROUTES:
                self._injected(route)  # may sleep, may raise _Reply
            with self._lock:
                reply = fn(ctx, *args)
        except _Reply as r:
            reply = r
        except Exception as e:  # a bug in the fake: make it loud
            reply = _graph_error(500, "UnknownError", f"FakeMicrosoft crashed: {e!r}")
        finally:
            if counted:
                with self._lock:
                    self._inflight[counted] -= 1
        self._send(h, reply, graph=bool(segments and segments[0] == "v1.0"))

    def _send(self, h: BaseHTTPRequestHandler, reply: _Reply, graph: bool) -> None:
        headers = dict(reply.headers)
        request_id = str(uuid.uuid4())
        client_request_id = h.headers.get("client-request-id") or str(uuid.uuid4())
        body = copy.deepcopy(reply.body)
        if reply.kind == "graph":
            body["error"]["innerError"] = {
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id,
            }
        elif reply.kind == "aad":
            stamp = _aad_timestamp()
            body["error_description"] += (
                f"\r\nTrace ID: {request_id}\r\nCorrelation ID: {client_request_id}\r\nTimestamp: {stamp}"
            )
            body.update(
                timestamp=stamp,
                trace_id=request_id,
                correlation_id=client_request_id,
                error_uri=f"{self.url}/error?code={body['error_codes'][0]}",
            )
        if graph:
            headers.update({"request-id": request_id, "client-request-id": client_request_id})
        if body is None:
            payload, ctype = b"", None
        elif isinstance(body, str):
            payload, ctype = body.encode(), "text/html; charset=utf-8"
        else:
            payload, ctype = json.dumps(body).encode(), _ODATA_JSON if graph else "application/json; charset=utf-8"
        h.send_response(reply.status)
        if ctype:
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        h.send_header("Cache-Control", "no-store, no-cache")
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)

    @staticmethod
    def _prefer(h) -> dict:
        """Prefer: outlook.timezone="UTC", outlook.body-content-type="text" -> {"outlook.timezone": "UTC", ...}."""
        out = {}
        for value in h.headers.get_all("Prefer") or []:
            for m in re.finditer(r'([\w.-]+)\s*=\s*"([^"]*)"|([\w.-]+)\s*=\s*([^,;\s]+)', value):
                key, val = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
                out[key.lower()] = val.strip()
        return out

    def _route(self, method: str, seg: list[str]):
        """-> (api: "aad"|"graph"|None, injectable route name or other label, handler, extra args)."""
        low = [s.lower() for s in seg]
        if low and low[0] == "v1.0":
            return self._graph_route(method, seg, low)
        if len(seg) >= 2:
            rest = low[1:]
            if method == "GET" and rest == ["v2.0", ".well-known", "openid-configuration"]:
                return "aad", "openid", self._openid_configuration, (seg[0],)
            if method == "GET" and rest == ["discovery", "instance"]:
                return "aad", "instance", self._instance_discovery, (seg[0],)
            if method == "GET" and rest == ["discovery", "v2.0", "keys"]:
                return "aad", "keys", self._jwks, ()
            if method == "GET" and rest == ["oauth2", "v2.0", "authorize"]:
                return "aad", "authorize", self._authorize, (seg[0],)
            if method == "POST" and rest == ["oauth2", "v2.0", "token"]:
                return "aad", "token", self._token, (seg[0],)
        raise _Reply(404, "<html><body>404 - File or directory not found.</body></html>")

    def _graph_route(self, method: str, seg: list[str], low: list[str]):
        if low[1:2] == ["me"]:
            rest, rest_low = seg[2:], low[2:]
        elif low[1:2] == ["users"] and len(seg) >= 3:
            rest, rest_low = seg[3:], low[3:]
        else:
            what = seg[1] if len(seg) > 1 else ""
            raise _graph_error(400, "BadRequest", f"Resource not found for the segment '{what}'.")
        if rest_low and rest_low[0] == "calendar":  # /me/calendar/events... == /me/events...
            if rest_low[1:] == ["getschedule"]:
                if method == "POST":
                    return "graph", "getschedule", self._get_schedule, ()
                raise _graph_error(405, "BadRequest", "Specified HTTP method is not allowed for the request target.")
            if rest_low[1:2] == ["events"]:
                rest, rest_low = rest[1:], rest_low[1:]
        if not rest_low:
            if method == "GET":
                return "graph", "me", self._me, ()
        elif rest_low[0] == "events":
            if len(rest) == 1 and method == "POST":
                return "graph", "create", self._create, ()
            if len(rest) == 1 and method == "GET":
                return "graph", "list", self._list, ()
            if len(rest) == 2:
                name = {"GET": "get", "PATCH": "patch", "DELETE": "delete"}.get(method)
                if name:
                    return "graph", name, getattr(self, "_" + name), (rest[1],)
            if len(rest) == 3 and rest_low[2] == "cancel" and method == "POST":
                return "graph", "cancel", self._cancel, (rest[1],)
            if len(rest) > 3 or (len(rest) == 3 and rest_low[2] != "cancel"):
                raise _graph_error(400, "BadRequest", f"Resource not found for the segment '{rest[2]}'.")
        else:
            raise _graph_error(400, "BadRequest", f"Resource not found for the segment '{rest[0]}'.")
        raise _graph_error(405, "BadRequest", "Specified HTTP method is not allowed for the request target.")

    def _injected(self, route: str) -> None:
        """Apply delay_next / fail_next for this route."""
        with self._lock:
            delay = self._delays[route].popleft() if self._delays[route] else 0
            failure = self._failures[route].popleft() if self._failures[route] else None
        if delay:
            time.sleep(delay)
        if not failure:
            return
        status, message = failure["status"], failure["message"]
        headers = {"Retry-After": str(failure["retry_after"])} if failure["retry_after"] is not None else {}
        if route == "token":
            error = failure["oauth_error"] or {400: "invalid_request", 401: "invalid_client"}.get(
                status, "server_error" if status >= 500 else "temporarily_unavailable"
            )
            # GUESS: the AADSTS code/description paired with each OAuth error.
            aadsts, default = {
                "invalid_grant": (
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity. "
                    "Send a new interactive authorization request for this user and resource.",
                ),
                "invalid_client": (
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    f"secret value, not the client secret ID, for a secret added to app '{self.client_id}'.",
                ),
                "interaction_required": (
                    50076,
                    "Due to a configuration change made by your administrator, or because you moved to a new "
                    "location, you must use multi-factor authentication to access '00000003-0000-0000-c000-"
                    "000000000000'.",
                ),
                "invalid_request": (900144, "The request body must contain the following parameter: 'grant_type'."),
                "temporarily_unavailable": (50196, "The server terminated an operation because it encountered a loop."),
            }.get(error, (90033, "A transient error has occurred. Please try again."))
            reply = _aad_error(status, error, aadsts, message or default)
            reply.headers.update(headers)
            raise reply
        code = failure["code"] or {429: "TooManyRequests", 503: "ServiceNotAvailable"}.get(status, "UnknownError")
        # GUESS: default messages for injected Graph failures.
        default = {
            429: "Too many requests.",
            503: "The service is currently unavailable. Please try again later.",
        }.get(status, HTTPStatus(status).phrase)
        raise _graph_error(status, code, message or default, headers)

    # ------------------------------------------------------------------ identity: discovery
    def _tenant_ok(self, tenant: str) -> None:
        if tenant.lower() not in {self.tenant.lower(), "common", "organizations", self.tenant_id}:
            raise _aad_error(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
                "signing into the correct cloud. Check with your subscription administrator, this may happen "
                "if there are no active subscriptions for the tenant.",
            )

    def _issuer(self, tenant: str) -> str:
        """As Microsoft: the multi-tenant aliases advertise a "{tenantid}" template, others the real tenant."""
        multi = tenant.lower() in ("common", "organizations", "consumers")
        return f"{self.url}/{'{tenantid}' if multi else self.tenant_id}/v2.0"

    def _openid_configuration(self, ctx, tenant):
        """GET /{tenant}/v2.0/.well-known/openid-configuration (the document MSAL reads at construction)."""
        self._tenant_ok(tenant)
        base = f"{self.url}/{tenant}"
        return _Reply(
            200,
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": self._issuer(tenant),
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{self.graph_url[: -len('/v1.0')]}/oidc/userinfo",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "claims_supported": (
                    "sub iss cloud_instance_name cloud_instance_host_name cloud_graph_host_name msgraph_host aud "
                    "exp iat auth_time acr nonce preferred_username name tid ver at_hash c_hash email"
                ).split(),
                "kerberos_endpoint": f"{base}/kerberos",
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            },
        )

    def _instance_discovery(self, ctx, tenant):
        """GET /common/discovery/instance?authorization_endpoint=...&api-version=... (only used when msal is
        given instance_discovery=<this URL>; with instance_discovery=False msal never calls it)."""
        endpoint = ctx.query.get("authorization_endpoint", "")
        host = urlsplit(self.url).netloc
        if urlsplit(endpoint).hostname != "127.0.0.1":  # msal sends the host without its port
            raise _aad_error(400, "invalid_instance", 50049, "Unknown or invalid instance.")
        path_tenant = (urlsplit(endpoint).path.split("/") + ["", ""])[1] or "common"
        return _Reply(
            200,
            {
                "tenant_discovery_endpoint": f"{self.url}/{path_tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            },
        )

    def _jwks(self, ctx):
        numbers = self._signing_key.public_key().public_numbers()

        def b64int(n: int) -> str:
            return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        key = {"kty": "RSA", "use": "sig", "kid": self._kid, "x5t": self._kid, "n": b64int(numbers.n)}
        key.update(e=b64int(numbers.e), issuer=f"{self.url}/{self.tenant_id}/v2.0")
        return _Reply(200, {"keys": [key]})

    # ------------------------------------------------------------------ identity: authorize
    def _error_page(self, aadsts: int, text: str) -> _Reply:
        return _Reply(
            400,
            f"<html><head><title>Sign in to your account</title></head><body>"
            f"<h1>Sorry, but we're having trouble signing you in.</h1><p>AADSTS{aadsts}: {html.escape(text)}</p>"
            f"</body></html>",
        )

    def _authorize(self, ctx, tenant):
        """GET /{tenant}/oauth2/v2.0/authorize: sign-in + consent, answered instantly with a redirect."""
        q = ctx.query
        if tenant.lower() not in {self.tenant.lower(), "common", "organizations", self.tenant_id}:
            return self._error_page(90002, f"Tenant '{tenant}' not found.")
        if q.get("client_id") != self.client_id:
            return self._error_page(
                700016,
                f"Application with identifier '{q.get('client_id', '')}' was not found in the directory "
                f"'{tenant}'. This can happen if the application has not been installed by the administrator "
                "of the tenant or consented to by any user in the tenant. You may have sent your "
                "authentication request to the wrong tenant.",
            )
        redirect_uri = q.get("redirect_uri") or ""
        if not re.match(r"https?://", redirect_uri) or (
            self.redirect_uris is not None and redirect_uri not in self.redirect_uris
        ):
            return self._error_page(
                50011,
                f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs "
                f"configured for the application '{self.client_id}'.",
            )

        mode = q.get("response_mode", "query")

        def back(params: dict) -> _Reply:
            if "state" in q:
                params["state"] = q["state"]
            if mode == "form_post":  # an auto-submitting form, as the real page does
                inputs = "".join(
                    f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}" />'
                    for k, v in params.items()
                )
                return _Reply(
                    200,
                    f'<html><body onload="document.forms[0].submit()"><form method="POST" '
                    f'action="{html.escape(redirect_uri)}">{inputs}</form></body></html>',
                )
            sep = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
            return _Reply(302, None, {"Location": redirect_uri + sep + urlencode(params)})

        def error(err: str, aadsts: int, text: str) -> _Reply:
            return back({"error": err, "error_description": f"AADSTS{aadsts}: {text}"})

        if q.get("response_type") != "code":
            return error(
                "unsupported_response_type",
                700054,
                f"response_type '{q.get('response_type', '')}' is not enabled for the application.",
            )
        if mode not in ("query", "fragment", "form_post"):
            return error("invalid_request", 900144, "The provided value for 'response_mode' is not valid.")
        requested = (q.get("scope") or "").split()
        if not requested:
            return error(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        graph_scopes, oidc, bad = self._split_scopes(requested)
        if bad:  # GUESS: unknown permission -> redirected invalid_scope with AADSTS650053
            return error(
                "invalid_scope",
                650053,
                f"The application '{self.client_id}' asked for scope '{bad[0]}' that doesn't exist on the "
                f"resource '{GRAPH_APP_ID}'. Contact the app vendor.",
            )
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method", "plain")
        if challenge and method not in ("S256", "plain"):
            return error("invalid_request", 50148, "The code_challenge_method is not supported.")
        # Who signs in: consent_as, else a known login_hint, else the first user.
        hint = (q.get("login_hint") or "").lower()
        user = self.consent_as or (self._users[hint]["email"] if hint in self._users else None)
        user = user or next((u["email"] for u in self._users.values()), None)
        if not user or user.lower() not in self._users:
            return self._error_page(50034, f"FakeMicrosoft: no user to sign in as ({user!r}); call add_user().")
        if self.deny_consent:
            return back(
                {
                    "error": "access_denied",
                    "error_subcode": "cancel",
                    "error_description": "AADSTS65004: User declined to consent to access the app.",
                }
            )
        # Incremental consent: what the user consented to before stays granted.
        consent = self._consents.setdefault((user.lower(), self.client_id), set())
        consent.update(graph_scopes)
        code = "0.A" + _b64url(secrets.token_bytes(96))
        self._codes[code] = {
            "client_id": q["client_id"],
            "redirect_uri": redirect_uri,
            "challenge": challenge,
            "method": method,
            "oidc": oidc,
            "offline": "offline_access" in [s.lower() for s in requested],
            "nonce": q.get("nonce"),
            "user": self._users[user.lower()]["email"],
            "expires": time.monotonic() + self.CODE_TTL,
            "used": False,
        }
        params = {"code": code}
        if q.get("client_info") == "1":
            params["client_info"] = self._client_info(user)
        params["session_state"] = str(uuid.uuid4())
        return back(params)

    @staticmethod
    def _split_scopes(requested: list[str]) -> tuple[set[str], list[str], list[str]]:
        """-> (canonical Graph permissions, OIDC scopes asked, unknown scopes)."""
        graph, oidc, bad = set(), [], []
        for scope in requested:
            low = scope.lower()
            if low in _OIDC_SCOPES:
                oidc.append(low)
            elif low == "offline_access":
                continue
            else:
                name = scope[len(_GRAPH_PREFIX) :] if low.startswith(_GRAPH_PREFIX) else scope
                if name.lower() in _GRAPH_SCOPES:
                    graph.add(_GRAPH_SCOPES[name.lower()])
                elif name.lower() != ".default":  # .default: whatever was consented already
                    bad.append(scope)
        return graph, oidc, bad

    def _client_info(self, email: str) -> str:
        user = self._users[email.lower()]
        return _b64url(json.dumps({"uid": user["oid"], "utid": self.tenant_id}, separators=(",", ":")).encode())

    # ------------------------------------------------------------------ identity: token
    def _client_auth(self, ctx, form: dict, tenant: str) -> str:
        """client_secret_post (what msal sends) or client_secret_basic -> client_id, else the AAD error."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = ctx.h.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
                client_id, secret = unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
            except ValueError:
                client_id = secret = None
        if client_id != self.client_id:
            raise _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id or ''}' was not found in the directory '{tenant}'. "
                "This can happen if the application has not been installed by the administrator of the tenant "
                "or consented to by any user in the tenant. You may have sent your authentication request to "
                "the wrong tenant.",
            )
        if not secret:
            raise _aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        if secret != self.client_secret:
            raise _aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{self.client_id}'.",
            )
        return client_id

    def _token(self, ctx, tenant):
        """POST /{tenant}/oauth2/v2.0/token: authorization_code and refresh_token grants."""
        self._tenant_ok(tenant)
        form = ctx.body if isinstance(ctx.body, dict) else {}
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _aad_error(
                400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."
            )
        client_id = self._client_auth(ctx, form, tenant)
        if grant_type == "authorization_code":
            return self._redeem_code(form, client_id)
        if grant_type == "refresh_token":
            return self._redeem_refresh(form, client_id)
        raise _aad_error(
            400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant_type}'."
        )

    def _redeem_code(self, form: dict, client_id: str) -> _Reply:
        code = form.get("code")
        if not code:
            raise _aad_error(
                400, "invalid_request", 900144, "The request body must contain the following parameter: 'code'."
            )
        info = self._codes.get(code)
        if not info or info["client_id"] != client_id:
            raise _aad_error(  # GUESS: the exact AADSTS for an unknown / foreign code
                400,
                "invalid_grant",
                70000,
                "The provided value for the 'code' parameter is not valid.",
            )
        if info["used"]:
            raise _aad_error(
                400,
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an "
                "existing refresh token.",
            )
        if time.monotonic() > info["expires"]:
            raise _aad_error(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new "
                "interactive authorization request for this user and resource.",
            )
        if form.get("redirect_uri") != info["redirect_uri"]:
            raise _aad_error(  # GUESS: code + message for a redirect_uri that differs from the authorize one
                400,
                "invalid_grant",
                500117,
                "The reply uri specified in the request does not match the reply uri used when acquiring the "
                "authorization code.",
            )
        if info["challenge"]:
            verifier = form.get("code_verifier") or ""
            computed = _b64url(hashlib.sha256(verifier.encode()).digest()) if info["method"] == "S256" else verifier
            if computed != info["challenge"]:
                raise _aad_error(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                )
        info["used"] = True  # single use (a failed attempt does not burn it -- GUESS)
        grant = {"user": info["user"], "client_id": client_id}
        return _Reply(
            200,
            self._token_response(
                grant, info["oidc"], refresh=info["offline"], nonce=info["nonce"], client_info=form.get("client_info")
            ),
        )

    def _redeem_refresh(self, form: dict, client_id: str) -> _Reply:
        token = form.get("refresh_token")
        if not token:
            raise _aad_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'refresh_token'.",
            )
        grant = self._refresh.get(token)
        if grant and grant["revoked"] and grant["why"] == "revoked":
            raise _aad_error(
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user "
                "might have changed or reset their password. The grant was issued on "
                f"'{grant['issued']}' and the TokensValidFrom date (before which tokens are not valid) for this "
                f"user is '{_stamp7()}'.",
            )
        if not grant or grant["revoked"] or grant["client_id"] != client_id:
            raise _aad_error(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new "
                "interactive authorization request for this user and resource.",
            )
        graph_scopes, oidc, bad = self._split_scopes((form.get("scope") or "").split())
        consented = self._consents.get((grant["user"].lower(), client_id), set())
        missing = sorted(graph_scopes - consented) + bad
        if missing:
            raise _aad_error(
                400,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID '{client_id}'. "
                "Send an interactive authorization request for this user and resource.",
                suberror="consent_required",
            )
        # Microsoft rotates refresh tokens: a new one every time; the old one stays valid.
        return _Reply(200, self._token_response(grant, oidc, refresh=True, client_info=form.get("client_info")))

    def _token_response(
        self, grant: dict, oidc: list[str], *, refresh: bool, nonce: str | None = None, client_info=None
    ) -> dict:
        user = self._users[grant["user"].lower()]
        graph_scopes = sorted(self._consents.get((grant["user"].lower(), grant["client_id"]), set()))
        # Granted scopes as Microsoft reports them: Graph permissions without the URL prefix (all the user
        # consented to, not just those asked), then the OIDC ones.  GUESS: "email" is reported whenever
        # "openid" was asked (observed in real responses); offline_access is never reported.
        reported = list(oidc)
        if "openid" in reported and "email" not in reported:
            reported.append("email")
        reported = [s for s in _OIDC_SCOPES if s in reported]
        now = int(time.time())
        access = self._jwt(
            {
                "aud": GRAPH_APP_ID,
                "iss": f"https://sts.windows.net/{self.tenant_id}/",
                "iat": now,
                "nbf": now,
                "exp": now + _ACCESS_TTL,
                "app_displayname": "FakeMicrosoft test app",
                "appid": grant["client_id"],
                "name": user["name"],
                "oid": user["oid"],
                "scp": " ".join(graph_scopes + [s for s in reported if s != "openid"]),
                "tid": self.tenant_id,
                "unique_name": user["email"],
                "upn": user["email"],
                "uti": _b64url(secrets.token_bytes(16)),
                "ver": "1.0",
            }
        )
        self._access[access] = {
            "user": user["email"],
            "client_id": grant["client_id"],
            "scopes": set(graph_scopes),
            "exp": time.time() + _ACCESS_TTL,
            "expired": False,
        }
        out = {
            "token_type": "Bearer",
            "scope": " ".join(graph_scopes + reported),
            "expires_in": _ACCESS_TTL,
            "ext_expires_in": _ACCESS_TTL,
            "access_token": access,
        }
        if refresh:
            rt = "0.A" + _b64url(secrets.token_bytes(160))
            self._refresh[rt] = {
                "user": user["email"],
                "client_id": grant["client_id"],
                "revoked": False,
                "why": None,
                "issued": _stamp7(),
            }
            out["refresh_token"] = rt
        if "openid" in oidc:
            out["id_token"] = self._id_token(user, grant["client_id"], oidc, nonce)
        if client_info == "1":
            out["client_info"] = self._client_info(user["email"])
        return out

    def _id_token(self, user: dict, client_id: str, oidc: list[str], nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "aud": client_id,
            "iss": f"{self.url}/{self.tenant_id}/v2.0",  # the discovery issuer with {tenantid} filled in
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": user["name"],
            "nonce": nonce,
            "oid": user["oid"],
            "preferred_username": user["email"],
            "rh": "0.A" + _b64url(secrets.token_bytes(24)),
            "sid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sid:{user['oid']}")),
            # "sub" is pairwise: unique per user *and* application
            "sub": _b64url(hashlib.sha256(f"{user['oid']}:{client_id}".encode()).digest())[:43],
            "tid": self.tenant_id,
            "uti": _b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }
        if nonce is None:  # refresh-token grants carry no nonce
            del claims["nonce"]
        if "email" in oidc:  # the optional email claim only when the email scope was asked
            claims["email"] = user["email"]
        return self._jwt(claims)

    def _jwt(self, claims: dict) -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": self._kid}
        compact = {"separators": (",", ":")}
        signing_input = (
            _b64url(json.dumps(header, **compact).encode()) + "." + _b64url(json.dumps(claims, **compact).encode())
        )
        sig = self._signing_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(sig)

    # ------------------------------------------------------------------ Graph: shared checks
    def _authenticate(self, ctx: _Ctx, route: str, seg: list[str]) -> None:
        """Bearer token -> ctx.user / ctx.scopes / ctx.owner (the mailbox), or Graph's 401/403/404."""
        auth = ctx.h.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        info = self._access.get(token)
        www = {
            "WWW-Authenticate": f'Bearer realm="", authorization_uri="{self.url}/common/oauth2/authorize", '
            f'client_id="{GRAPH_APP_ID}"'
        }
        if not token:
            raise _graph_error(401, "InvalidAuthenticationToken", "Access token is empty.", www)
        if not info:
            raise _graph_error(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.", www)
        if info["expired"] or time.time() > info["exp"]:
            raise _graph_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.", www)
        ctx.user, ctx.scopes = info["user"], info["scopes"]
        # /me or /users/{own e-mail|oid}; other users' mailboxes are out of reach for delegated Calendars.*
        owner = ctx.user
        if seg[1].lower() == "users":
            target = seg[2]
            me = self._users[ctx.user.lower()]
            if target.lower() not in (ctx.user.lower(), me["oid"]):
                if self._mailbox_key(target) is None:
                    raise _graph_error(404, "ErrorInvalidUser", f"The requested user '{target}' is invalid.")
                raise _graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        if not ctx.scopes & _NEEDS[route]:
            if route == "me":
                raise _graph_error(
                    403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
                )
            raise _graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        ctx.owner = self._mailbox_key(owner) or owner

    def _enter_mailbox(self, mailbox: str) -> str:
        """Count a request against the mailbox's concurrency budget (429 ApplicationThrottled beyond it)."""
        if self._inflight.get(mailbox, 0) >= self.MAILBOX_CONCURRENCY:
            raise _graph_error(
                429,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
                {"Retry-After": "1"},  # GUESS: the Retry-After value Graph sends for this
            )
        self._inflight[mailbox] = self._inflight.get(mailbox, 0) + 1
        return mailbox

    def _mailbox_key(self, email: str) -> str | None:
        """The key under which a mailbox (user or event owner) is stored, matched case-insensitively."""
        for key in self.events:
            if key.lower() == email.lower():
                return key
        user = self._users.get(email.lower())
        return user["email"] if user else None

    def _check_value(self, value, spec, prop: str):
        """Validate one JSON value against a spec -> the value (enums canonicalised), or Graph's 400."""
        if value is None or spec == "any":
            return value
        if isinstance(spec, list):
            if not isinstance(value, list):
                raise _request_body_read(
                    f"An unexpected '{self._node(value)}' node was found when reading from the JSON reader. "
                    "A 'StartArray' node was expected."
                )
            return [self._check_value(item, spec[0], prop) for item in value]
        if spec in _TYPES:
            if not isinstance(value, dict):
                raise _request_body_read(
                    f"An unexpected '{self._node(value)}' node was found when reading from the JSON reader. "
                    "A 'StartObject' node was expected."
                )
            return self._check_object(value, spec)
        if spec.startswith("enum:"):
            name = spec[5:]
            members = {m.lower(): m for m in _ENUMS[name]}
            if not isinstance(value, str) or value.lower() not in members:
                raise _request_body_read(
                    f"Cannot convert the literal '{value}' to the expected type 'microsoft.graph.{name}'."
                )
            return members[value.lower()]
        edm, ok = {
            "string": ("Edm.String", isinstance(value, str)),
            "bool": ("Edm.Boolean", isinstance(value, bool)),
            "int": ("Edm.Int32", isinstance(value, int) and not isinstance(value, bool)),
            "double": ("Edm.Double", isinstance(value, (int, float)) and not isinstance(value, bool)),
        }[spec]
        if not ok:
            if isinstance(value, (dict, list)):
                raise _request_body_read(
                    f"An unexpected '{self._node(value)}' node was found when reading from the JSON reader. "
                    "A 'PrimitiveValue' node was expected."
                )
            raise _request_body_read(f"Cannot convert the literal '{value}' to the expected type '{edm}'.")
        return value

    @staticmethod
    def _node(value) -> str:
        return (
            "StartObject" if isinstance(value, dict) else "StartArray" if isinstance(value, list) else "PrimitiveValue"
        )

    def _check_object(self, obj: dict, type_name: str) -> dict:
        props, out = _TYPES[type_name], {}
        for key, value in obj.items():
            if key.startswith("@odata.") or "@odata." in key:  # annotations (@odata.type etc.)
                continue
            if key not in props:
                raise _request_body_read(
                    f"The property '{key}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to "
                    "only use property names that are defined by the type or mark the type as open type."
                )
            out[key] = self._check_value(value, props[key], key)
        return out

    def _check_action(self, body, action: str) -> dict:
        """Validate the parameters of an OData action (getSchedule, cancel)."""
        body = body if isinstance(body, dict) else {}
        params, out = _ACTIONS[action], {}
        for key, value in body.items():
            spec = params.get(key) or params.get(key.lower())
            if spec is None:
                raise _request_body_read(
                    f"The parameter '{key}' in the request payload is not a valid parameter for the operation "
                    f"'{action}'."
                )
            out[key if key in params else key.lower()] = self._check_value(value, spec, key)
        return out

    @staticmethod
    def _instant(when, what: str) -> datetime:
        """A dateTimeTimeZone -> aware UTC datetime, or Graph's 400."""
        if not isinstance(when, dict) or not when.get("dateTime"):
            raise _graph_error(400, "ErrorInvalidParameter", f"The value of '{what}' is missing or invalid.")  # GUESS
        tz = _zone(when.get("timeZone"))
        if tz is None:
            raise _graph_error(
                400,
                "TimeZoneNotSupportedException",
                "A valid TimeZone value must be specified. The following TimeZone value is not supported: "
                f"'{when.get('timeZone') or ''}'.",
            )
        local = _parse_local(when["dateTime"])
        if local is None:
            raise _graph_error(  # GUESS
                400, "ErrorInvalidParameter", f"The value '{when['dateTime']}' of parameter 'DateTime' is invalid."
            )
        if local.tzinfo is None:
            local = local.replace(tzinfo=tz)
        return local.astimezone(timezone.utc)

    def _out_zone(self, ctx: _Ctx, default: str) -> str:
        """The zone to render times in: Prefer: outlook.timezone if Graph knows it, else ``default``."""
        wanted = ctx.prefer.get("outlook.timezone")
        return wanted if wanted and _zone(wanted) else default

    def _stored(self, owner: str, event_id: str) -> dict:
        if not re.fullmatch(r"[A-Za-z0-9+/_=-]{16,}", event_id):
            raise _graph_error(400, "ErrorInvalidIdMalformed", "Id is malformed.")
        event = self.events.get(owner, {}).get(event_id)
        if event is None:
            raise _graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return event

    # ------------------------------------------------------------------ Graph: /me and getSchedule
    def _me(self, ctx):
        user = self._users[ctx.user.lower()]
        first, _, last = user["name"].partition(" ")
        return _Reply(
            200,
            {
                "@odata.context": f"{self.graph_url}/$metadata#users/$entity",
                "businessPhones": [],
                "displayName": user["name"],
                "givenName": first,
                "jobTitle": None,
                "mail": user["email"],
                "mobilePhone": None,
                "officeLocation": None,
                "preferredLanguage": "en-US",
                "surname": last or None,
                "userPrincipalName": user["email"],
                "id": user["oid"],
            },
        )

    def _get_schedule(self, ctx):
        """POST /me/calendar/getSchedule: free/busy of several mailboxes."""
        params = self._check_action(ctx.body, "getSchedule")
        schedules = params.get("schedules")
        if not schedules:
            raise _graph_error(400, "ErrorInvalidParameter", "The value of 'schedules' is missing or invalid.")  # GUESS
        start = self._instant(params.get("startTime"), "startTime")
        end = self._instant(params.get("endTime"), "endTime")
        if end <= start:  # GUESS: code and message
            raise _graph_error(400, "ErrorInvalidParameter", "The end time must be after the start time.")
        if end - start > timedelta(days=self.MAX_SCHEDULE_DAYS):  # GUESS: message text
            raise _graph_error(
                400, "ErrorInvalidParameter", "The requested time duration exceeds the maximum of 62 days."
            )
        interval = params.get("availabilityViewInterval") or 30
        if not 5 <= interval <= 1440:  # GUESS: code and message
            raise _graph_error(
                400, "ErrorInvalidParameter", "The availabilityViewInterval must be between 5 and 1440 minutes."
            )
        tz = self._out_zone(ctx, "UTC")
        slots = math.ceil((end - start) / timedelta(minutes=interval))
        values = []
        for address in schedules:
            mailbox = self._mailbox_key(address)
            if mailbox is None:  # GUESS: the per-schedule error for an unknown address
                values.append(
                    {
                        "scheduleId": address,
                        "availabilityView": "",
                        "scheduleItems": [],
                        "error": {
                            "message": "The specified object was not found in the store., The process failed to "
                            "get the correct properties.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            busy = []
            for event in self.events.get(mailbox, {}).values():
                status = event.get("showAs", "busy")
                if status not in _BUSY_CODES or event.get("isCancelled"):
                    continue  # free / unknown / cancelled events do not block time
                s, e = self._span(event)
                if s < end and e > start:
                    busy.append((s, e, status, event))
            busy.sort(key=lambda b: (b[0], b[1]))
            view = []
            for i in range(slots):
                s0 = start + timedelta(minutes=interval * i)
                s1 = s0 + timedelta(minutes=interval)
                hits = [b[2] for b in busy if b[0] < s1 and b[1] > s0]
                view.append(_BUSY_CODES[max(hits, key=_BUSY_RANK.get)] if hits else "0")
            own = mailbox.lower() == ctx.user.lower()
            items = []
            for s, e, status, event in busy:
                item = {"isPrivate": event.get("sensitivity") == "private", "status": status}
                if own and item["isPrivate"] is False:  # GUESS: details only for the caller's own calendar
                    item.update(
                        subject=event.get("subject", ""),
                        location=(event.get("location") or {}).get("displayName", ""),
                        isMeeting=bool(event.get("attendees")),
                        isRecurring=event.get("recurrence") is not None,
                        isException=False,
                        isReminderSet=event.get("isReminderOn", True),
                    )
                item.update(start=_fmt_local(s, tz), end=_fmt_local(e, tz))
                items.append(item)
            values.append(
                {
                    "scheduleId": address,
                    "availabilityView": "".join(view),
                    "scheduleItems": items,
                    "workingHours": {  # GUESS: everybody works 08:00-17:00 UTC, Monday to Friday
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": "UTC"},
                    },
                }
            )
        headers = {"Preference-Applied": f'outlook.timezone="{tz}"'} if "outlook.timezone" in ctx.prefer else {}
        return _Reply(
            200,
            {
                "@odata.context": f"{self.graph_url}/$metadata#Collection(microsoft.graph.scheduleInformation)",
                "value": values,
            },
            headers,
        )

    # ------------------------------------------------------------------ Graph: events
    def _create(self, ctx):
        """POST /me/events (or /me/calendar/events)."""
        body = self._check_object(ctx.body, "event")
        cal = self.events.setdefault(ctx.owner, {})
        # transactionId: a retried POST returns the event already created instead of a duplicate
        # (our reading of the docs: "to avoid redundant POST operations in case of client retries").
        tx = body.get("transactionId")
        existing = next((e for e in cal.values() if tx and e.get("transactionId") == tx), None)
        if existing is None:
            existing = self._new_event(ctx.owner, body)
            props = ctx.body.get("singleValueExtendedProperties") if isinstance(ctx.body, dict) else None
            self._extended[existing["id"]] = self._check_extended(props)
            cal[existing["id"]] = existing
            self._notify("invitation", existing, self._addresses(existing))
        return self._render(ctx, existing, 201, default_zone=existing["start"]["timeZone"])

    @staticmethod
    def _check_extended(props) -> dict:
        """singleValueExtendedProperties on create: [{"id": "String {guid} Name X", "value": str}]."""
        if props is None:
            return {}
        if not isinstance(props, list) or not all(
            isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("value"), str) for p in props
        ):
            raise _request_body_read("Invalid singleValueExtendedProperties.")  # GUESS: message text
        for p in props:
            if not re.fullmatch(r"String \{[0-9a-fA-F-]{36}\} Name \S+", p["id"]):
                raise _graph_error(400, "ErrorInvalidProperty", "The extended property id is invalid.")  # GUESS
        return {p["id"].lower(): p["value"] for p in props}

    def _list(self, ctx):
        """GET /me/events with the one $filter form we use: an extended property equal to a value."""
        flt = ctx.query.get("$filter", "")
        m = re.fullmatch(
            r"singleValueExtendedProperties/Any\(ep: ep/id eq '([^']+)' and ep/value eq '([^']*)'\)", flt.strip()
        )
        if flt and not m:  # GUESS: Graph's message for a filter it cannot parse
            raise _graph_error(400, "BadRequest", f"Invalid filter clause: {flt}")
        found = [
            e
            for e in self.events.get(ctx.owner, {}).values()
            if not m or self._extended.get(e["id"], {}).get(m.group(1).lower()) == m.group(2)
        ]
        tz = self._out_zone(ctx, "UTC")
        value = []
        for e in found:
            out = copy.deepcopy(e)
            s0, e0 = self._span(e)
            out["start"], out["end"] = _fmt_local(s0, tz), _fmt_local(e0, tz)
            value.append(out)
        return _Reply(200, {"@odata.context": f"{self.graph_url}/$metadata#users('{quote(ctx.owner)}')/events", "value": value})

    def _get(self, ctx, event_id):
        event = self._stored(ctx.owner, event_id)
        return self._render(ctx, event, 200, default_zone="UTC")  # Graph returns UTC unless Prefer says otherwise

    def _patch(self, ctx, event_id):
        event = self._stored(ctx.owner, event_id)
        body = self._check_object(ctx.body, "event")
        merged = copy.deepcopy(event)
        for key, value in body.items():
            if key in _WRITABLE_EVENT_PROPS:  # read-only properties are ignored -- GUESS
                merged[key] = value
        self._normalize(ctx.owner, merged, previous=event)
        merged.update(lastModifiedDateTime=_stamp7(), changeKey=self._change_key())
        self.events[ctx.owner][event_id] = merged
        before = {a.lower() for a in self._addresses(event)}
        self._notify("invitation", merged, [a for a in self._addresses(merged) if a.lower() not in before])
        if self._span(merged) != self._span(event):
            self._notify("update", merged, [a for a in self._addresses(merged) if a.lower() in before])
        return self._render(ctx, merged, 200, default_zone=merged["start"]["timeZone"])

    def _delete(self, ctx, event_id):
        self._stored(ctx.owner, event_id)
        del self.events[ctx.owner][event_id]
        return _Reply(204)

    def _cancel(self, ctx, event_id):
        """POST /me/events/{id}/cancel {"comment"}: organizer only; the event leaves the calendar."""
        event = self._stored(ctx.owner, event_id)
        self._check_action(ctx.body, "cancel")
        if not event.get("isOrganizer"):
            raise _graph_error(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. You need to be an organizer to cancel a meeting.",
            )
        del self.events[ctx.owner][event_id]
        self._notify("cancellation", event, self._addresses(event))
        return _Reply(202)

    @staticmethod
    def _addresses(event: dict) -> list[str]:
        return [a["emailAddress"]["address"] for a in event.get("attendees") or []]

    def _notify(self, kind: str, event: dict, addresses) -> None:
        for address in addresses:
            self.notified.append({"kind": kind, "email": address.lower(), "event": event["id"]})

    def _render(self, ctx: _Ctx, event: dict, status: int, default_zone: str) -> _Reply:
        """A stored event as Graph returns it: OData annotations, times/body in the preferred format."""
        out = {
            "@odata.context": f"{self.graph_url}/$metadata#users('{quote(ctx.owner)}')/events/$entity",
            "@odata.etag": f'W/"{event["changeKey"]}"',
            **copy.deepcopy(event),
        }
        tz = self._out_zone(ctx, default_zone)
        s, e = self._span(event)
        out["start"], out["end"] = _fmt_local(s, tz), _fmt_local(e, tz)
        if ctx.prefer.get("outlook.body-content-type", "").lower() == "text":
            out["body"] = {"contentType": "text", "content": _html_to_text(out["body"]["content"])}
        headers = {}
        applied = [f'outlook.timezone="{tz}"'] if "outlook.timezone" in ctx.prefer else []
        if "outlook.body-content-type" in ctx.prefer:
            applied.append(f'outlook.body-content-type="{out["body"]["contentType"]}"')
        if applied:
            headers["Preference-Applied"] = ", ".join(applied)
        return _Reply(status, out, headers)

    # ------------------------------------------------------------------ event helpers
    @staticmethod
    def _new_id() -> str:
        return "AAMkA" + base64.urlsafe_b64encode(secrets.token_bytes(107)).decode()

    @staticmethod
    def _change_key() -> str:
        return "DwAAABYAAAA" + base64.b64encode(secrets.token_bytes(24)).decode()

    def _new_event(self, owner: str, body: dict) -> dict:
        """A stored Graph event from a validated create body (read-only input properties dropped)."""
        given = {k: copy.deepcopy(v) for k, v in body.items() if k in _WRITABLE_EVENT_PROPS and v is not None}
        event_id, stamp = self._new_id(), _stamp7()
        ical = "040000008200E00074C5B7101A82E00800000000" + secrets.token_hex(28).upper()
        user = self._users.get(owner.lower(), {"name": owner, "email": owner})
        event = {
            "id": event_id,
            "createdDateTime": stamp,
            "lastModifiedDateTime": stamp,
            "changeKey": self._change_key(),
            "categories": [],
            "transactionId": None,
            "originalStartTimeZone": None,
            "originalEndTimeZone": None,
            "iCalUId": ical,
            "uid": ical,
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "hasAttachments": False,
            "subject": "",
            "bodyPreview": "",
            "importance": "normal",
            "sensitivity": "normal",
            "isAllDay": False,
            "isCancelled": False,
            "isOrganizer": True,
            "responseRequested": True,
            "seriesMasterId": None,
            "showAs": "busy",
            "type": "singleInstance",
            "webLink": f"https://outlook.office365.com/owa/?itemid={quote(event_id, safe='')}&exvsurl=1&path=/calendar/item",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": False,
            "onlineMeetingProvider": "unknown",
            "allowNewTimeProposals": True,
            "occurrenceId": None,
            "isDraft": False,
            "hideAttendees": False,
            "responseStatus": {"response": "organizer", "time": _NO_TIME},
            "body": {"contentType": "html", "content": ""},
            "start": None,
            "end": None,
            "location": {},
            "locations": [],
            "recurrence": None,
            "attendees": [],
            "organizer": {"emailAddress": {"name": user["name"], "address": user["email"]}},
            "onlineMeeting": None,
            **given,
        }
        self._normalize(owner, event, previous=None)
        return event

    def _normalize(self, owner: str, event: dict, previous: dict | None) -> None:
        """Validate and derive the computed properties (create and patch)."""
        for which in ("start", "end"):
            if not event.get(which):  # GUESS: code and message for a missing start/end
                raise _graph_error(400, "ErrorInvalidParameter", f"The '{which}' property is required.")
        start, end = self._instant(event["start"], "start"), self._instant(event["end"], "end")
        if end <= start:  # GUESS: message text
            raise _graph_error(400, "ErrorInvalidParameter", "The end time of the event must be after its start time.")
        # Store start/end in the zone they were given in, normalised to Graph's 7-digit format.
        for which, instant in (("start", start), ("end", end)):
            event[which] = _fmt_local(instant, event[which]["timeZone"])
        event["originalStartTimeZone"] = event["start"]["timeZone"]
        event["originalEndTimeZone"] = event["end"]["timeZone"]
        if event.get("recurrence"):
            event["type"] = "seriesMaster"
        # Body: Exchange stores HTML; a text body comes back as an HTML document.
        body = event.get("body") or {}
        content = body.get("content") or ""
        if body.get("contentType", "text") == "text":  # stored bodies are always html, so this is new input
            content = _html_body(content) if content else ""
        # Attendees: every one gets a type and a "none" response (kept for attendees already there).
        before = {
            (a.get("emailAddress") or {}).get("address", "").lower(): a for a in (previous or {}).get("attendees") or []
        }
        attendees = []
        for a in event.get("attendees") or []:
            address = (a.get("emailAddress") or {}).get("address")
            if not address:  # GUESS: code and message
                raise _graph_error(400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
            old = before.get(address.lower())
            attendees.append(
                {
                    "type": a.get("type") or "required",
                    "status": copy.deepcopy(old["status"]) if old else {"response": "none", "time": _NO_TIME},
                    "emailAddress": {"name": a["emailAddress"].get("name") or address, "address": address},
                }
            )
        event["attendees"] = attendees
        location = {
            "displayName": "",
            "locationType": "default",
            "uniqueIdType": "unknown",
            "address": {},
            "coordinates": {},
        }
        location.update(event.get("location") or {})
        event["location"] = location
        if location["displayName"] and not event.get("locations"):
            event["locations"] = [copy.deepcopy(location)]
        # Online meeting: isOnlineMeeting with the (default) Teams provider gets a Teams join link.
        if event.get("isOnlineMeeting"):
            if event.get("onlineMeetingProvider") in (None, "unknown"):
                event["onlineMeetingProvider"] = "teamsForBusiness"  # GUESS: the mailbox default for work accounts
            if event["onlineMeetingProvider"] == "teamsForBusiness":
                kept = (previous or {}).get("onlineMeeting")
                event["onlineMeeting"] = kept or {"joinUrl": self._teams_url(owner)}
                if event["onlineMeeting"]["joinUrl"] not in content:
                    content = self._with_teams_block(content, event["onlineMeeting"]["joinUrl"])
            else:
                event["onlineMeeting"] = None
        else:
            event["onlineMeeting"] = None
            if event.get("onlineMeetingProvider") is None:
                event["onlineMeetingProvider"] = "unknown"
        event["body"] = {"contentType": "html", "content": content}
        event["bodyPreview"] = re.sub(r"\s+", " ", _html_to_text(content)).strip()[:255]
        for key, default in (
            ("subject", ""),
            ("categories", []),
            ("showAs", "busy"),
            ("importance", "normal"),
            ("sensitivity", "normal"),
        ):
            if event.get(key) is None:
                event[key] = default

    def _teams_url(self, owner: str) -> str:
        meeting = base64.b64encode(str(uuid.uuid4()).encode()).decode()  # real ids are base64'd GUIDs
        oid = self._users.get(owner.lower(), {}).get("oid", str(uuid.uuid4()))
        context = quote(json.dumps({"Tid": self.tenant_id, "Oid": oid}, separators=(",", ":")), safe="").lower()
        return f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{meeting}%40thread.v2/0?context={context}"

    @staticmethod
    def _with_teams_block(content: str, join_url: str) -> str:
        """The Teams invitation block Exchange appends to the body of an online meeting."""
        block = (
            "<div><br>________________________________________________________________________________<br>"
            "<b>Microsoft Teams meeting</b><br>Join on your computer, mobile app or room device<br>"
            f'<a href="{html.escape(join_url)}">Click here to join the meeting</a><br>'
            "________________________________________________________________________________</div>"
        )
        if not content:
            return _html_body("").replace("<div></div>", block)
        if "</body>" in content:
            return content.replace("</body>", block + "\r\n</body>", 1)
        return content + block

    @staticmethod
    def _span(event: dict) -> tuple[datetime, datetime]:
        return FakeMicrosoft._instant(event["start"], "start"), FakeMicrosoft._instant(event["end"], "end")

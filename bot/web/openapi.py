"""OpenAPI 3.1 description of the web app (served at ``GET /openapi.json``).

Built by a function from the handlers' own limits, so the document cannot drift from the code
on those; ``tests/unit/test_web_fuzz.py`` checks that every route is described and that every
status the app answers is listed for its route.
"""

from __future__ import annotations

from typing import Any

from bot.web import limits

ERROR = {"$ref": "#/components/schemas/Error"}
HTML = {"text/html": {"schema": {"type": "string"}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": HTML}


def _path_param(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string", **schema}}


def _query_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": {"type": "string"}}


LINK_INVALID = {
    "description": "The link is not valid (tampered, expired, or the booking changed): an HTML page; "
    "a path that is not one booking id: the JSON error.",
    "content": {**HTML, "application/json": {"schema": ERROR}},
}
NO_ROUTE = _error("No such route (the provider segment is not one path segment).")
PROVIDER = _path_param(
    "provider",
    "Calendar provider. Any other value is answered with an error page.",
    examples=["google", "microsoft"],
)
ORIGIN = {
    "name": "Origin",
    "in": "header",
    "required": False,
    "description": "Sent by browsers: the page's origin. Absent or this site's own: no CORS.",
    "schema": {"type": "string"},
}
CORS_HEADERS = {
    name: {"description": description, "schema": {"type": "string"}}
    for name, description in (
        ("Access-Control-Allow-Origin", "The page's origin, when it is in WIDGET_ORIGINS."),
        ("Vary", "`Origin`."),
    )
}
INVITE = _query_param("invite", "Signed invitation token from `python -m bot agent invite` (valid 7 days).")


def document(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of :func:`bot.web.create_app`'s routes."""
    chat_request = {
        "type": "object",
        "required": ["sender", "message"],
        "properties": {
            "sender": {
                "type": "string",
                "pattern": limits.SENDER_RE.pattern,
                "minLength": 1,
                "maxLength": 64,
                "description": "Conversation id chosen by the page: 1-64 letters, digits, '-' or '_'.",
            },
            "message": {
                "type": "string",
                "minLength": 1,
                "maxLength": limits.MAX_MESSAGE,
                "description": (
                    f"What the visitor typed or the payload of a button: 1-{limits.MAX_MESSAGE} characters, "
                    "not only white space, no NUL character, valid Unicode (no lone surrogates)."
                ),
            },
            "metadata": {
                "type": ["object", "null"],
                "description": (
                    "Widget metadata (timezone, locale, queue, person, company), passed to Rasa as is. "
                    f"At most {limits.MAX_METADATA} characters as JSON (Python's json.dumps, ASCII-escaped), "
                    f"objects/arrays nested at most {limits.MAX_METADATA_DEPTH} levels deep (itself included), "
                    "no NaN or Infinity, valid Unicode. Absent or null means {}."
                ),
            },
        },
        "additionalProperties": True,
        "examples": [{"sender": "web-k3j2h1", "message": "I would like to book a meeting", "metadata": {"locale": "en-GB"}}],
    }
    bot_message = {
        "type": "object",
        "description": "One bot message, as Rasa's REST channel returns it.",
        "properties": {
            "recipient_id": {"type": "string"},
            "text": {"type": "string"},
            "buttons": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "payload": {"type": "string"}},
                },
            },
            "image": {"type": "string"},
            "custom": {},
        },
        "additionalProperties": True,
    }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Meeting booking chat: web app",
            "version": "0.1.0",
            "description": (
                "Chat page, chat relay to Rasa's REST channel (CORS for WIDGET_ORIGINS), meeting rooms of the local "
                "calendar, calendar connection pages, health. JSON errors are `{\"error\": \"...\"}`; "
                "the calendar connection pages answer errors with an HTML page instead. Any request "
                f"body over {limits.MAX_BODY // 1024} KB is refused with 413."
            ),
        },
        "paths": {
            "/": {
                "get": {
                    "operationId": "index",
                    "summary": "The chat page (with the chat widget)",
                    "responses": {"200": _html("The chat page.")},
                }
            },
            "/static/{name}": {
                "get": {
                    "operationId": "static",
                    "summary": "Scripts and style sheets of the chat page, the chat widget and the portal",
                    "parameters": [
                        _path_param(
                            "name",
                            "File name (may contain '/'); only these exist. The socket.io client is copied "
                            "from node_modules by `make install`.",
                            enum=list(limits.STATIC_FILES),
                        )
                    ],
                    "responses": {
                        "200": {
                            "description": "The file.",
                            "content": {"text/javascript": {"schema": {"type": "string"}}, "text/css": {"schema": {"type": "string"}}},
                        },
                        "404": _error("No such file, or the socket.io client is missing (`make install` has not run)."),
                    },
                }
            },
            "/widget.js": {
                "get": {
                    "operationId": "widget",
                    "summary": "The embeddable chat widget: `<script src=\".../widget.js\" data-queue=\"sales\" defer>`",
                    "description": (
                        "Adds a chat launcher and panel to any page; talks to Rasa over socket.io, falls back "
                        "to `POST /chat`. Its default Rasa port is this setup's RASA_PORT. Cached 5 minutes."
                    ),
                    "responses": {
                        "200": {
                            "description": "The script (`Cache-Control: public, max-age=300`).",
                            "headers": {"Cache-Control": {"schema": {"type": "string"}}},
                            "content": {"text/javascript": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness and database reachability",
                    "responses": {
                        "200": {
                            "description": "Up, database reachable.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                        },
                        "503": {
                            "description": "The database is not reachable.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                        },
                    },
                }
            },
            "/chat": {
                "options": {
                    "operationId": "chat_preflight",
                    "summary": "CORS preflight of POST /chat, for pages of the origins in WIDGET_ORIGINS",
                    "parameters": [ORIGIN],
                    "responses": {
                        "204": {
                            "description": (
                                "An origin of WIDGET_ORIGINS: `Access-Control-Allow-Origin` (that origin), "
                                "`-Methods: POST`, `-Headers: Content-Type`, `-Max-Age`. No Origin or this "
                                "site's own: no CORS headers. Always `Vary: Origin`."
                            ),
                            "headers": CORS_HEADERS,
                        },
                        "403": _error("A page of an origin not in WIDGET_ORIGINS (no CORS headers)."),
                    },
                },
                "post": {
                    "operationId": "chat",
                    "summary": "Send a chat message to the assistant (relayed to Rasa's REST channel)",
                    "description": (
                        "From a page of an origin in WIDGET_ORIGINS, every answer carries "
                        "`Access-Control-Allow-Origin` (that origin) and `Vary: Origin`; no credentials."
                    ),
                    "parameters": [ORIGIN],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "The assistant's replies, in order.",
                            "content": {
                                "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/BotMessage"}}}
                            },
                        },
                        "400": {
                            "description": "The body is not a JSON object, or a field breaks its rule; `error` says "
                            "which. A message over the limit also gets `messages`: the bot's reply for the visitor, "
                            "in their language, shaped like a 200's items (the widget shows it).",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["error"],
                                        "properties": {
                                            "error": {"type": "string"},
                                            "messages": {"type": "array", "items": {"type": "object"}},
                                        },
                                    }
                                }
                            },
                        },
                        "403": _error("Sent from a page of an origin not in WIDGET_ORIGINS."),
                        "413": _error("The request body is over 64 KB."),
                        "503": _error("The assistant (Rasa) is not reachable right now."),
                    },
                }
            },
            "/meet/{key}": {
                "get": {
                    "operationId": "meet",
                    "summary": "Meeting room of a booking made on the local calendar",
                    "parameters": [_path_param("key", "The booking's id (32 hex digits).", pattern="^[0-9a-f]{32}$")],
                    "responses": {"200": _html("The meeting room page."), "404": _error("No such meeting.")},
                }
            },
            "/portal/connect/{provider}": {
                "get": {
                    "operationId": "connect_page",
                    "summary": "Invitation page: the permissions asked for, and the button to connect",
                    "parameters": [PROVIDER, INVITE],
                    "responses": {
                        "200": _html("The invitation page."),
                        "400": _html("The invitation is not valid or has expired."),
                        "404": {
                            "description": "Unknown calendar provider (an HTML page), or no such route (JSON).",
                            "content": {**HTML, "application/json": {"schema": ERROR}},
                        },
                    },
                }
            },
            "/portal/connect/caldav": {
                "get": {
                    "operationId": "caldav_connect_page",
                    "summary": "Invitation page for CalDAV: server address, user name and app password",
                    "parameters": [INVITE],
                    "responses": {
                        "200": _html("The form, with the presets and why an app password."),
                        "400": _html("The invitation is not valid or has expired."),
                    },
                },
                "post": {
                    "operationId": "caldav_connect",
                    "summary": "Connect the invited agent's CalDAV calendar (do=caldav), or choose its calendars "
                    "(do=calendars, or do=choose: `calendar` to book into, `busy` repeated)",
                    "parameters": [ORIGIN],
                    "requestBody": FORM,
                    "responses": {
                        "200": _html("Connected (or saved): the calendar choice."),
                        "400": _html("Not connected: the invitation, the address, the credentials or the server "
                                     "was not right; the message says which. Nothing was stored."),
                        "403": _html("Posted from another site."),
                    },
                },
            },
            "/oauth/{provider}/start": {
                "get": {
                    "operationId": "oauth_start",
                    "summary": "Start the OAuth authorization-code flow (PKCE) for an invitation",
                    "parameters": [PROVIDER, INVITE],
                    "responses": {
                        "302": {
                            "description": "Redirect to the provider's consent page.",
                            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                        },
                        "400": _html("Invalid invitation, unknown or unconfigured provider."),
                        "404": NO_ROUTE,
                    },
                }
            },
            "/oauth/{provider}/callback": {
                "get": {
                    "operationId": "oauth_callback",
                    "summary": "OAuth redirect target: finishes the connection",
                    "parameters": [
                        PROVIDER,
                        _query_param("state", "The single-use state the start handed out."),
                        _query_param("code", "Authorization code."),
                        _query_param("error", "Error code from the provider (e.g. access_denied)."),
                        _query_param("scope", "Granted scopes (Google)."),
                        _query_param("session_state", "Session id (Microsoft)."),
                    ],
                    "responses": {
                        "200": _html("Connected."),
                        "400": _html("Not connected; the page says why."),
                        "404": NO_ROUTE,
                    },
                }
            },
            "/booking/{booking_id}/cancel": {
                "get": {
                    "operationId": "cancel_page",
                    "summary": "The cancel page behind the signed link in the confirmation e-mail",
                    "parameters": [
                        _path_param("booking_id", "The booking code (32 hex digits)."),
                        _query_param("t", "The signed link token (expiring, bound to the booking's sequence)."),
                    ],
                    "responses": {
                        "200": _html("The meeting and a cancel button, or: already cancelled."),
                        "404": LINK_INVALID,
                    },
                },
                "post": {
                    "operationId": "cancel_booking",
                    "summary": "Cancel the booking (form field t: the signed link token)",
                    "parameters": [_path_param("booking_id", "The booking code (32 hex digits).")],
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {"type": "object", "properties": {"t": {"type": "string"}}}
                            }
                        }
                    },
                    "responses": {
                        "200": _html("Cancelled (or already cancelled)."),
                        "400": _error("A body Sanic cannot read as a form."),
                        "404": LINK_INVALID,
                        "409": _html("The meeting is over."),
                        "413": _error("Body over 64 KB."),
                        "503": _html("The calendar could not be reached; nothing changed."),
                    },
                },
            },
            "/booking/{booking_id}/reschedule": {
                "get": {
                    "operationId": "reschedule_page",
                    "summary": "New times for the booking (the same agent's first), behind the signed link in the e-mails",
                    "parameters": [
                        _path_param("booking_id", "The booking code (32 hex digits)."),
                        _query_param("t", "The signed link token (expiring at the start, bound to the booking's sequence)."),
                        _query_param("after", "Later times: only times after this UTC instant (ISO 8601)."),
                    ],
                    "responses": {
                        "200": _html("The meeting and a form of new times, or: no other time, already cancelled."),
                        "404": LINK_INVALID,
                        "409": _html("The meeting has started."),
                    },
                },
                "post": {
                    "operationId": "reschedule_booking",
                    "summary": "Move the booking to the chosen time (form fields t: the token, offer: a time from the "
                    "page), or invite guests (t, do=guest and guest: one or more e-mail addresses)",
                    "parameters": [_path_param("booking_id", "The booking code (32 hex digits).")],
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "t": {"type": "string"},
                                        "offer": {"type": "string"},
                                        "guest": {"type": "string"},
                                        "do": {"type": "string", "enum": ["guest"]},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "200": _html("Moved, guests invited (or already cancelled)."),
                        "400": _error("A body Sanic cannot read as a form."),
                        "404": LINK_INVALID,
                        "409": _html("That time is gone (fresh times shown) or the meeting has started."),
                        "413": _error("Body over 64 KB."),
                        "422": _html("A guest refused: not an address, the agent's or the visitor's own, too many."),
                        "503": _html("The calendar could not be reached; nothing changed."),
                    },
                },
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1 document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string", "description": "What went wrong, in plain words."}},
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "database"],
                    "properties": {
                        "status": {"type": "string", "enum": ["ok", "error"]},
                        "database": {"type": "string", "enum": ["ok", "unreachable"]},
                    },
                },
                "ChatRequest": chat_request,
                "BotMessage": bot_message,
            }
        },
    }
    doc["paths"].update(_portal_paths())
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


# ---- the portal (bot/web/portal.py, portal_admin.py): HTML pages behind a session cookie ------
SIGNED_OUT = {
    "302": {"description": "GET without a valid session: redirect to /portal/signin?next=…"},
    "401": _html("POST without a valid session."),
}
NOT_ALLOWED = _html("Signed in, but the page is another agent's (agents) or needs the admin role; or a POST "
                    "without the session's CSRF token or from another origin.")
FORM = {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}
BAD_FORM = _error("A body Sanic cannot read as a form.")


def _page_op(op_id: str, summary: str, *, post: bool = False, params: list | None = None, extra: dict | None = None,
             guarded: bool = True) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": _html("The page.")}
    if post:
        responses.update({"303": {"description": "Done: redirect to the new page."}, "400": _html(
            "The form was not accepted; the page says why and keeps the input."), "413": _error("Body over 64 KB.")})
    if guarded:
        responses.update({**SIGNED_OUT, "403": NOT_ALLOWED})
    responses.update(extra or {})
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if post:
        op["requestBody"] = FORM
    return op


def _portal_paths() -> dict[str, Any]:
    agent = [_path_param("agent_id", "The agent's id (an agent may open only their own).", pattern="^[0-9]+$")]
    slug = [_path_param("slug", "The queue id.")]
    not_found = {"404": _html("No such agent or queue.")}
    return {
        "/portal": {"get": _page_op("portal_home", "Redirect to the signed-in person's first page",
                                    extra={"302": {"description": "To the agent's calendar or the admin dashboard, "
                                                   "or to sign-in."}})},
        "/portal/signin": {
            "get": _page_op("signin_page", "The sign-in form", guarded=False,
                            params=[_query_param("next", "A portal path to go to after signing in.")]),
            "post": _page_op("signin", "Sign in (e-mail, password); sets the session cookie", post=True, guarded=False,
                             extra={"302": {"description": "Signed in: to `next` (a portal path only)."},
                                    "401": _html("E-mail and password do not match."),
                                    "403": _html("The form came from another origin."),
                                    "429": _html("Too many failed sign-ins for this e-mail or address: wait 15 min.")}),
        },
        "/portal/signout": {"post": _page_op("signout", "Sign out everywhere (ends every session of the account)",
                                             post=True, extra={"302": {"description": "To the sign-in page."}})},
        "/portal/invite": {
            "get": _page_op("invite_page", "Accept an agent invitation: choose a password", guarded=False,
                            params=[_query_param("t", "The signed invitation token (7 days).")],
                            extra={"400": _html("The invitation is not valid (tampered, expired).")}),
            "post": _page_op("invite_accept", "Create the agent's account from the invitation", post=True, guarded=False,
                             extra={"302": {"description": "Account created, signed in: to the calendar tab."},
                                    "403": _html("The form came from another origin.")}),
        },
        "/portal/agents/{agent_id}/calendar": {
            "get": _page_op("calendar_tab", "Calendar connection: status, permissions, connect", params=agent,
                            extra=not_found),
            "post": _page_op("calendar_disconnect", "Disconnect the calendar (do=disconnect); the agent's own tab "
                             "only: connect CalDAV (do=caldav: preset, url, username, password) or choose its "
                             "calendars (do=calendars: `calendar` to book into, `busy` repeated)", post=True,
                             params=agent, extra=not_found),
        },
        "/portal/agents/{agent_id}/invitation": {
            "get": _page_op("invitation_tab", "The invitation editor with the token picker and preview; with "
                            "`lang`, the agent's version for visitors of that language", params=agent + [_query_param(
                                "lang", "en, fr, de, es, pt or it: open the version for that visitor language.")],
                            extra={**not_found, "400": _html("Unknown language.")}),
            "post": _page_op("invitation_save", "Save subject, body and the meeting-link setting; with field `lang`, "
                             "save the version for that visitor language (`do=remove`: delete it)", post=True,
                             params=agent, extra=not_found),
        },
        "/portal/agents/{agent_id}/invitation/preview": {"post": {
            "operationId": "invitation_preview", "summary": "The invitation rendered with sample values (JSON)",
            "parameters": agent, "requestBody": FORM,
            "responses": {"200": {"description": "{subject, body, problem}", "content": {"application/json": {
                "schema": {"type": "object"}}}}, "400": BAD_FORM, "401": _html("No valid session."),
                "403": {"description": "Another agent's, or no CSRF token.", "content": {
                    **HTML, "application/json": {"schema": ERROR}}},
                "404": _error("No such agent."), "413": _error("Body over 64 KB.")}}},
        "/portal/agents/{agent_id}/availability": {
            "get": _page_op("availability_tab", "Time zone, weekly hours, daily cap, days off, time off",
                            params=agent, extra=not_found),
            "post": _page_op("availability_change", "Change one of them (field do=hours|override|remove-override|"
                             "timeoff|remove-timeoff)", post=True, params=agent, extra=not_found),
        },
        "/portal/agents/{agent_id}/bookings": {
            "get": _page_op("bookings_tab", "Upcoming and past bookings with visitor and company details", params=agent,
                            extra=not_found),
            "post": _page_op(
                "bookings_attendance", "Mark a past meeting held or no-show (form: booking, attendance=held|no_show; "
                "no-show: the booking.no_show webhook)", post=True, params=agent,
                extra={**not_found, "403": _html("Not allowed: another agent's booking or tab, or no CSRF token.")}),
        },
        "/portal/admin/queues": {
            "get": _page_op("queues", "Queues (admin)"),
            "post": _page_op("queue_create", "Create a queue (admin)", post=True),
        },
        "/portal/admin/queues/{slug}": {
            "get": _page_op("queue", "A queue's settings, members and weights (admin)", params=slug, extra=not_found),
            "post": _page_op("queue_change", "Change settings, add/remove a member, set a weight (admin)", post=True,
                             params=slug, extra=not_found),
        },
        "/portal/admin/queues/{slug}/explain": {"get": _page_op(
            "explain_slot", "Why a time is (not) offered: per agent, the first rule that removes it (admin)",
            params=[*slug, _query_param("when", "The meeting's start, e.g. 2026-12-10T15:00."),
                    _query_param("zone", "The time zone of `when` (default UTC), e.g. Europe/Paris.")],
            extra={**not_found, "400": _html("`when` or `zone` not understood; the page says which.")})},
        "/portal/admin/accounts": {
            "get": _page_op("accounts", "Customer accounts by e-mail domain and their owners (admin)"),
            "post": _page_op("accounts_import", "Import accounts from CSV lines domain,owner_email[,name] (admin)",
                             post=True),
        },
        "/portal/admin/agents": {
            "get": _page_op("agents", "Agents with calendar health (admin)"),
            "post": _page_op("agents_change", "Invite (e-mail link), deactivate or activate an agent (admin)", post=True),
        },
        "/portal/admin/dashboard": {"get": _page_op(
            "dashboard", "Bookings per agent (round-robin fairness), funnel, failed bookings (admin)",
            params=[_query_param("queue", "A queue id (default: all)."), _query_param("weeks", "1-52 (default 8).")])},
        "/portal/admin/bookings.csv": {"get": {
            "operationId": "bookings_csv", "summary": "Bookings of the period as CSV (admin)",
            "parameters": [_query_param("queue", "A queue id."), _query_param("weeks", "1-52.")],
            "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                          **SIGNED_OUT, "403": NOT_ALLOWED}}},
        "/portal/admin/webhooks": {"get": _page_op("webhooks", "Webhook endpoints and deliveries (admin)")},
    }


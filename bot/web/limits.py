"""What the web app accepts and serves, in one place: the chat relay's limits and the files
under /static. The handlers enforce these (``app``) and the OpenAPI document describes them
(``openapi``); both read them here, so neither imports the other for them."""

from __future__ import annotations

import re
from pathlib import Path

#: Any request body over this is refused with 413 (Sanic's REQUEST_MAX_SIZE).
MAX_BODY = 64 * 1024
#: The chat relay's conversation id: what the page may choose.
SENDER_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_MESSAGE = 2000
MAX_METADATA = 8192
MAX_METADATA_DEPTH = 16  # objects/arrays inside one another, metadata itself included

STATIC = Path(__file__).parent / "static"
#: What /static/<name> serves (nothing else): the chat page's, the widget's and the portal's files.
STATIC_FILES = {
    "chat.js": "text/javascript",
    "chat.css": "text/css",
    "widget.css": "text/css",
    "portal.js": "text/javascript",
    "portal.css": "text/css",
    "vendor/socket.io.min.js": "text/javascript",  # copied from node_modules by `make install`
}

"""Start the three real processes on free ports with a temporary BOT_VAR_DIR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.ops.supervisor import ROOT, Stack, free_port, newest_model
from bot.settings import Settings, parse_origins
from tests.fakes.google import FakeGoogle
from tests.fakes.microsoft import FakeMicrosoft


class Chat:
    def __init__(self, rasa_port: int, web_port: int, env: dict[str, str], host_port: int = 0):
        self.rasa = f"http://127.0.0.1:{rasa_port}"
        self.web = f"http://127.0.0.1:{web_port}"
        self.env = env
        #: The port of "the customer's website" in the browser tests: its origin is in WIDGET_ORIGINS.
        self.host_port = host_port
        self.host_origin = f"http://127.0.0.1:{host_port}"

    def post(self, url: str, body: dict[str, Any], timeout: float = 60) -> Any:
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def say(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        return self.post(f"{self.rasa}/webhooks/rest/webhook", body)

    def release(self, booking_id: str) -> bool:
        """Cancel a booking as its visitor would (the signed link of its confirmation e-mail), so a
        test gives its time back: the e2e files share the demo team's few hours."""
        from bot.settings import load_settings
        from tests.e2e.conversations.harness import Client

        outbox = load_settings(self.env, dotenv=False).outbox_dir
        return Client(self.rasa, Path(os.devnull), web_url=self.web, outbox=outbox).cancel_by_link(booking_id)

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return out.stdout


@pytest.fixture(scope="session")
def google() -> FakeGoogle:
    with FakeGoogle() as g:
        g.add_user("gina@acme.example")
        yield g


@pytest.fixture(scope="session")
def microsoft() -> FakeMicrosoft:
    with FakeMicrosoft() as fake:
        fake.add_user("mo@contoso.example", "Mo")
        yield fake


#: The e2e stack's routing rules (tests/e2e/test_routing_chat.py): the demo queue for everyone,
#: except the two kinds of visitor that test sends (metadata no other test uses). Written to the
#: stack's var folder, not kept as a .yml under tests/: `rasa test --stories tests/` would read
#: its `rules:` as Rasa rules.
ROUTING = """
questions:
  - id: team_size
    type: number
    from: company.size
    text:
      en: "How many people work at your company?"
      de: "Wie viele Menschen arbeiten in Ihrem Unternehmen?"
  - id: topic
    type: choice
    text:
      en: "What would you like to talk about?"
      de: "Worüber möchten Sie sprechen?"
    choices:
      - {value: buying, label: {en: Buying, de: Kaufen}}
      - {value: support, label: {en: A problem, de: Ein Problem}}
rules:
  - name: students
    when:
      company.industry: [education, Bildung]
      company.e2e_routing: "yes"
    disqualify:
      text:
        en: "We don't run demos for students, but our guides are free:"
        de: "Für Studierende bieten wir keine Demos an, aber unsere Leitfäden sind frei:"
      link: https://example.com/guides
  - name: big accounts
    when:
      company.e2e_routing: "yes"
      answer.team_size: ">= 10000"
    queue: sales
  - name: support questions
    when:
      company.e2e_routing: "yes"
      answer.topic: support
    disqualify:
      text:
        en: "Our support team answers problems fastest:"
        de: "Bei Problemen hilft Ihnen unser Support am schnellsten:"
      link: https://example.com/support
  - name: default
    default: true
    queue: null
"""


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, google: FakeGoogle, microsoft: FakeMicrosoft) -> Chat:
    var = tmp_path_factory.mktemp("var")
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    host_port = free_port()  # the browser tests' host site, on another origin than the web app
    web = ports["WEB_PORT"]
    env = {
        **os.environ,
        "BOT_VAR_DIR": str(var),
        **{k: str(v) for k, v in ports.items()},
        "PUBLIC_URL": f"http://localhost:{web}",
        # The chat page as the tests open it (127.0.0.1) and as PUBLIC_URL names it, and one host site.
        "WIDGET_ORIGINS": f"http://127.0.0.1:{web},http://localhost:{web},http://127.0.0.1:{host_port}",
        # Google is the fake on loopback (plain HTTP, which oauthlib only allows when told).
        "GOOGLE_CLIENT_ID": google.client_id,
        "GOOGLE_CLIENT_SECRET": google.client_secret,
        "GOOGLE_API_BASE_URL": google.url,
        "GOOGLE_AUTH_URI": google.auth_uri,
        "GOOGLE_TOKEN_URI": google.token_uri,
        "GOOGLE_REVOKE_URI": google.revoke_uri,
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
        # Microsoft is the fake over TLS with a throwaway CA.
        "MICROSOFT_CLIENT_ID": microsoft.client_id,
        "MICROSOFT_CLIENT_SECRET": microsoft.client_secret,
        "MICROSOFT_AUTHORITY": microsoft.authority,
        "GRAPH_BASE_URL": microsoft.graph_url,
        "MICROSOFT_CA_BUNDLE": microsoft.ca_path,
        # Routing rules that only the routing test's visitors match (ROUTING below).
        "ROUTING_FILE": str(var / "routing.yml"),
    }
    (var / "routing.yml").write_text(ROUTING)
    env.pop("DATABASE_URL", None)
    env.pop("SMTP_URL", None)
    subprocess.run([sys.executable, "-m", "bot", "seed-demo"], cwd=ROOT, env=env, check=True, timeout=120)
    settings = Settings(
        var_dir=var,
        rasa_port=ports["RASA_PORT"],
        action_port=ports["ACTION_PORT"],
        web_port=web,
        widget_origins=parse_origins(env["WIDGET_ORIGINS"]),
    )
    st = Stack(settings, model=newest_model(), log_dir=var / "logs", env=env)
    try:
        st.start(timeout=300)
    except RuntimeError:
        for log in sorted((var / "logs").glob("*.log")):
            sys.stderr.write(f"--- {log.name}\n{log.read_text()[-4000:]}\n")
        raise
    yield Chat(ports["RASA_PORT"], web, env, host_port)
    st.stop()


@pytest.fixture(scope="session")
def var_dir(stack: Chat) -> Path:
    return Path(stack.env["BOT_VAR_DIR"])


CHROMIUM = Path("/usr/bin/chromium")
#: What libfaketime's `faketime` command puts in the environment of what it runs.
FAKETIME_VARS = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC", "FAKETIME_SHARED", "DYLD_INSERT_LIBRARIES")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (its own browser download does not work here).
    Missing, the browser tests fail: a skipped test is not a pass (.ci/run installs it)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    # Under `make test-clock` the servers run on a faked clock (libfaketime, LD_PRELOAD); the
    # visitor's browser keeps the real one, as a visitor's does — Chromium under libfaketime
    # never opened its socket.io connection and fell back to REST.
    env = {k: v for k, v in os.environ.items() if k not in FAKETIME_VARS}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], env=env)
        yield b
        b.close()



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:  # noqa: ARG001
    """The conversation suite first, on a demo calendar nobody has booked yet: the other e2e files
    keep their bookings, and later in the day they fill the next morning that the suite's
    "tomorrow 10-12" conversations ask for. The rest keeps its order (the log scan stays last)."""
    items.sort(key=lambda item: 0 if "/e2e/conversations/" in item.nodeid.replace("\\", "/") else 1)

"""deploy/: the compose file, the image, and the nginx config run by a real nginx.

nginx must be installed (Debian/Ubuntu: ``apt-get install nginx-light``, binary /usr/sbin/nginx).
The routing tests start it on free 127.0.0.1 ports in front of three small HTTP servers standing
in for two Rasa servers and one web process; each answers with its own name and records what
reached it.
"""

from __future__ import annotations

import difflib
import http.client
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx.conf"

APP_SERVICES = {"migrate", "rasa-1", "rasa-2", "actions-1", "actions-2", "web", "worker"}
BOT_SERVICES = {"migrate", "actions-1", "actions-2", "web", "worker"}  # run our code with our settings
RASA_SERVICES = ("rasa-1", "rasa-2")
# Names our settings do not read but the servers do: rasa_sdk's bind address, Rasa's telemetry.
THIRD_PARTY_ENV = {"SANIC_HOST", "RASA_TELEMETRY_ENABLED"}
# Our settings the Rasa servers read too: which websites may embed the chat (bot/rasa_ext/).
EMBED_ENV = {"PUBLIC_URL", "WIDGET_ORIGINS"}
PLACEHOLDER = "CHANGE-ME"


def _render_module() -> Any:
    spec = importlib.util.spec_from_file_location("render_nginx", DEPLOY / "render_nginx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_local = _render_module().render_local


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        pytest.fail(
            "nginx is not installed, and these tests run the real nginx on deploy/nginx.conf. "
            "Debian/Ubuntu: `sudo apt-get install -y nginx-light` (binary /usr/sbin/nginx).",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command")
    assert isinstance(cmd, list), "commands in exec form (a list), so nothing depends on a shell"
    return [str(c) for c in cmd]


def _option(cmd: list[str], name: str) -> str:
    assert name in cmd, f"{name} missing from {cmd}"
    return cmd[cmd.index(name) + 1]


def _env_example() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip().strip('"')
    return out


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_has_the_topology(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "redis", "nginx"} | APP_SERVICES <= set(services)
    assert services["postgres"]["image"].split(":")[1].startswith("16")
    assert services["redis"]["image"].split(":")[1].startswith("7")
    assert services["nginx"]["image"] == "nginx:1.27"
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1, "one image for every process of ours"
    for name in APP_SERVICES:
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / services[name]["build"]["context"] / "deploy" / "Dockerfile").is_file()


def test_only_nginx_publishes_a_port_and_only_on_loopback(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        assert svc.get("network_mode") != "host", name
        if name != "nginx":
            assert not svc.get("ports"), f"{name} publishes a port; only nginx may"
    ports = services["nginx"]["ports"]
    assert ports
    for port in ports:
        host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
        assert host_ip == "127.0.0.1", f"nginx publishes {port!r} beyond 127.0.0.1"


def test_action_servers_are_private(services: dict[str, dict[str, Any]]) -> None:
    nginx_nets = set(services["nginx"].get("networks") or ["default"])
    conf = NGINX_CONF.read_text(encoding="utf-8")
    for name in ("actions-1", "actions-2"):
        svc = services[name]
        assert not svc.get("ports") and not svc.get("expose")
        assert not nginx_nets & set(svc.get("networks") or ["default"]), f"nginx can reach {name}"
        assert name not in conf and ":5055" not in conf


def test_commands_run_modules_that_exist(services: dict[str, dict[str, Any]]) -> None:
    main = (ROOT / "bot" / "__main__.py").read_text(encoding="utf-8")
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8").lower()
    for name in APP_SERVICES:
        cmd = _command(services[name])
        assert cmd[:2] == ["python", "-m"], f"{name}: {cmd}"
        module = cmd[2]
        assert module in {"bot", "rasa", "rasa_sdk", "bot.rasa_ext.launch"}, f"{name} runs {module}"
        if module == "bot.rasa_ext.launch":  # `rasa run` with --cors from WIDGET_ORIGINS
            assert (ROOT / "bot" / "rasa_ext" / "launch.py").is_file()
            assert re.search(r"^rasa==", requirements, re.M)
        elif module == "bot":
            assert (ROOT / "bot" / "__main__.py").is_file()
            assert f'add_parser("{cmd[3]}"' in main, f"{name}: `python -m bot {cmd[3]}` is no subcommand"
        else:
            assert importlib.util.find_spec(f"{module}.__main__") is not None, module
            assert re.search(rf"^{module.replace('_', '[-_]')}==", requirements, re.M), (
                f"{module} not in requirements.txt"
            )
    for name in RASA_SERVICES:
        cmd = _command(services[name])
        assert cmd[2] == "bot.rasa_ext.launch", "Rasa must get --cors from WIDGET_ORIGINS"
        assert cmd[3] == "run" and "--enable-api" in cmd and "--cors" not in cmd
        assert (ROOT / _option(cmd, "--endpoints")) == DEPLOY / "endpoints.scale.yml"
        assert (ROOT / _option(cmd, "--credentials")).is_file()
        assert _option(cmd, "--model") == "models"  # where deploy/Dockerfile trains the model
        assert _option(cmd, "--auth-token").startswith("${RASA_TOKEN:?"), "RASA_TOKEN is required"
        assert _option(cmd, "-p") == "5005" and _option(cmd, "-i") == "0.0.0.0"
    for name in ("actions-1", "actions-2"):
        cmd = _command(services[name])
        assert (ROOT / _option(cmd, "--actions") / "__init__.py").is_file()
        assert _env(services[name]).get("SANIC_HOST") == "0.0.0.0"


def test_rasa_services_get_every_endpoints_variable(services: dict[str, dict[str, Any]]) -> None:
    needed: set[str] = set()

    def walk(node: Any) -> None:  # values only: the comments mention ${VAR} too
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            needed.update(re.findall(r"\$\{(\w+)\}", node))

    walk(yaml.safe_load((DEPLOY / "endpoints.scale.yml").read_text(encoding="utf-8")))
    assert {"ACTION_SERVER_URL", "TRACKER_DB_HOST", "REDIS_HOST"} <= needed
    for name in RASA_SERVICES:
        env = _env(services[name])
        missing = sorted(v for v in needed if not env.get(v))
        assert not missing, f"{name} lacks {missing}"
        assert set(env) <= needed | {"RASA_TELEMETRY_ENABLED"} | EMBED_ENV, f"{name}: {sorted(set(env) - needed)}"
        assert env["RASA_TELEMETRY_ENABLED"] == "false"
        assert env["TRACKER_DB_HOST"] == "postgres" and env["REDIS_HOST"] == "redis"


def test_each_rasa_server_talks_to_its_own_action_server(services: dict[str, dict[str, Any]]) -> None:
    for n in (1, 2):
        url = urlparse(_env(services[f"rasa-{n}"])["ACTION_SERVER_URL"])
        actions_port = int(_option(_command(services[f"actions-{n}"]), "--port"))
        assert (url.scheme, url.hostname, url.port, url.path) == ("http", f"actions-{n}", actions_port, "/webhook")
        assert f"actions-{n}" in services[f"rasa-{n}"]["depends_on"]


def test_bot_processes_get_only_settings_they_read(services: dict[str, dict[str, Any]]) -> None:
    settings = (ROOT / "bot" / "settings.py").read_text(encoding="utf-8")
    for name in BOT_SERVICES:
        env = _env(services[name])
        for var in env:
            assert f'"{var}"' in settings or var in THIRD_PARTY_ENV, f"{name}: bot/settings.py never reads {var}"
        for var in ("DATABASE_URL", "BOT_SECRET_KEY", "PUBLIC_URL"):
            assert env.get(var), f"{name} lacks {var}"
        assert re.fullmatch(r"postgresql://.+@postgres:5432/.+", env["DATABASE_URL"]), env["DATABASE_URL"]
    same = {k: v for k, v in _env(services["worker"]).items()}
    for name in BOT_SERVICES - {"worker"}:
        env = _env(services[name])
        assert all(env.get(k) == v for k, v in same.items()), f"{name} and worker disagree on a setting"


def test_rasa_and_web_agree_on_who_may_embed_the_chat(services: dict[str, dict[str, Any]]) -> None:
    """Rasa (socket.io, --cors) and web (the /chat relay) check pages against one list."""
    want = {"PUBLIC_URL": "${PUBLIC_URL:-http://localhost:8080}", "WIDGET_ORIGINS": "${WIDGET_ORIGINS:-}"}
    for name in (*RASA_SERVICES, "web"):
        env = _env(services[name])
        assert {k: env.get(k) for k in EMBED_ENV} == want, name
    example = _env_example()
    assert "WIDGET_ORIGINS" in example and example["WIDGET_ORIGINS"] == "", "empty: PUBLIC_URL's origin"


def test_the_rasa_launcher_appends_the_origins_as_cors(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.rasa_ext import launch

    seen: list[list[str]] = []
    monkeypatch.setattr(launch.os, "execv", lambda path, argv: seen.append(argv))
    monkeypatch.setenv("WIDGET_ORIGINS", "https://WWW.acme.example/, https://shop.acme.example")
    launch.main(["run", "--enable-api", "-p", "5005"])
    assert seen[0][1:] == ["-m", "rasa", "run", "--enable-api", "-p", "5005", "--cors",
                           "https://www.acme.example", "https://shop.acme.example"]  # fmt: skip
    monkeypatch.setenv("WIDGET_ORIGINS", "")
    monkeypatch.setenv("PUBLIC_URL", "https://chat.acme.example/")
    launch.main(["run"])
    assert seen[1][-2:] == ["--cors", "https://chat.acme.example"]
    for bad in (["run", "--cors", "x"], ["train"], []):
        with pytest.raises(SystemExit):
            launch.main(bad)
    # A bad list stops the container before Rasa loads (a real process: no Rasa import, fast).
    env = {**os.environ, "WIDGET_ORIGINS": "*", "PUBLIC_URL": "http://localhost:8080"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.rasa_ext.launch", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "WIDGET_ORIGINS" in done.stderr and "wildcard" in done.stderr, done.stderr


def test_web_relays_to_every_rasa_server_and_leaves_the_outbox_to_the_worker(
    services: dict[str, dict[str, Any]],
) -> None:
    env = _env(services["web"])
    urls = [urlparse(u.strip()) for u in env["RASA_URL"].split(",")]
    assert sorted((u.hostname, u.port) for u in urls) == [("rasa-1", 5005), ("rasa-2", 5005)]
    assert env.get("WEB_RUNS_WORKER", "1").lower() in {"0", "false", "no", "off"}
    assert _command(services["worker"])[2:4] == ["bot", "worker"]


def test_secrets_come_from_the_env_file(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{(\w+)", text))
    example = _env_example()
    assert not used - set(example), f"not documented in deploy/.env.example: {sorted(used - set(example))}"
    for var in ("BOT_SECRET_KEY", "RASA_TOKEN", "POSTGRES_PASSWORD"):
        assert f"${{{var}:?" in text, f"{var} must be required (${{{var}:?...}})"
        assert PLACEHOLDER in example[var], f"{var} in .env.example must be an obvious placeholder"
    assert len(example["BOT_SECRET_KEY"]) >= 16  # settings reject shorter keys; the placeholder must fail on its own
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignore and "deploy/.env" in ignore, "a .env must never be copied into the image"


@pytest.mark.parametrize(
    ("env", "args", "refused"),
    [
        ({"BOT_SECRET_KEY": f"{PLACEHOLDER}-openssl-rand-hex-32"}, ["true"], True),
        ({}, ["echo", "--auth-token", f"{PLACEHOLDER}-x"], True),
        ({"DATABASE_URL": f"postgresql://bot:{PLACEHOLDER}@postgres:5432/bot"}, ["true"], True),
        ({"BOT_SECRET_KEY": "0123456789abcdef0123"}, ["true"], False),
    ],
)
def test_the_image_refuses_placeholder_secrets(env: dict[str, str], args: list[str], refused: bool) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_SECRET_KEY", "DATABASE_URL"}}
    done = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), *args], env={**clean, **env}, capture_output=True, text=True, timeout=10
    )
    assert (done.returncode == 64) is refused, done.stderr
    assert (PLACEHOLDER in done.stderr) is refused


def test_healthchecks_and_start_order(services: dict[str, dict[str, Any]]) -> None:
    for name in ("postgres", "redis", "rasa-1", "rasa-2", "actions-1", "actions-2", "web", "nginx"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on with conditions"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if spec["condition"] == "service_healthy":
                assert services[dep].get("healthcheck"), f"{name} waits for {dep} to be healthy; it has no check"
    cond = {
        name: {d: s["condition"] for d, s in (svc.get("depends_on") or {}).items()} for name, svc in services.items()
    }
    assert cond["migrate"] == {"postgres": "service_healthy"}
    assert services["migrate"]["restart"] == "no"
    for name in BOT_SERVICES - {"migrate"}:
        assert cond[name].get("migrate") == "service_completed_successfully", name
    for name in RASA_SERVICES:
        assert cond[name]["postgres"] == cond[name]["redis"] == "service_healthy"
    assert cond["nginx"] == {"web": "service_healthy", "rasa-1": "service_healthy", "rasa-2": "service_healthy"}


def test_nginx_service_mounts_the_tested_config(services: dict[str, dict[str, Any]]) -> None:
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]


def test_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.10-slim", text, re.M)
    assert "pip install -r requirements.txt -c constraints.txt" in text
    assert re.search(r"rasa train .*--out models", text), "the model is trained at build time into models/"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in {"root", "0"}, "the processes run as a non-root user"
    assert re.search(r"^ENTRYPOINT \[\"sh\", \"/app/deploy/entrypoint.sh\"\]", text, re.M)
    # The widget's socket.io client comes from npm at the locked version, like `make install`.
    assert "npm ci" in text and "COPY package.json package-lock.json" in text
    assert "socket.io.min.js bot/web/static/vendor/socket.io.min.js" in text


# --- nginx.conf ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workdir() -> Path:
    # Traversable by others: run as root, nginx's workers are `nobody` and use the temp dirs here.
    path = Path(tempfile.mkdtemp(prefix="bot-nginx-"))
    path.chmod(0o755)
    return path


def test_local_variant_changes_only_addresses_and_paths() -> None:
    workdir = _workdir()
    try:
        rendered = render_local(NGINX_CONF, workdir, 18080, [18000], [15005, 15006])
        before = NGINX_CONF.read_text(encoding="utf-8").splitlines()
        after = rendered.read_text(encoding="utf-8").splitlines()
        changed = [
            line[1:].strip()
            for line in difflib.unified_diff(before, after, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        allowed = re.compile(
            r"^(#|pid |error_log |access_log |\w+_temp_path |listen |server (web|rasa-\d|127\.0\.0\.1):)"
        )
        assert changed and all(allowed.match(line) for line in changed), [c for c in changed if not allowed.match(c)]
        assert "        listen 127.0.0.1:18080 default_server;" in after
        assert "        server 127.0.0.1:15006;" in after
        assert not any(re.match(r"\s*(daemon|user)\s", a) for a in after), "started with -g 'daemon off;'"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("layout", ["compose", "local"])
def test_nginx_accepts_the_config(layout: str) -> None:
    """`nginx -t` on deploy/nginx.conf. nginx resolves upstream host names when it loads the
    file, and compose's service names exist only inside compose: the servers become 127.0.0.1
    with compose's ports ("compose") or free ports ("local"), as render_local does."""
    binary = nginx_binary()
    workdir = _workdir()
    try:
        if layout == "compose":
            conf = render_local(NGINX_CONF, workdir, 8080, [8000], [5005, 5006])
        else:
            conf = render_local(NGINX_CONF, workdir, _free_port(), [_free_port()], [_free_port(), _free_port()])
        done = subprocess.run(
            [binary, "-t", "-p", str(workdir), "-c", str(conf)], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        assert "test is successful" in done.stderr
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class Upstream:
    """A stand-in HTTP server: answers every request with its name and records it."""

    def __init__(self, name: str):
        self.name = name
        self.hits: list[dict[str, Any]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                upstream.hits.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": len(body)}
                )
                out = json.dumps({"upstream": upstream.name, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_OPTIONS = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"upstream-{name}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Proxy:
    def __init__(self, port: int, upstreams: dict[str, Upstream]):
        self.port = port
        self.upstreams = upstreams

    def hits(self) -> int:
        return sum(len(u.hits) for u in self.upstreams.values())

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            try:
                payload = json.loads(data)
            except ValueError:
                payload = None
            return resp.status, dict(resp.getheaders()), payload
        finally:
            conn.close()

    def upstream(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> str:
        status, _, payload = self.request(method, path, headers, body)
        assert status == 200 and payload, f"{method} {path}: {status}"
        return payload["upstream"]

    def last_hit(self, name: str) -> dict[str, Any]:
        return self.upstreams[name].hits[-1]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def proxy() -> Iterator[Proxy]:
    binary = nginx_binary()
    upstreams = {name: Upstream(name) for name in ("web", "rasa-a", "rasa-b")}
    workdir = _workdir()
    proc: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):  # a free port can be taken between the check and nginx's bind
            port = _free_port()
            conf = render_local(
                NGINX_CONF, workdir, port, [upstreams["web"].port], [upstreams["rasa-a"].port, upstreams["rasa-b"].port]
            )
            with open(workdir / "stderr.log", "wb") as stderr:
                proc = subprocess.Popen(
                    [binary, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                )
            if _wait_for_port(port, proc, time.monotonic() + 15):
                break
            proc.kill()
            proc.wait(10)
        else:
            logs = [
                (workdir / f).read_text(errors="replace") for f in ("stderr.log", "error.log") if (workdir / f).exists()
            ]
            pytest.fail(f"nginx did not start: {logs}", pytrace=False)
        yield Proxy(port, upstreams)
        proc.terminate()  # SIGTERM: fast shutdown
        assert proc.wait(15) == 0, (workdir / "error.log").read_text(errors="replace")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for upstream in upstreams.values():
            upstream.stop()
        shutil.rmtree(workdir, ignore_errors=True)


RASA = {"rasa-a", "rasa-b"}
WEBHOOK = "/webhooks/rest/webhook"
CHAT = json.dumps({"sender": "visitor-1", "message": "hi"}).encode()
JSON = {"Content-Type": "application/json"}


def test_one_visitor_stays_on_one_rasa_server(proxy: Proxy) -> None:
    for i in range(10):
        cookie = {"Cookie": f"bot_visitor=visitor-{i}", **JSON}
        seen = {proxy.upstream("POST", WEBHOOK, cookie, CHAT) for _ in range(4)}
        seen.add(proxy.upstream("GET", "/socket.io/?EIO=4&transport=polling", cookie))
        assert len(seen) == 1 and seen <= RASA, f"visitor-{i} went to {seen}"


def test_visitors_spread_over_the_rasa_servers(proxy: Proxy) -> None:
    web_before = len(proxy.upstreams["web"].hits)
    counts = Counter(
        proxy.upstream("POST", WEBHOOK, {"Cookie": f"theme=dark; bot_visitor=v{i:03d}", **JSON}, CHAT)
        for i in range(50)
    )
    assert set(counts) == RASA, counts
    assert len(proxy.upstreams["web"].hits) == web_before


def test_without_the_cookie_the_client_address_decides(proxy: Proxy) -> None:
    # The TLS terminator in front (a trusted address) reports the client in X-Forwarded-For.
    assert len({proxy.upstream("POST", WEBHOOK, JSON, CHAT) for _ in range(8)}) == 1
    per_client = {}
    for i in range(50):
        xff = {"X-Forwarded-For": f"203.0.113.{i}", **JSON}
        per_client[i] = {proxy.upstream("POST", WEBHOOK, xff, CHAT) for _ in range(2)}
        assert len(per_client[i]) == 1, f"203.0.113.{i} went to {per_client[i]}"
    assert set().union(*per_client.values()) == RASA
    name = per_client[7].pop()
    proxy.upstream("POST", WEBHOOK, {"X-Forwarded-For": "203.0.113.7", **JSON}, CHAT)
    assert proxy.last_hit(name)["headers"]["X-Real-IP"] == "203.0.113.7"


def test_socketio_goes_to_rasa_with_the_websocket_upgrade(proxy: Proxy) -> None:
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Cookie": "bot_visitor=ws-1"}
    name = proxy.upstream("GET", "/socket.io/?EIO=4&transport=websocket", upgrade)
    assert name in RASA
    headers = proxy.last_hit(name)["headers"]
    assert headers["Upgrade"] == "websocket" and headers["Connection"].lower() == "upgrade"
    # Nowhere else: the web app gets no upgrade.
    assert proxy.upstream("GET", "/", upgrade) == "web"
    headers = proxy.last_hit("web")["headers"]
    assert "Upgrade" not in headers and "upgrade" not in headers.get("Connection", "").lower()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("POST", "/chat"),
        ("GET", "/static/chat.js"),
        ("GET", "/health"),
        ("GET", "/meet/0123456789abcdef0123456789abcdef"),
        ("GET", "/portal/connect/google?invite=x"),
        ("GET", "/statusboard"),
        ("GET", "/models"),
    ],
)
def test_everything_else_goes_to_web(proxy: Proxy, method: str, path: str) -> None:
    cookie = {"Cookie": "bot_visitor=web-1", **JSON}
    assert proxy.upstream(method, path, cookie, CHAT if method == "POST" else None) == "web"
    assert proxy.last_hit("web")["path"] == path


@pytest.mark.parametrize(
    "path",
    [
        "/conversations/x/tracker",
        "/conversations/x/messages",
        "/conversations",
        "/status",
        "/model",
        "/model/parse",
        "/webhooks/twilio/webhook",
        "/webhooks/rest/",
        "/webhooks/rest/webhook/",
        "/socket.io/../conversations/x/tracker",
        "/static/%2E%2E/status",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_rasa_api_is_not_routed(proxy: Proxy, method: str, path: str) -> None:
    before = proxy.hits()
    status, _, _ = proxy.request(method, path, JSON, CHAT if method == "POST" else None)
    assert status == 404, f"{method} {path}: {status}"
    assert proxy.hits() == before, f"{method} {path} reached an upstream"


def test_the_rest_webhook_takes_post_only(proxy: Proxy) -> None:
    before = proxy.hits()
    assert proxy.request("GET", WEBHOOK)[0] == 403
    assert proxy.hits() == before


def test_the_origin_reaches_rasa_and_web_untouched(proxy: Proxy) -> None:
    """Who may embed the chat is decided upstream (WIDGET_ORIGINS): nginx passes Origin and the
    preflight through and adds no CORS header of its own."""
    site = {"Origin": "https://www.acme.example", "Cookie": "bot_visitor=embed-1"}
    preflight = {**site, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for method, path, headers in (
        ("OPTIONS", WEBHOOK, preflight),
        ("GET", "/socket.io/?EIO=4&transport=polling", site),
        ("OPTIONS", "/chat", preflight),
        ("POST", "/chat", {**site, **JSON}),
    ):
        status, answer, payload = proxy.request(method, path, headers, CHAT if method == "POST" else None)
        assert status == 200 and payload, (method, path, status)
        seen = proxy.last_hit(payload["upstream"])
        assert (seen["method"], seen["headers"].get("Origin")) == (method, "https://www.acme.example")
        assert not any(k.lower().startswith("access-control-") for k in answer), answer


def test_limits_and_headers(proxy: Proxy) -> None:
    before = proxy.hits()
    status, _, _ = proxy.request("POST", "/chat", JSON, b"x" * (64 * 1024 + 1))
    assert status == 413 and proxy.hits() == before
    # Under the limit but over nginx's in-memory buffer: the body goes through a temp file.
    assert proxy.upstream("POST", "/chat", JSON, b"x" * 40_000) == "web"
    assert proxy.last_hit("web")["body"] == 40_000
    status, headers, _ = proxy.request("GET", "/", {"Host": "booking.example.com", "X-Forwarded-Proto": "https"})
    assert status == 200 and headers["Server"] == "nginx", "server_tokens off: no version"
    seen = proxy.last_hit("web")["headers"]
    assert seen["Host"] == "booking.example.com" and seen["X-Forwarded-Proto"] == "https"
    assert seen["X-Forwarded-For"] == "127.0.0.1"

"""Start the three processes (Rasa server, action server, web app), wait until each is ready,
and stop them all together. Used by ``make run``, the end-to-end tests and the benchmark."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.errors import ConfigError
from bot.settings import Settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Proc:
    name: str
    argv: list[str]
    ready_url: str | None  # None: ready once it has stayed up for a second
    popen: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # on top of the stack's environment
    started: float = 0.0
    threads: list[threading.Thread] = field(default_factory=list)


def _endpoints_file(settings: Settings) -> Path:
    """endpoints.yml for this run: the repo's, with the action server's actual port."""
    path = settings.var_dir / "endpoints.yml"
    text = (ROOT / "endpoints.yml").read_text()
    text = text.replace("http://localhost:5055/webhook", f"http://127.0.0.1:{settings.action_port}/webhook")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _token_query(token: str) -> str:
    from urllib.parse import quote

    return f"?token={quote(token)}" if token else ""


def _pump(stream: IO[bytes], prefix: str, sink: IO[str]) -> None:
    for raw in iter(stream.readline, b""):
        sink.write(f"{prefix} {raw.decode(errors='replace').rstrip()}\n")
        sink.flush()


def rasa_cors_args(settings: Settings) -> list[str]:
    """``--cors`` for ``rasa run``: the origins allowed to embed the chat (WIDGET_ORIGINS)."""
    return ["--cors", *settings.widget_origins] if settings.widget_origins else []


class Stack:
    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        log_dir: Path | None = None,
        env: dict[str, str] | None = None,
    ):
        self.settings = settings
        self.model = model
        self.log_dir = log_dir
        self.env = {**os.environ, **(env or {}), "BOT_VAR_DIR": str(settings.var_dir)}
        s = settings
        py = sys.executable
        rasa = [
            py,
            "-m",
            "rasa",
            "run",
            "--enable-api",
            "-i",
            s.host,
            "-p",
            str(s.rasa_port),
            "--endpoints",
            str(_endpoints_file(s)),
            "--credentials",
            str(ROOT / "credentials.yml"),
        ]
        if model:
            rasa += ["--model", model]
        # Pages of these origins may call Rasa (socket.io polling, REST): sanic-cors answers them.
        rasa += rasa_cors_args(s)
        if s.rasa_token:
            rasa += ["--auth-token", s.rasa_token]
        elif s.host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(
                f"BOT_HOST={s.host} exposes Rasa's HTTP API beyond this machine: set RASA_TOKEN "
                "(its API then requires ?token=...), or keep BOT_HOST=127.0.0.1"
            )
        self.procs = [
            Proc(
                "actions",
                [py, "-m", "rasa_sdk", "--actions", "actions", "--port", str(s.action_port)],
                f"http://127.0.0.1:{s.action_port}/health",
            ),
            Proc("web", [py, "-m", "bot", "serve", "--port", str(s.web_port)], f"http://127.0.0.1:{s.web_port}/health"),
            Proc("rasa", rasa, f"http://127.0.0.1:{s.rasa_port}/status{_token_query(s.rasa_token)}"),
        ]
        self.env["SANIC_HOST"] = s.host  # the action server binds here, not 0.0.0.0
        # One list for every process: Rasa's socket.io channel checks the handshake's Origin
        # against it (bot/rasa_ext/channels.py), the web app's /chat relay answers CORS from it.
        self.env["WIDGET_ORIGINS"] = ",".join(s.widget_origins)
        self.env["RASA_URL"] = f"http://127.0.0.1:{s.rasa_port}"
        self.env["WEB_PORT"] = str(s.web_port)

    def _spawn(self, p: Proc) -> None:
        env = {**self.env, **p.env}
        p.started = time.monotonic()
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{p.name}.log", "ab")
            p.popen = subprocess.Popen(
                p.argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            out.close()
        else:
            p.popen = subprocess.Popen(
                p.argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
            )
            t = threading.Thread(target=_pump, args=(p.popen.stdout, f"[{p.name}]", sys.stdout), daemon=True)
            t.start()
            p.threads.append(t)

    def start(self, timeout: float = 240.0) -> None:
        for p in self.procs:
            self._spawn(p)
        self.wait_ready(timeout)

    def proc(self, name: str) -> Proc:
        return next(p for p in self.procs if p.name == name)

    def restart(self, name: str, env: dict[str, str] | None = None, timeout: float = 120.0) -> None:
        """Start one (dead or alive) process again, with ``env`` replacing its own overrides."""
        p = self.proc(name)
        if p.popen is not None and p.popen.poll() is None:
            os.killpg(p.popen.pid, signal.SIGTERM)
            p.popen.wait(10)
        if env is not None:
            p.env = env
        self._spawn(p)
        self.wait_ready(timeout, [p])

    @staticmethod
    def _ready(p: Proc) -> bool:
        if p.ready_url is None:
            return time.monotonic() - p.started > 1.0
        try:
            with urllib.request.urlopen(p.ready_url, timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float, procs: list[Proc] | None = None) -> None:
        deadline = time.monotonic() + timeout
        pending = list(procs or self.procs)
        while pending:
            for p in list(pending):
                assert p.popen is not None
                if p.popen.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{p.name} exited with code {p.popen.returncode} before it was ready")
                if self._ready(p):
                    pending.remove(p)
                    print(f"  ready: {p.name}", flush=True)
            if pending and time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"not ready after {timeout:.0f} s: {', '.join(p.name for p in pending)}")
            if pending:
                time.sleep(0.5)

    def alive(self) -> bool:
        return all(p.popen is not None and p.popen.poll() is None for p in self.procs)

    def stop(self, grace: float = 10.0) -> None:
        for p in self.procs:
            if p.popen is not None and p.popen.poll() is None:
                try:
                    os.killpg(p.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for p in self.procs:
            if p.popen is None:
                continue
            try:
                p.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.popen.wait()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


#: What a model is trained from. The custom NLU component's code is not among them: Rasa
#: imports it at run time, so a change to it needs no new model.
TRAINING_INPUTS = ("config.yml", "domain.yml", "domain", "data")


def data_fingerprint(root: Path = ROOT) -> str:
    """A hash of everything ``rasa train`` reads (config, domain, data) and Rasa's version."""
    from importlib.metadata import version

    h = hashlib.sha256(f"rasa=={version('rasa')}\n".encode())
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.exists() else []
        for f in files:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def _fingerprint_file(model: Path) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + ".fingerprint")


def train(quiet: bool = False, force: bool = False) -> None:
    """``rasa train`` unless the newest model was trained from exactly these files.

    Rasa itself retrains only the components whose inputs changed (its training cache), but
    even with every component restored it spends ~25 s building a new model file; a model
    whose recorded fingerprint matches the data is used as it is.
    """
    fp = data_fingerprint()
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not force and models and _fingerprint_file(models[-1]).exists():
        if _fingerprint_file(models[-1]).read_text().strip() == fp:
            print(f"The model is up to date ({models[-1].name}: same config, domain and data): not training.")
            return
    cmd = [sys.executable, "-m", "rasa", "train", "--num-threads", "2"]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL if quiet else None)
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if models:
        _fingerprint_file(models[-1]).write_text(fp + "\n")


def free_port() -> int:
    """A port nothing listens on right now (for tests and benchmarks on loopback)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def newest_model() -> str:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("no trained model in models/: run `make train`")
    return str(models[-1])

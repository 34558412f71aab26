"""Render the local variant of deploy/nginx.conf: same routes, local addresses and paths.

The deployed file is the template, so what the tests run is what docker compose mounts. Only
these lines change, and rendering fails if one of them is not where it is expected:

- main level: ``user`` / ``pid`` / ``error_log`` are replaced by a pid file and an error log in
  ``workdir`` (the file has no ``daemon`` directive: start it with ``-g 'daemon off;'``);
- ``access_log <path>`` -> ``workdir/access.log``; the temp paths of the ``http`` block go
  under ``workdir`` (a user without root can run it);
- ``listen 80`` -> ``listen 127.0.0.1:<listen_port>``;
- the ``server`` lines of ``upstream web`` and ``upstream rasa`` -> ``127.0.0.1:<port>`` each.

Usage from Python: ``render_local("deploy/nginx.conf", workdir, 8080, [8000], [5005, 5006])``,
then ``nginx -p <workdir> -c <returned path> -g 'daemon off;'``. From a shell:
``python deploy/render_nginx.py WORKDIR --listen 8080 --web 8000 --rasa 5005,5006``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

_MAIN_DROP = re.compile(r"^(user|pid|error_log|daemon)\s")
_ACCESS_LOG = re.compile(r"^(\s*)access_log\s+\S+(.*)$")
_LISTEN = re.compile(r"^(\s*)listen\s+80(\s[^;]*)?;\s*$")
_UPSTREAM = re.compile(r"^\s*upstream\s+(\S+)\s*\{\s*$")
_SERVER = re.compile(r"^(\s*)server\s+\S+(\s[^;]*)?;\s*(#.*)?$")
_HTTP = re.compile(r"^http\s*\{\s*$")


def _q(path: Path) -> str:
    """A path as an nginx string (quoted: the directory may contain spaces)."""
    text = str(path)
    if '"' in text or "\\" in text:
        raise ValueError(f"unsupported character in path {text!r}")
    return f'"{text}"'


def _ports(name: str, ports: Sequence[int]) -> list[int]:
    out = [int(p) for p in ports]
    if not out or any(not 0 < p < 65536 for p in out):
        raise ValueError(f"{name}: need at least one port in 1-65535, got {list(ports)!r}")
    return out


def render_local(
    template_path: str | Path,
    workdir: str | Path,
    listen_port: int,
    web_ports: Sequence[int],
    rasa_ports: Sequence[int],
) -> Path:
    """Write ``workdir/nginx.conf`` from ``template_path`` (normally deploy/nginx.conf); return its path."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    listen_port = _ports("listen_port", [listen_port])[0]
    upstreams = {"web": _ports("web_ports", web_ports), "rasa": _ports("rasa_ports", rasa_ports)}

    out: list[str] = [
        f"# Rendered by deploy/render_nginx.py from {Path(template_path).resolve()}; do not edit.",
        f"pid {_q(workdir / 'nginx.pid')};",
        f"error_log {_q(workdir / 'error.log')} info;",
    ]
    depth = 0
    upstream: str | None = None
    seen_upstreams: set[str] = set()
    listens = http_blocks = access_logs = 0
    for raw in Path(template_path).read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        code = line.split("#", 1)[0].strip()
        if depth == 0 and _MAIN_DROP.match(code):
            continue
        if depth == 0 and _HTTP.match(code):
            http_blocks += 1
            out.append(line)
            out.extend(f"    {name}_temp_path {_q(workdir / (name + '_temp'))};" for name in TEMP_PATHS)
        elif upstream is not None and (m := _SERVER.match(line)):
            if upstream not in seen_upstreams:  # the first server line: all the local ones
                params = m.group(2) or ""
                out.extend(f"{m.group(1)}server 127.0.0.1:{port}{params};" for port in upstreams[upstream])
                seen_upstreams.add(upstream)
        elif m := _LISTEN.match(line):
            listens += 1
            out.append(f"{m.group(1)}listen 127.0.0.1:{listen_port}{m.group(2) or ''};")
        elif m := _ACCESS_LOG.match(line):
            access_logs += 1
            out.append(f"{m.group(1)}access_log {_q(workdir / 'access.log')}{m.group(2)}")
        else:
            if m := _UPSTREAM.match(code):
                if m.group(1) not in upstreams:
                    raise ValueError(f"unknown upstream {m.group(1)!r} in {template_path}")
                upstream = m.group(1)
            out.append(line)
        depth += code.count("{") - code.count("}")
        if upstream is not None and depth == 1:
            upstream = None
    missing = set(upstreams) - seen_upstreams
    if missing or listens != 1 or http_blocks != 1 or access_logs != 1 or depth != 0:
        raise ValueError(
            f"{template_path} no longer has the expected shape: upstreams without servers {sorted(missing)}, "
            f"{listens} 'listen 80', {http_blocks} http blocks, {access_logs} access_log, brace depth {depth}"
        )
    path = workdir / "nginx.conf"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render deploy/nginx.conf for a local, non-root nginx.")
    parser.add_argument("workdir")
    parser.add_argument("--template", default=str(DEFAULT_TEMPLATE))
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--web", required=True, help="comma-separated ports of the web processes")
    parser.add_argument("--rasa", required=True, help="comma-separated ports of the Rasa servers")
    args = parser.parse_args(argv)
    path = render_local(
        args.template,
        args.workdir,
        args.listen,
        [int(p) for p in args.web.split(",")],
        [int(p) for p in args.rasa.split(",")],
    )
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

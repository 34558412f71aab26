"""``rasa`` with ``--cors`` from WIDGET_ORIGINS: ``python -m bot.rasa_ext.launch run ARGS...``.

The docker image starts its Rasa servers this way (deploy/docker-compose.yml): a compose command
in exec form cannot turn one variable holding a list into several arguments, and Rasa reads its
CORS origins from the command line only. This checks WIDGET_ORIGINS (bot/settings.py: a bad entry
stops the container with the reason), appends ``--cors`` with the normalised origins, and
replaces itself with ``python -m rasa`` (the same process id, so signals reach Rasa). ``make run``
and ``make scale-up`` pass ``--cors`` themselves (bot/ops/supervisor.py, bot/ops/scale.py).
"""

from __future__ import annotations

import os
import sys

from bot.errors import ConfigError
from bot.settings import load_settings


def rasa_argv(args: list[str], origins: tuple[str, ...]) -> list[str]:
    """``python -m rasa`` + ``args`` + ``--cors ORIGIN...`` (last: it takes every value after it)."""
    if not args or args[0] != "run":
        raise ConfigError("usage: python -m bot.rasa_ext.launch run [rasa run options]")
    if any(a == "--cors" or a.startswith("--cors=") for a in args):
        raise ConfigError("--cors comes from WIDGET_ORIGINS here: leave it out of the command")
    return [sys.executable, "-m", "rasa", *args, "--cors", *origins]


def main(args: list[str] | None = None) -> None:
    try:
        argv = rasa_argv(sys.argv[1:] if args is None else args, load_settings().widget_origins)
    except ConfigError as exc:
        print(f"refusing to start Rasa: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"Rasa: pages of {', '.join(argv[argv.index('--cors') + 1 :])} may embed the chat (WIDGET_ORIGINS)")
    sys.stdout.flush()
    os.execv(sys.executable, argv)


if __name__ == "__main__":
    main()

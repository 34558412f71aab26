"""Blocking calls (SQLAlchemy sessions, provider clients, Argon2) off the event loop."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Callable


async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in the loop's default thread pool."""
    return await asyncio.get_running_loop().run_in_executor(None, partial(fn, *args, **kwargs))

"""The agent's own logger: stderr only, never stdout, one line per problem."""

from __future__ import annotations

import logging
import os
import sys
import threading

logger = logging.getLogger("honeyhive_agent")

_configured = False
_once_lock = threading.Lock()
_once_keys: set[str] = set()


def configure(level: str | None = None) -> None:
    """Give the agent's logger its own stderr handler (idempotent).

    The app's logging setup is left alone: the agent's records do not
    propagate to the root logger, so they neither vanish nor print twice.
    """
    global _configured
    name = (level or os.environ.get("HH_LOG_LEVEL") or "WARNING").upper()
    logger.setLevel(getattr(logging, name, logging.WARNING))
    if _configured:
        return
    _configured = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("honeyhive-agent: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False


def warn_once(key: str, message: str, *args: object, level: int = logging.WARNING) -> None:
    """Log ``message`` the first time ``key`` is seen in this process."""
    with _once_lock:
        if key in _once_keys:
            return
        _once_keys.add(key)
    configure()
    logger.log(level, message, *args)

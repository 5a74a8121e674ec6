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


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time.

    Apps (and test runners) replace ``sys.stderr``; a handler bound to the
    object seen at start-up would write into a stale or closed stream.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure(level: str | None = None) -> None:
    """Give the agent's logger its own stderr handler (idempotent).

    The app's logging setup is left alone: the agent's records do not
    propagate to the root logger, so they neither vanish nor print twice.
    """
    global _configured
    if level is not None or not _configured:
        # A later configure() without a level (warn_once) keeps the level
        # chosen by config (log_level) instead of resetting it.
        name = (level or os.environ.get("HH_LOG_LEVEL") or "WARNING").upper()
        logger.setLevel(getattr(logging, name, logging.WARNING))
    if _configured:
        return
    _configured = True
    handler = _StderrHandler()
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

"""The ``local`` exporter: spans into the embedded SQLite store."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from honeyhive_agent._log import logger
from honeyhive_agent.config.model import DEFAULT_LOCAL_PATH

if TYPE_CHECKING:
    from honeyhive_agent.store.db import LocalStore

__all__ = ["LocalSpanExporter"]


class LocalSpanExporter(SpanExporter):
    """Write spans to a :class:`~honeyhive_agent.store.LocalStore` at ``path``.

    The database (and its directory) is created at the first export, so
    configuring the exporter touches no file. Never raises.
    """

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_LOCAL_PATH) -> None:
        # Resolve now: the app may chdir later, the store stays where it was
        # configured. A process of a zero-code run that works in another
        # directory (a child with cwd=...) still writes to the run's store.
        self.path = os.path.abspath(
            os.path.join(os.environ.get("HH_RUN_DIR") or os.curdir, os.fspath(path))
        )
        self.destination = self.path
        self._store: LocalStore | None = None
        self.failed_spans = 0
        self.last_error: str | None = None

    def __repr__(self) -> str:
        return f"LocalSpanExporter({self.path!r})"

    @property
    def store(self) -> LocalStore:
        if self._store is None:
            from honeyhive_agent.store.db import LocalStore

            self._store = LocalStore(self.path)
        return self._store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            self.store.write_spans(spans)
            return SpanExportResult.SUCCESS
        except Exception as exc:  # noqa: BLE001 - a full disk must not reach the app
            self.failed_spans += len(spans)
            self.last_error = f"{type(exc).__name__}: {exc}"
            logger.debug("local store write to %s failed", self.path, exc_info=True)
            return SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:  # noqa: BLE001
                logger.debug("closing the local store failed", exc_info=True)

    def reset_after_fork(self) -> None:
        if self._store is not None:
            self._store.reset_after_fork()
        self.failed_spans = 0
        self.last_error = None

"""A bounded, fork-safe batch span processor.

The app thread only ever appends a finished span to a bounded queue; a
daemon worker, started at the first span, exports batches. A slow or dead
backend therefore costs the app nothing but the spans that do not fit: those
are counted, and reported in one line at shutdown.
"""

from __future__ import annotations

import collections
import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from honeyhive_agent._log import logger, warn_once
from honeyhive_agent.config.model import BatchConfig

__all__ = ["BoundedBatchSpanProcessor", "set_export_on_local_root_end"]

_ids = itertools.count(1)
_live: weakref.WeakSet[BoundedBatchSpanProcessor] = weakref.WeakSet()
_eager_default = False


def set_export_on_local_root_end(enabled: bool = True) -> None:
    """Turn eager export on or off for every processor of this process, now and later.

    The launcher calls this in child processes that may end through
    ``os._exit`` or a signal (multiprocessing workers), where no exit flush
    runs.
    """
    global _eager_default
    _eager_default = enabled
    for processor in list(_live):
        processor.export_on_local_root_end = enabled


def _after_fork_in_child() -> None:
    for processor in list(_live):
        try:
            processor._reinit_after_fork()
        except Exception:  # noqa: BLE001 - a fork hook must never break the child
            logger.debug("fork reset of %r failed", processor, exc_info=True)


if hasattr(os, "register_at_fork"):
    # One hook for all processors (a hook per processor would keep each alive forever).
    os.register_at_fork(after_in_child=_after_fork_in_child)


class BoundedBatchSpanProcessor(SpanProcessor):
    """Queue finished spans and export them in batches from a worker thread.

    Usage::

        processor = BoundedBatchSpanProcessor(exporter, BatchConfig(max_queue_size=2048))
        provider.add_span_processor(processor)

    ``batch`` bounds the queue (``max_queue_size``), the wait before a
    partial batch is sent (``schedule_delay_ms``), the batch size
    (``max_export_batch_size``) and one export (``export_timeout_ms``).

    :meth:`on_end` never blocks and never does I/O, unless
    :attr:`export_on_local_root_end` is set: then the end of a local root
    span (no parent, or a remote one) waits (up to ``export_timeout_ms``)
    until the worker has exported everything queued, so the spans are sent
    before the process can be killed. While the destination is failing,
    eager mode does not wait (a dead backend must not slow the app).

    ``on_first_export`` is called once, before the first export, in the
    exporting thread; its exceptions are swallowed.

    After :func:`os.fork` the child starts with an empty queue (the parent
    exports its own spans), fresh locks, zero counters and a worker started
    at its first span; the exporter's ``reset_after_fork()`` is called if it
    has one.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        batch: BatchConfig | None = None,
        *,
        on_first_export: Callable[[], None] | None = None,
    ) -> None:
        batch = batch or BatchConfig()
        self.exporter = exporter
        self.max_queue_size = max(1, batch.max_queue_size)
        self.schedule_delay_s = max(0.0, batch.schedule_delay_ms / 1000)
        self.max_export_batch_size = max(1, min(batch.max_export_batch_size, self.max_queue_size))
        self.export_timeout_s = max(0.001, batch.export_timeout_ms / 1000)
        self.export_on_local_root_end = _eager_default
        self._on_first_export = on_first_export
        self._uid = next(_ids)
        self._is_shutdown = False
        self._init_state()
        _live.add(self)

    def _init_state(self) -> None:
        self._queue: collections.deque[ReadableSpan] = collections.deque()
        self._lock = threading.Lock()
        # Flushes hand the work to the worker and wait on this condition, so
        # every export (and on_first_export) runs in the worker thread.
        self._flushed = threading.Condition(self._lock)
        self._flush_requested = 0
        self._flush_done = 0
        self._flush_ok = True
        # Serialises exports: the fallback path (no worker thread possible)
        # must not race the worker, and exporters need not be thread-safe.
        self._export_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._worker: threading.Thread | None = None
        self._dropped = 0
        self._failed = 0
        self._exported = 0
        self._in_flight = 0
        self._last_export_ok = True

    def _reinit_after_fork(self) -> None:
        self._init_state()
        reset = getattr(self.exporter, "reset_after_fork", None)
        if callable(reset):
            reset()

    # -- counters

    @property
    def dropped_spans(self) -> int:
        """Spans refused because the queue was full."""
        return self._dropped

    @property
    def failed_spans(self) -> int:
        """Spans whose export failed for good."""
        return self._failed

    @property
    def exported_spans(self) -> int:
        return self._exported

    @property
    def queued_spans(self) -> int:
        return len(self._queue)

    @property
    def destination(self) -> str:
        return str(getattr(self.exporter, "destination", type(self.exporter).__name__))

    # -- SpanProcessor

    def on_end(self, span: ReadableSpan) -> None:
        try:
            self._enqueue(span)
        except Exception:  # noqa: BLE001 - the app thread must never see our failures
            logger.debug("on_end failed", exc_info=True)

    def _enqueue(self, span: ReadableSpan) -> None:
        if self._is_shutdown or not span.context.trace_flags.sampled:
            return
        with self._lock:
            if len(self._queue) >= self.max_queue_size:
                self._dropped += 1
                return
            self._queue.append(span)
            size = len(self._queue)
            if self._worker is None:
                self._start_worker()
        if size >= self.max_export_batch_size:
            self._wake.set()
        if self.export_on_local_root_end and (span.parent is None or span.parent.is_remote):
            if self._last_export_ok:
                self._flush(time.monotonic() + self.export_timeout_s)
            else:
                # The destination is failing: waiting for it at every root
                # span would let a dead backend slow the app down. Until an
                # export succeeds again, eager mode only wakes the worker.
                self._wake.set()

    def _start_worker(self) -> bool:
        """Start the worker (call with ``_lock`` held); ``False`` if threads are unavailable."""
        worker = threading.Thread(
            target=self._run, name=f"honeyhive-agent-export-{self._uid}", daemon=True
        )
        try:
            worker.start()
        except RuntimeError:
            # Interpreter shutdown forbids new threads: flushes export in the caller.
            return False
        self._worker = worker
        return True

    def force_flush(self, timeout_millis: int | None = 30_000) -> bool:
        """Export everything queued now; ``True`` if all of it went out in time."""
        timeout_s = self.export_timeout_s if timeout_millis is None else timeout_millis / 1000
        try:
            return self._flush(time.monotonic() + max(0.0, timeout_s))
        except Exception:  # noqa: BLE001
            logger.debug("force_flush failed", exc_info=True)
            return False

    def shutdown(self, timeout_millis: int | None = None) -> None:
        """Flush within ``timeout_millis`` (default: the export timeout), then stop.

        Idempotent. Reports undelivered spans, if any, in one warning line.
        """
        if self._is_shutdown:
            return
        self._is_shutdown = True
        timeout_s = self.export_timeout_s if timeout_millis is None else timeout_millis / 1000
        deadline = time.monotonic() + max(0.0, timeout_s)
        try:
            self._flush(deadline)
        except Exception:  # noqa: BLE001
            logger.debug("final flush failed", exc_info=True)
        self._stop = True
        self._wake.set()
        try:
            # Also aborts a retry sleep in a worker still busy with a batch.
            self.exporter.shutdown()
        except Exception:  # noqa: BLE001
            logger.debug("exporter shutdown failed", exc_info=True)
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(max(0.0, min(0.5, deadline - time.monotonic())))
        self._report()
        _live.discard(self)

    # -- exporting

    def _flush(self, deadline: float) -> bool:
        """Have the worker export everything queued so far; wait until ``deadline``."""
        with self._lock:
            worker = self._worker
            if worker is None or not worker.is_alive():
                if not self._queue:
                    return True
                worker = self._worker if self._start_worker() else None
            if worker is not None:
                self._flush_requested += 1
                token = self._flush_requested
        if worker is None:
            return self._export_queued(deadline)
        if worker is threading.current_thread():
            # A span ended inside an export (a hook, an exporter): the worker
            # exports it next round; exporting here would re-enter the export.
            return False
        self._wake.set()
        with self._flushed:
            while self._flush_done < token:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._flushed.wait(left)
            return self._flush_ok

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.schedule_delay_s)
            self._wake.clear()
            with self._lock:
                target = self._flush_requested
            ok = False
            try:
                ok = self._export_queued(time.monotonic() + self.export_timeout_s)
            except Exception:  # noqa: BLE001 - the worker must survive anything
                logger.debug("export worker iteration failed", exc_info=True)
            with self._flushed:
                if target > self._flush_done:
                    self._flush_done = target
                    self._flush_ok = ok
                self._flushed.notify_all()

    def _export_queued(self, deadline: float) -> bool:
        """Export the queue, batch by batch, until it is empty or ``deadline`` passes."""
        if not self._export_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        return True
                    if self._stop or time.monotonic() >= deadline:
                        # Out of time, or shut down: what is left is reported as unsent.
                        return False
                    count = min(self.max_export_batch_size, len(self._queue))
                    batch = [self._queue.popleft() for _ in range(count)]
                    # Counted as in flight from the moment it leaves the queue,
                    # so a concurrent report never misses it.
                    self._in_flight = count
                self._export_batch(batch, deadline)
        finally:
            self._export_lock.release()

    def _export_batch(self, batch: Sequence[ReadableSpan], deadline: float) -> None:
        if self._on_first_export is not None:
            hook, self._on_first_export = self._on_first_export, None
            try:
                hook()
            except Exception:  # noqa: BLE001 - documented: the hook's errors are swallowed
                logger.debug("on_first_export hook failed", exc_info=True)
        deadline = min(deadline, time.monotonic() + self.export_timeout_s)
        export_until: Any = getattr(self.exporter, "export_until", None)
        try:
            if callable(export_until):
                result = export_until(batch, deadline)
            else:
                result = self.exporter.export(batch)
        except Exception:  # noqa: BLE001 - third-party exporters may raise
            logger.debug("export to %s raised", self.destination, exc_info=True)
            result = SpanExportResult.FAILURE
        ok = result is SpanExportResult.SUCCESS
        with self._lock:
            self._in_flight = 0
            self._last_export_ok = ok
            if ok:
                self._exported += len(batch)
            else:
                self._failed += len(batch)

    # -- reporting

    def _report(self) -> None:
        with self._lock:
            # A batch still in flight (a slow backend outlived the bound) counts as unsent.
            unsent = len(self._queue) + self._in_flight
            dropped, failed = self._dropped, self._failed
        total = dropped + failed + unsent
        if not total:
            return
        parts = []
        if dropped:
            parts.append(f"{dropped} dropped (queue full)")
        if failed:
            reason = getattr(self.exporter, "last_error", None)
            parts.append(f"{failed} failed export" + (f" ({reason})" if reason else ""))
        if unsent:
            parts.append(f"{unsent} still queued at shutdown (timeout)")
        warn_once(
            f"undelivered:{os.getpid()}:{self._uid}",
            "%d spans were not delivered to %s: %s",
            total,
            self.destination,
            ", ".join(parts),
        )

"""After a real os.fork the child neither re-exports nor reuses the parent's state."""

from __future__ import annotations

import os
import time

import pytest

from honeyhive_agent.config.model import BatchConfig
from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
from honeyhive_agent.exporters.local import LocalSpanExporter
from honeyhive_agent.exporters.otlp_http import OtlpHttpSpanExporter
from honeyhive_agent.store.db import LocalStore
from tests.exporters._helpers import provider_with

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _fork(child: object) -> int:
    """Run ``child()`` in a forked process; its return value (bool) is the exit status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            code = 0 if child() else 3  # type: ignore[operator]
        except BaseException:  # noqa: BLE001 - anything in the child is a failure
            code = 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_child_starts_empty_and_parent_spans_are_exported_once() -> None:
    from tests.support.otlp_receiver import OtlpReceiver

    with OtlpReceiver() as rx:
        exporter = OtlpHttpSpanExporter(rx.traces_url)
        proc = BoundedBatchSpanProcessor(exporter, BatchConfig(schedule_delay_ms=60_000))
        provider = provider_with(proc)
        tracer = provider.get_tracer("t")
        with tracer.start_as_current_span("parent-early"):
            pass
        assert proc.force_flush(5000)  # the parent now holds a pooled connection
        assert exporter._client is not None
        with tracer.start_as_current_span("parent-queued"):
            pass
        assert proc.queued_spans == 1

        def child() -> bool:
            fresh = proc.queued_spans == 0 and proc._worker is None and exporter._client is None
            with tracer.start_as_current_span("child"):
                pass
            return fresh and proc.force_flush(5000) and proc.exported_spans == 1

        assert _fork(child) == 0
        assert proc.force_flush(5000)
        spans = rx.wait_for_spans(3)
        time.sleep(0.2)  # a duplicate export from the child would land by now
        names = sorted(s["name"] for s in rx.spans)
        provider.shutdown()
    assert len(spans) == 3
    assert names == ["child", "parent-early", "parent-queued"]


def test_forked_writers_share_the_local_store(tmp_path: os.PathLike[str]) -> None:
    db = os.path.join(tmp_path, "fork.db")
    proc = BoundedBatchSpanProcessor(LocalSpanExporter(db), BatchConfig(schedule_delay_ms=60_000))
    provider = provider_with(proc)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("parent") as span:
        span.set_attribute("honeyhive.session_id", "sess-fork")
    assert proc.force_flush(5000)  # the parent's SQLite connection is open

    def child() -> bool:
        with tracer.start_as_current_span("child") as span:
            span.set_attribute("honeyhive.session_id", "sess-fork")
        return proc.force_flush(5000) and proc.failed_spans == 0

    assert _fork(child) == 0
    provider.shutdown()
    names = sorted(s.name for s in LocalStore(db).spans("sess-fork"))
    assert names == ["child", "parent"]

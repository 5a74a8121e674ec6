"""BoundedBatchSpanProcessor: bounded, never blocking, counted, eager on demand."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from honeyhive_agent.config.model import BatchConfig
from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
from honeyhive_agent.exporters.otlp_http import OtlpHttpSpanExporter
from tests.exporters._helpers import make_spans, provider_with
from tests.support.otlp_receiver import OtlpReceiver, closed_url

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


class Recorder(SpanExporter):
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()
        self.fail = fail
        self.shut = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.batches.append([s.name for s in spans])
        self.threads.add(threading.current_thread().name)
        return SpanExportResult.FAILURE if self.fail else SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.shut = True


def test_batches_by_size_and_by_delay() -> None:
    rec = Recorder()
    proc = BoundedBatchSpanProcessor(
        rec, BatchConfig(max_export_batch_size=3, schedule_delay_ms=100)
    )
    for span in make_spans(7):
        proc.on_end(span)
    deadline = time.monotonic() + 5
    while sum(map(len, rec.batches)) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sum(map(len, rec.batches)) == 7
    assert max(map(len, rec.batches)) == 3
    assert all(t.startswith("honeyhive-agent-export") for t in rec.threads)
    proc.shutdown()
    assert rec.shut and proc.exported_spans == 7


def test_no_worker_until_first_span_and_force_flush() -> None:
    rec = Recorder()
    proc = BoundedBatchSpanProcessor(rec, BatchConfig(schedule_delay_ms=60_000))
    assert proc._worker is None
    for span in make_spans(2):
        proc.on_end(span)
    assert proc._worker is not None
    assert proc.force_flush(2000) is True
    assert rec.batches == [["span-0", "span-1"]]
    proc.shutdown()
    proc.shutdown()  # idempotent
    proc.on_end(make_spans()[0])  # after shutdown: ignored, no error
    assert proc.queued_spans == 0


def test_queue_full_drops_are_counted() -> None:
    rec = Recorder()
    proc = BoundedBatchSpanProcessor(
        rec, BatchConfig(max_queue_size=5, schedule_delay_ms=60_000, max_export_batch_size=100)
    )
    for span in make_spans(12):
        proc.on_end(span)
    assert proc.dropped_spans == 7 and proc.queued_spans == 5
    proc.shutdown()
    assert proc.exported_spans == 5


def test_failed_exports_are_counted() -> None:
    proc = BoundedBatchSpanProcessor(Recorder(fail=True), BatchConfig(schedule_delay_ms=60_000))
    for span in make_spans(4):
        proc.on_end(span)
    assert proc.force_flush(1000) is True
    assert proc.failed_spans == 4


def test_raising_exporter_never_reaches_the_app() -> None:
    class Raising(Recorder):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            raise RuntimeError("exporter bug")

    proc = BoundedBatchSpanProcessor(Raising(), BatchConfig(schedule_delay_ms=60_000))
    provider = provider_with(proc)
    with provider.get_tracer("t").start_as_current_span("x"):
        pass
    assert proc.force_flush(1000) is True
    assert proc.failed_spans == 1
    provider.shutdown()


def test_slow_backend_never_blocks_the_app_and_shutdown_is_bounded() -> None:
    with OtlpReceiver() as rx:
        rx.delay_s = 5
        exporter = OtlpHttpSpanExporter(rx.traces_url, timeout_s=10)
        proc = BoundedBatchSpanProcessor(
            exporter, BatchConfig(schedule_delay_ms=10, max_export_batch_size=2)
        )
        spans = make_spans(50)
        started = time.monotonic()
        for span in spans:
            proc.on_end(span)
        # 50 on_end calls against a backend that takes 5 s per request.
        assert time.monotonic() - started < 1.0
        started = time.monotonic()
        proc.shutdown(timeout_millis=500)
        assert time.monotonic() - started < 2.0
    assert proc.exported_spans < 50


def test_backend_down_counts_failures() -> None:
    exporter = OtlpHttpSpanExporter(closed_url(), timeout_s=0.5, max_retry_s=0.3)
    proc = BoundedBatchSpanProcessor(exporter, BatchConfig(schedule_delay_ms=60_000))
    for span in make_spans(3):
        proc.on_end(span)
    proc.force_flush(2000)
    assert proc.failed_spans == 3
    proc.shutdown(1000)


def test_one_warning_line_at_shutdown_on_stderr() -> None:
    result = run_python(
        f"""
        from honeyhive_agent.config.model import BatchConfig
        from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
        from honeyhive_agent.exporters.otlp_http import OtlpHttpSpanExporter
        from tests.exporters._helpers import make_spans
        exp = OtlpHttpSpanExporter({closed_url()!r}, timeout_s=0.5, max_retry_s=0.2)
        proc = BoundedBatchSpanProcessor(exp, BatchConfig(
            max_queue_size=4, schedule_delay_ms=60000, max_export_batch_size=2))
        for s in make_spans(10):
            proc.on_end(s)
        proc.shutdown(3000)
        proc.shutdown(3000)
        print("app output")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "app output\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("honeyhive-agent: WARNING: 10 spans were not delivered to http://127.0.0.1:")
    assert "6 dropped (queue full)" in line and "4 failed export" in line


def test_no_warning_when_everything_was_delivered() -> None:
    with OtlpReceiver() as rx:
        result = run_python(
            f"""
            from honeyhive_agent.config.model import BatchConfig
            from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
            from honeyhive_agent.exporters.otlp_http import OtlpHttpSpanExporter
            from tests.exporters._helpers import make_spans
            proc = BoundedBatchSpanProcessor(OtlpHttpSpanExporter({rx.traces_url!r}), BatchConfig())
            for s in make_spans(3):
                proc.on_end(s)
            proc.shutdown(3000)
            """
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert len(rx.wait_for_spans(3)) == 3


def test_eager_mode_exports_on_local_root_end() -> None:
    rec = Recorder()
    proc = BoundedBatchSpanProcessor(rec, BatchConfig(schedule_delay_ms=60_000))
    proc.export_on_local_root_end = True
    provider = provider_with(proc)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span("child"):
            pass
        assert rec.batches == []  # a child's end is not a trigger
    # The root's on_end returned only after everything was exported (by the worker).
    assert rec.batches == [["child", "root"]]
    assert all(t.startswith("honeyhive-agent-export") for t in rec.threads)
    provider.shutdown()


def test_set_export_on_local_root_end_applies_to_all_processors() -> None:
    from honeyhive_agent.exporters import batch

    existing = BoundedBatchSpanProcessor(Recorder())
    try:
        batch.set_export_on_local_root_end(True)
        assert existing.export_on_local_root_end
        assert BoundedBatchSpanProcessor(Recorder()).export_on_local_root_end
    finally:
        batch.set_export_on_local_root_end(False)
    assert not existing.export_on_local_root_end


def test_eager_child_exits_with_os_exit_and_delivers() -> None:
    with OtlpReceiver() as rx:
        result = run_python(
            f"""
            import os
            from honeyhive_agent.config.model import BatchConfig
            from honeyhive_agent.exporters.batch import (
                BoundedBatchSpanProcessor, set_export_on_local_root_end)
            from honeyhive_agent.exporters.otlp_http import OtlpHttpSpanExporter
            from tests.exporters._helpers import provider_with
            set_export_on_local_root_end(True)
            proc = BoundedBatchSpanProcessor(OtlpHttpSpanExporter({rx.traces_url!r}),
                                             BatchConfig(schedule_delay_ms=60000))
            tracer = provider_with(proc).get_tracer("t")
            with tracer.start_as_current_span("work"):
                pass
            os._exit(0)
            """
        )
        assert result.returncode == 0, result.stderr
        (span,) = rx.wait_for_spans(1)
    assert span["name"] == "work"


def test_eager_mode_stops_waiting_while_the_backend_is_down() -> None:
    exporter = OtlpHttpSpanExporter(closed_url(), timeout_s=0.3, max_retry_s=0.3)
    proc = BoundedBatchSpanProcessor(
        exporter, BatchConfig(schedule_delay_ms=60_000, export_timeout_ms=300)
    )
    proc.export_on_local_root_end = True
    tracer = provider_with(proc).get_tracer("t")
    with tracer.start_as_current_span("first"):
        pass  # waits for the failing export (bounded by export_timeout_ms)
    assert proc.failed_spans == 1
    started = time.monotonic()
    for _ in range(20):
        with tracer.start_as_current_span("later"):
            pass
    # 20 root spans, none of them waiting 0.3 s for the dead backend.
    assert time.monotonic() - started < 1.0
    proc.shutdown(500)


def test_slow_backend_at_exit_is_reported_as_unsent() -> None:
    with OtlpReceiver() as rx:
        rx.delay_s = 10
        result = run_python(
            f"""
            import time
            from honeyhive_agent.config.model import BatchConfig
            from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
            from honeyhive_agent.exporters.otlp_http import OtlpHttpSpanExporter
            from tests.exporters._helpers import make_spans
            proc = BoundedBatchSpanProcessor(OtlpHttpSpanExporter({rx.traces_url!r}),
                                             BatchConfig(max_export_batch_size=4))
            for s in make_spans(10):
                proc.on_end(s)
            started = time.monotonic()
            proc.shutdown(400)
            assert time.monotonic() - started < 1.5
            """
        )
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert "10 spans were not delivered" in line and "still queued at shutdown" in line


def test_without_threads_flush_exports_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.12 refuses new threads in atexit hooks: the exit flush still exports."""
    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    spans = make_spans(3)
    monkeypatch.setattr(threading.Thread, "start", refuse)
    rec = Recorder()
    proc = BoundedBatchSpanProcessor(rec, BatchConfig(schedule_delay_ms=60_000))
    for span in spans:
        proc.on_end(span)
    assert proc._worker is None and proc.queued_spans == 3
    proc.shutdown(1000)
    assert rec.batches == [["span-0", "span-1", "span-2"]]
    assert rec.threads == {threading.current_thread().name}

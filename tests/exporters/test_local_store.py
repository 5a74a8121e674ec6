"""The local SQLite store: contents, queries, several writer processes at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import Status, StatusCode

from honeyhive_agent.config.model import BatchConfig
from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
from honeyhive_agent.exporters.local import LocalSpanExporter
from honeyhive_agent.store.db import AmbiguousSessionError, LocalStore
from tests.exporters._helpers import make_spans, provider_with

REPO = Path(__file__).resolve().parents[2]


def write_session(db: str | None, session_id: str, *, name: str = "app.py") -> None:
    """A small agent run: chain -> (model call, failing tool)."""
    exporter = LocalSpanExporter(db) if db else LocalSpanExporter()
    proc = BoundedBatchSpanProcessor(exporter, BatchConfig(schedule_delay_ms=60_000))
    provider = provider_with(proc)
    tracer = provider.get_tracer("t")
    stamp = {
        "honeyhive.session_id": session_id,
        "honeyhive.session_name": name,
        "honeyhive.project": "proj",
        "honeyhive.source": "test",
    }
    with tracer.start_as_current_span("agent", attributes=stamp) as root:
        root.set_attribute("honeyhive_event_type", "chain")
        with tracer.start_as_current_span("openai.chat", attributes=stamp) as llm:
            llm.set_attribute("honeyhive_event_type", "model")
            llm.set_attribute("gen_ai.request.model", "gpt-4o")
            llm.set_attribute("gen_ai.response.model", "gpt-4o-2024-08-06")
            llm.set_attribute("gen_ai.usage.input_tokens", 12)
            llm.set_attribute("gen_ai.usage.output_tokens", 30)
        with tracer.start_as_current_span("lookup", attributes=stamp) as tool:
            tool.set_attribute("honeyhive_event_type", "tool")
            tool.set_status(Status(StatusCode.ERROR, "KeyError: 'x'"))
    provider.shutdown()


def test_default_path_is_created_under_cwd(tmp_path: Path) -> None:
    write_session(None, "s-default")
    db = tmp_path / ".honeyhive" / "traces.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sessions_and_spans_are_queryable(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    write_session(db, "aaaa-1111", name="first.py")
    time.sleep(0.01)
    write_session(db, "bbbb-2222", name="second.py")
    store = LocalStore(db)
    sessions = store.list_sessions()
    assert [s.session_id for s in sessions] == ["bbbb-2222", "aaaa-1111"]
    top = sessions[0]
    assert (top.name, top.project, top.source) == ("second.py", "proj", "test")
    assert (top.span_count, top.input_tokens, top.output_tokens) == (3, 12, 30)
    assert top.total_tokens == 42 and top.error_count == 1
    assert top.end_ns >= top.start_ns > 0
    assert len(store.list_sessions(limit=1)) == 1

    assert store.resolve(None) == "bbbb-2222"
    assert store.resolve("aaaa") == "aaaa-1111"
    assert store.resolve("aaaa-1111") == "aaaa-1111"
    assert store.resolve("zzz") is None
    write_session(db, "aaaa-3333")
    with pytest.raises(AmbiguousSessionError):
        store.resolve("aaaa")

    spans = {s.name: s for s in store.spans("aaaa-1111")}
    assert set(spans) == {"agent", "openai.chat", "lookup"}
    llm = spans["openai.chat"]
    assert llm.parent_span_id == spans["agent"].span_id
    assert llm.trace_id == spans["agent"].trace_id
    assert (llm.event_type, llm.model) == ("model", "gpt-4o-2024-08-06")
    assert (llm.input_tokens, llm.output_tokens) == (12, 30)
    assert llm.kind == "INTERNAL" and llm.status == "UNSET"
    assert llm.attributes["gen_ai.request.model"] == "gpt-4o"
    assert llm.resource["service.name"] == "svc"
    assert spans["lookup"].status == "ERROR" and spans["lookup"].error == "KeyError: 'x'"
    assert spans["agent"].parent_span_id is None and spans["agent"].duration_ms >= 0


def test_spans_without_a_session_are_filed_by_trace(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    (span,) = make_spans(name="plain")
    LocalStore(db).write_spans([span])
    trace_id = format(span.context.trace_id, "032x")
    (summary,) = LocalStore(db).list_sessions()
    assert summary.session_id == trace_id and summary.name == "plain"


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "nope" / "t.db")
    assert store.list_sessions() == [] and store.resolve(None) is None
    assert not (tmp_path / "nope").exists()


def test_unwritable_store_fails_the_export_not_the_app(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    exporter = LocalSpanExporter(blocker / "t.db")
    assert exporter.export(make_spans(2)) is SpanExportResult.FAILURE
    assert exporter.failed_spans == 2 and exporter.last_error


WRITER = """
import sys, time, os
from honeyhive_agent.config.model import BatchConfig
from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
from honeyhive_agent.exporters.local import LocalSpanExporter
from tests.exporters._helpers import provider_with
db, index, go = sys.argv[1], sys.argv[2], sys.argv[3]
proc = BoundedBatchSpanProcessor(LocalSpanExporter(db), BatchConfig(
    schedule_delay_ms=60000, max_export_batch_size=5))
tracer = provider_with(proc).get_tracer("w")
open(go + "." + index, "w").close()  # ready
while not os.path.exists(go):
    time.sleep(0.005)
for i in range(200):
    with tracer.start_as_current_span(f"w{index}-{i}") as span:
        span.set_attribute("honeyhive.session_id", f"proc-{index}")
        span.set_attribute("gen_ai.usage.input_tokens", 1)
    if i % 2 == 1:
        proc.force_flush(20000)
proc.shutdown(20000)
assert proc.failed_spans == 0 and proc.exported_spans == 200, (proc.failed_spans,)
"""


def test_several_processes_write_at_once(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    go = str(tmp_path / "go")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), db, str(i), go],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(4)
    ]
    deadline = time.monotonic() + 30
    # Wait until all have imported, then release them at once.
    while not all(Path(f"{go}.{i}").exists() for i in range(4)):
        assert time.monotonic() < deadline, "writers did not start"
        time.sleep(0.01)
    Path(go).touch()
    for w in writers:
        _, err = w.communicate(timeout=60)
        assert w.returncode == 0, err
        assert err == ""
    store = LocalStore(db)
    sessions = {s.session_id: s for s in store.list_sessions(limit=None)}
    assert sorted(sessions) == [f"proc-{i}" for i in range(4)]
    for s in sessions.values():
        assert s.span_count == 200 and s.input_tokens == 200

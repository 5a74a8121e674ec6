"""Session start and enrich_session against a fake HoneyHive over real HTTP."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from honeyhive_agent import semconv
from honeyhive_agent.tracer import core
from tests.support.fake_honeyhive import FakeHoneyHive
from tests.support.otlp_receiver import Request, closed_url
from tests.tracer.conftest import AgentLog, MemoryTracer

KEY = "hh-test-key-0123456789"


@pytest.fixture
def hh() -> Iterator[FakeHoneyHive]:
    with FakeHoneyHive(api_key=KEY) as server:
        yield server


def _api_tracer(
    memory_tracer: Callable[..., MemoryTracer], url: str, **overrides: Any
) -> MemoryTracer:
    overrides.setdefault("exporters", ["honeyhive"])
    return memory_tracer(api_key=KEY, server_url=url, **overrides)


def test_enrich_session_starts_the_session_then_puts_the_event(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, _ = _api_tracer(memory_tracer, hh.url, project="proj", session_name="batch")
    tracer.enrich_session(metadata={"user": "u1"}, feedback={"rating": 5}, outputs="done")
    assert tracer.force_flush(5000)

    (started,) = hh.wait_for_sessions(1)
    assert started == {
        "session": {
            "session_name": "batch",
            "source": "dev",
            "project": "proj",
            "session_id": tracer.session_id,
        }
    }
    (event,) = hh.wait_for_events(1)
    assert event == {
        "event_id": tracer.session_id,
        "metadata": {"user": "u1"},
        "feedback": {"rating": 5},
        "outputs": "done",
    }
    for route in ("session", "events"):
        (request,) = hh.requests_for(route)
        assert request["headers"]["authorization"] == f"Bearer {KEY}"


def test_enrich_session_respects_capture_content_and_redaction(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, _ = _api_tracer(
        memory_tracer, hh.url, capture_content=False, redact=[r"sk-[a-z0-9]+"]
    )
    tracer.enrich_session(
        inputs={"q": "secret prompt"},
        outputs="secret answer",
        metrics={"score": 0.5},
        user_properties={"note": "key sk-abc123 leaked"},
        config={"model": "m"},
    )
    tracer.force_flush(5000)
    (event,) = hh.wait_for_events(1)
    assert event == {
        "event_id": tracer.session_id,
        "metrics": {"score": 0.5},
        "user_properties": {"note": "key [REDACTED] leaked"},
        "config": {"model": "m"},
    }


def test_explicit_session_id_is_the_event_id(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, _ = _api_tracer(memory_tracer, hh.url)
    tracer.enrich_session(session_id="other-session", metrics={"n": 1})
    tracer.force_flush(5000)
    assert hh.wait_for_events(1)[0] == {"event_id": "other-session", "metrics": {"n": 1}}


def test_enrich_session_snapshots_values_on_the_calling_thread(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, _ = _api_tracer(memory_tracer, hh.url)
    metadata = {"step": 1}
    tracer.enrich_session(metadata=metadata)
    metadata["step"] = 2
    tracer.force_flush(5000)
    assert hh.wait_for_events(1)[0]["metadata"] == {"step": 1}


def test_joined_session_is_not_started_again(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, _ = _api_tracer(memory_tracer, hh.url, session_id="from-parent")
    tracer.enrich_session(metadata={"child": True})
    tracer.force_flush(5000)
    assert hh.wait_for_events(1)[0]["event_id"] == "from-parent"
    assert hh.sessions == []


def test_without_api_key_enrich_session_is_a_no_op(
    memory_tracer: Callable[..., MemoryTracer], agent_log: AgentLog
) -> None:
    tracer, _ = memory_tracer(exporters=["local"])
    tracer.enrich_session(metadata={"a": 1})
    tracer.enrich_session(metadata={"a": 2})
    assert tracer.force_flush(1000)
    assert agent_log.warnings() == []
    assert sum("enrich_session ignored" in r.getMessage() for r in agent_log.records) == 1


def test_backend_session_id_is_adopted_for_api_calls(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    class Renaming(FakeHoneyHive):
        def _handle(self, route: str, request: Request) -> tuple[int, dict[str, str], bytes]:
            status, headers, body = super()._handle(route, request)
            if route == "session":
                body = json.dumps({"session_id": "server-side-id"}).encode()
            return status, headers, body

    with Renaming(api_key=KEY) as hh:
        tracer, exporter = _api_tracer(memory_tracer, hh.url)
        with tracer.get_otel_tracer().start_as_current_span("s"):
            pass
        tracer.enrich_session(metrics={"m": 1})
        tracer.force_flush(5000)
        assert hh.wait_for_events(1)[0]["event_id"] == "server-side-id"
    # Spans already stamped keep the client id.
    attrs = exporter.get_finished_spans()[0].attributes or {}
    assert attrs[semconv.SESSION_ID] == tracer.session_id != "server-side-id"


def test_per_trace_sessions_are_started_in_the_background(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, exporter = _api_tracer(memory_tracer, hh.url, session={"per": "trace"})
    otel = tracer.get_otel_tracer()
    for name in ("GET /a", "GET /b"):
        with otel.start_as_current_span(name), otel.start_as_current_span("llm"):
            tracer.enrich_session(metadata={"route": name})
    tracer.force_flush(5000)
    sessions = hh.wait_for_sessions(2)
    spans = exporter.get_finished_spans()
    by_name = {s["session"]["session_name"]: s["session"]["session_id"] for s in sessions}
    assert by_name == {
        "GET /a": (spans[1].attributes or {})[semconv.SESSION_ID],
        "GET /b": (spans[3].attributes or {})[semconv.SESSION_ID],
    }
    events = {e["metadata"]["route"]: e["event_id"] for e in hh.wait_for_events(2)}
    assert events == by_name


def test_session_starts_before_the_first_spans_arrive(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, _ = _api_tracer(memory_tracer, hh.url, project="proj", session_name="e2e")
    otel = tracer.get_otel_tracer()
    with otel.start_as_current_span("root"), otel.start_as_current_span("llm"):
        pass
    # Creating the tracer and its spans made no request: the session starts
    # on the exporter's thread, right before the first export.
    assert hh.requests == []
    assert tracer.force_flush(5000)

    spans = hh.wait_for_spans(2)
    assert {s["attributes"][semconv.SESSION_ID] for s in spans} == {tracer.session_id}
    assert {s["attributes"][semconv.PROJECT] for s in spans} == {"proj"}
    assert hh.wait_for_sessions(1)[0]["session"]["session_id"] == tracer.session_id
    routes = [r["route"] for r in hh.requests]
    assert routes.index("session") < routes.index("traces")
    assert len(hh.sessions) == 1


FAST_BATCH = {"schedule_delay_ms": 50, "export_timeout_ms": 500}


@pytest.mark.parametrize("failure", ["down", "500", "401", "slow"])
def test_failing_session_start_warns_once_and_spans_keep_the_client_id(
    failure: str,
    memory_tracer: Callable[..., MemoryTracer],
    agent_log: AgentLog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(core, "_API_TIMEOUT_S", 0.3)
    with FakeHoneyHive(api_key=KEY if failure != "401" else "another-key") as hh:
        url = closed_url("") if failure == "down" else hh.url
        if failure == "500":
            hh.respond_with(500, times=100, route="session")
            hh.respond_with(500, times=100, route="events")
        if failure == "slow":
            hh.set_delay("session", 2.0)
            hh.set_delay("events", 2.0)
        tracer, exporter = _api_tracer(memory_tracer, url, batch=FAST_BATCH)
        otel = tracer.get_otel_tracer()
        started = time.monotonic()
        for i in range(3):
            with otel.start_as_current_span(f"call-{i}"):
                tracer.enrich_session(metrics={"i": i})
        app_time = time.monotonic() - started
        tracer.force_flush(5000)
        if failure in ("500", "slow"):
            # Only the REST API fails: the spans reach HoneyHive all the same.
            arrived = hh.wait_for_spans(3)
            assert {s["attributes"][semconv.SESSION_ID] for s in arrived} == {
                tracer.session_id
            }

    spans = exporter.get_finished_spans()
    assert len(spans) == 3
    assert {(s.attributes or {})[semconv.SESSION_ID] for s in spans} == {tracer.session_id}
    about_session = [w for w in agent_log.warnings() if "HoneyHive session" in w]
    assert len(about_session) == 1, agent_log.warnings()
    assert all(KEY not in w for w in agent_log.warnings())
    # The app's thread never waits for the backend (it does no I/O at all;
    # the bound is far below the slow backend's 2 s but generous for CI).
    assert app_time < 1.0


def test_enrich_session_never_raises(memory_tracer: Callable[..., MemoryTracer]) -> None:
    tracer, _ = memory_tracer(api_key=KEY, server_url=closed_url(), exporters=["honeyhive"])

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("boom")

        __str__ = __repr__

    tracer.enrich_session(metadata={"x": Hostile()}, inputs=threading.Lock())
    tracer.shutdown(2000)
    tracer.enrich_session(metadata={"after": "shutdown"})


def test_per_trace_enrich_outside_a_trace_is_ignored(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, _ = _api_tracer(memory_tracer, hh.url, session={"per": "trace"})
    tracer.enrich_session(metadata={"nowhere": True})
    assert tracer.force_flush(2000)
    assert hh.events == []
    assert hh.sessions == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_api_worker_works_in_a_forked_child(
    hh: FakeHoneyHive, memory_tracer: Callable[..., MemoryTracer]
) -> None:
    tracer, _ = _api_tracer(memory_tracer, hh.url)
    tracer.enrich_session(metadata={"who": "parent"})
    assert tracer.force_flush(5000)
    pid = os.fork()
    if pid == 0:  # the child: exit without running pytest's teardown
        code = 1
        try:
            tracer.enrich_session(metadata={"who": "child"})
            code = 0 if tracer.force_flush(5000) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    events = hh.wait_for_events(2)
    assert [e["metadata"]["who"] for e in events] == ["parent", "child"]
    assert {e["event_id"] for e in events} == {tracer.session_id}
    assert len(hh.sessions) == 1  # the child shares the parent's started session


@pytest.mark.parametrize("root", [True, False])
def test_bootstrap_handed_session_is_started_once_per_run(
    root: bool,
    hh: FakeHoneyHive,
    memory_tracer: Callable[..., MemoryTracer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whichever process of the run exports first starts it (the root may
    # never export: a pool's parent); every other process only joins.
    run_session = f"run-session-{uuid.uuid4()}"
    monkeypatch.setenv("HH_SESSION_ID", run_session)
    monkeypatch.setenv("HH_SESSION_ROOT_PID", str(os.getpid() if root else 1))
    for _ in range(2):  # the second tracer stands for a second process of the run
        tracer, _ = _api_tracer(memory_tracer, hh.url)
        assert tracer.session_id == run_session
        tracer.enrich_session(metrics={"root": root})
        assert tracer.force_flush(5000)
    assert [e["event_id"] for e in hh.wait_for_events(2)] == [run_session] * 2
    assert [s["session"]["session_id"] for s in hh.sessions] == [run_session]


def test_each_tracer_of_a_run_has_its_own_session_in_every_process(
    hh: FakeHoneyHive,
    memory_tracer: Callable[..., MemoryTracer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Under honeyhive-run every tracer sees the run's HH_SESSION_ID; a second
    # tracer (another project) must not stamp the default tracer's session,
    # which is started in the default tracer's project only.
    run_session = str(uuid.uuid4())
    monkeypatch.setenv("HH_SESSION_ID", run_session)
    monkeypatch.setenv("HH_SESSION_ROOT_PID", "1")
    ids: dict[str, set[str]] = {"default": set(), "research": set()}
    for _ in range(2):  # two processes of the run
        for name, project in (("default", "main"), ("research", "lab")):
            tracer, _ = _api_tracer(memory_tracer, hh.url, name=name, project=project)
            ids[name].add(tracer.session_id)
            with tracer.get_otel_tracer().start_as_current_span("work"):
                pass
            assert tracer.force_flush(5000)
    assert ids["default"] == {run_session}
    (research,) = ids["research"]
    assert research != run_session
    started = {s["session"]["project"]: s["session"]["session_id"] for s in hh.sessions}
    assert started == {"main": run_session, "lab": research}
    assert len(hh.sessions) == 2
    stamped = {(s["attributes"][semconv.PROJECT], s["attributes"][semconv.SESSION_ID])
               for s in hh.wait_for_spans(4)}
    assert stamped == {("main", run_session), ("lab", research)}


def test_a_slow_session_start_holds_up_the_first_export_only_briefly(
    hh: FakeHoneyHive,
    memory_tracer: Callable[..., MemoryTracer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from honeyhive_agent.exporters.batch import set_export_on_local_root_end

    hh.set_delay("session", 3.0)
    set_export_on_local_root_end(True)
    try:
        tracer, _ = _api_tracer(memory_tracer, hh.url)
        started = time.monotonic()
        with tracer.get_otel_tracer().start_as_current_span("root"):
            pass  # its end exports on this thread
        took = time.monotonic() - started
        spans = hh.wait_for_spans(1)
        assert spans[0]["attributes"][semconv.SESSION_ID] == tracer.session_id
    finally:
        set_export_on_local_root_end(False)
    # The 3 s session start runs on the API worker; the export waits for it
    # at most core._FIRST_EXPORT_WAIT_S = 1 s (generous bound for a loaded CI).
    assert took < 2.5
    assert tracer.force_flush(8000)
    assert hh.wait_for_sessions(1)[0]["session"]["session_id"] == tracer.session_id

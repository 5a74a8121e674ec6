"""Every span of a tracer carries its session: process and per-trace modes."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from honeyhive_agent import semconv
from honeyhive_agent.tracer import session as session_mod
from tests.tracer.conftest import MemoryTracer

TL = semconv.TRACELOOP_PREFIX


def test_every_span_is_stamped_with_the_process_session(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer(project="proj", source="prod", session_name="nightly")
    otel = tracer.get_otel_tracer()
    with otel.start_as_current_span("root"), otel.start_as_current_span("child"):
        pass

    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["child", "root"]
    sid = tracer.session_id
    for span in spans:
        attrs = dict(span.attributes or {})
        assert attrs[semconv.SESSION_ID] == sid
        assert attrs[semconv.PROJECT] == "proj"
        assert attrs[semconv.SOURCE] == "prod"
        assert attrs[semconv.SESSION_NAME] == "nightly"
        assert attrs[TL + "session_id"] == sid
        assert attrs[TL + "project"] == "proj"
        assert attrs[TL + "source"] == "prod"
        assert attrs[semconv.GEN_AI_CONVERSATION_ID] == sid
        assert attrs[semconv.OTEL_SESSION_ID] == sid
    assert tracer.session_name == "nightly"


def test_unset_project_omits_the_project_keys(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer()
    with tracer.get_otel_tracer().start_as_current_span("s"):
        pass
    attrs = dict(exporter.get_finished_spans()[0].attributes or {})
    assert semconv.PROJECT not in attrs
    assert TL + "project" not in attrs
    assert attrs[semconv.SOURCE] == "dev"


def test_session_id_is_a_uuid_unless_joined(memory_tracer: Callable[..., MemoryTracer]) -> None:
    import uuid

    fresh, _ = memory_tracer()
    assert uuid.UUID(fresh.session_id).version == 4
    joined, exporter = memory_tracer(session_id="parent-session-1")
    assert joined.session_id == "parent-session-1"
    with joined.get_otel_tracer().start_as_current_span("s"):
        pass
    attrs = exporter.get_finished_spans()[0].attributes or {}
    assert attrs[semconv.SESSION_ID] == "parent-session-1"


def test_app_attributes_set_later_win(memory_tracer: Callable[..., MemoryTracer]) -> None:
    tracer, exporter = memory_tracer()
    with tracer.get_otel_tracer().start_as_current_span("s") as span:
        span.set_attribute(semconv.SESSION_NAME, "renamed")
    attrs = exporter.get_finished_spans()[0].attributes or {}
    assert attrs[semconv.SESSION_NAME] == "renamed"


def _session_of(span: object) -> str:
    attrs = getattr(span, "attributes", None) or {}
    value = attrs[semconv.SESSION_ID]
    assert isinstance(value, str)
    return value


def test_per_trace_every_root_span_opens_a_session(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer(session={"per": "trace"})
    otel = tracer.get_otel_tracer()
    for request in ("GET /a", "GET /b"):
        with otel.start_as_current_span(request), otel.start_as_current_span("llm"):
            pass

    llm_a, root_a, llm_b, root_b = exporter.get_finished_spans()
    assert _session_of(llm_a) == _session_of(root_a)
    assert _session_of(llm_b) == _session_of(root_b)
    assert _session_of(root_a) != _session_of(root_b)
    assert tracer.session_id not in {_session_of(root_a), _session_of(root_b)}
    # Without session.name, each session is named after its root span.
    assert (root_a.attributes or {})[semconv.SESSION_NAME] == "GET /a"
    assert (llm_b.attributes or {})[semconv.SESSION_NAME] == "GET /b"
    assert (llm_b.attributes or {})[semconv.OTEL_SESSION_ID] == _session_of(root_b)


def test_per_trace_uses_the_configured_name(memory_tracer: Callable[..., MemoryTracer]) -> None:
    tracer, exporter = memory_tracer(session={"per": "trace"}, session_name="api")
    with tracer.get_otel_tracer().start_as_current_span("GET /"):
        pass
    assert (exporter.get_finished_spans()[0].attributes or {})[semconv.SESSION_NAME] == "api"


def test_per_trace_remote_parent_opens_a_session(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer(session={"per": "trace"})
    remote = SpanContext(
        trace_id=0x1234, span_id=0x99, is_remote=True, trace_flags=TraceFlags(1)
    )
    parent_ctx = trace.set_span_in_context(NonRecordingSpan(remote))
    otel = tracer.get_otel_tracer()
    for _ in range(2):
        token = context.attach(parent_ctx)
        try:
            with otel.start_as_current_span("server"), otel.start_as_current_span("llm"):
                pass
        finally:
            context.detach(token)
    llm1, server1, llm2, server2 = exporter.get_finished_spans()
    assert server1.context.trace_id == server2.context.trace_id == 0x1234
    assert _session_of(llm1) == _session_of(server1)
    assert _session_of(llm2) == _session_of(server2)
    assert _session_of(server1) != _session_of(server2)


def test_per_trace_current_session_id(memory_tracer: Callable[..., MemoryTracer]) -> None:
    tracer, exporter = memory_tracer(session={"per": "trace"})
    with tracer.get_otel_tracer().start_as_current_span("root"):
        inside = tracer.current_session_id()
    assert inside == _session_of(exporter.get_finished_spans()[0])
    assert tracer.current_session_id() == tracer.session_id


def test_per_trace_map_is_bounded(
    memory_tracer: Callable[..., MemoryTracer], monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(session_mod, "MAX_TRACKED_TRACES", 10)
    tracer, _ = memory_tracer(session={"per": "trace"})
    otel = tracer.get_otel_tracer()
    for i in range(50):
        with otel.start_as_current_span(f"r{i}"):
            pass
    assert len(tracer._sessions._traces) == 10

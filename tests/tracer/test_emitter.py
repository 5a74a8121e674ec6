"""FinishedSpanEmitter records exactly the span the SDK would, or declines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import context, trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import StatusCode

from honeyhive_agent import semconv
from honeyhive_agent.tracer.emitter import FinishedSpanEmitter
from tests.tracer.conftest import MemoryTracer

ATTRS: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.max_tokens": 64,
    "gen_ai.request.stream": False,
    "gen_ai.response.finish_reasons": ("stop",),
    "honeyhive_outputs.content": "Hello there!",
}


def _emitter(tracer: Any) -> FinishedSpanEmitter:
    emitter = FinishedSpanEmitter.for_tracer(tracer)
    assert emitter is not None
    return emitter


def _comparable(span: ReadableSpan) -> dict[str, Any]:
    """What an exporter reads of a span, minus ids and times."""
    return {
        "name": span.name,
        "kind": span.kind,
        "attributes": dict(span.attributes or {}),
        "dropped_attributes": span.dropped_attributes,
        "status": (span.status.status_code, span.status.description),
        "resource": dict(span.resource.attributes),
        "scope": (span.instrumentation_scope.name, span.instrumentation_scope.version)
        if span.instrumentation_scope else None,
        "flags": span.context.trace_flags if span.context else None,
        "parent": span.parent.span_id if span.parent else None,
        "events": len(span.events),
        "links": len(span.links),
    }


def _sdk_span(otel: Any, name: str, attributes: dict[str, Any], error: str | None = None,
              context_: Any = None) -> None:
    span = otel.start_span(name, context=context_, kind=SpanKind.CLIENT,
                           attributes=attributes, start_time=1_000)
    if error is not None:
        span.set_status(trace.Status(StatusCode.ERROR, error))
    span.end(end_time=2_000)


def test_the_emitted_span_is_the_one_the_sdk_records(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer(project="proj")
    otel = tracer.get_otel_tracer("instrumentors.openai", "1.2.3")
    assert _emitter(otel).emit("chat gpt-4o-mini", dict(ATTRS), 1_000, 2_000)
    _sdk_span(otel, "chat gpt-4o-mini", dict(ATTRS))
    emitted, recorded = exporter.get_finished_spans()

    assert _comparable(emitted) == _comparable(recorded)
    assert (emitted.start_time, emitted.end_time) == (1_000, 2_000)
    attrs = dict(emitted.attributes or {})
    assert attrs[semconv.SESSION_ID] == tracer.session_id  # the stamper's work
    assert attrs[semconv.PROJECT] == "proj"
    assert emitted.context is not None and emitted.context.is_valid
    assert emitted.context.trace_id != recorded.context.trace_id  # type: ignore[union-attr]


def test_an_error_status_and_a_parent_match_the_sdk(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer()
    otel = tracer.get_otel_tracer()
    with otel.start_as_current_span("workflow") as parent:
        assert _emitter(otel).emit("chat m", dict(ATTRS), 1_000, 2_000, error="APIError: boom")
        _sdk_span(otel, "chat m", dict(ATTRS), error="APIError: boom")
    emitted, recorded, root = exporter.get_finished_spans()

    assert _comparable(emitted) == _comparable(recorded)
    assert emitted.status.status_code is StatusCode.ERROR
    assert emitted.status.description == "APIError: boom"
    assert emitted.parent is not None and emitted.parent.span_id == root.context.span_id  # type: ignore[union-attr]
    assert emitted.context.trace_id == parent.get_span_context().trace_id  # type: ignore[union-attr]


def test_an_explicit_parent_context_is_used(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer()
    otel = tracer.get_otel_tracer()
    with otel.start_as_current_span("captured") as captured:
        ctx = context.get_current()
    assert _emitter(otel).emit("chat m", dict(ATTRS), 1, 2, context=ctx)
    span = exporter.get_finished_spans()[-1]
    assert span.parent is not None
    assert span.parent.span_id == captured.get_span_context().span_id


def test_an_unsampled_remote_parent_records_nothing(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer()
    otel = tracer.get_otel_tracer()
    remote = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(0))
    ctx = trace.set_span_in_context(NonRecordingSpan(remote))
    assert _emitter(otel).emit("chat m", dict(ATTRS), 1, 2, context=ctx)
    _sdk_span(otel, "chat m", dict(ATTRS), context_=ctx)
    assert exporter.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("sampler", "exported"), [(ALWAYS_OFF, 0), (TraceIdRatioBased(1.0), 1)]
)
def test_other_samplers_decide_as_in_the_sdk(sampler: Any, exported: int) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel = provider.get_tracer("t")
    assert _emitter(otel).emit("chat m", dict(ATTRS), 1, 2)
    _sdk_span(otel, "chat m", dict(ATTRS))
    spans = exporter.get_finished_spans()
    assert len(spans) == 2 * exported
    if exported:
        assert _comparable(spans[0]) == _comparable(spans[1])


class _StartHook(SpanProcessor):
    """A processor that acts in on_start: the emitter must leave it to the SDK."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.started.append(span.name)
        span.set_attribute("seen.at_start", True)


def test_a_processor_acting_at_start_sends_spans_the_sdk_way(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer()
    otel = tracer.get_otel_tracer()
    emitter = _emitter(otel)
    attrs = dict(ATTRS)
    assert emitter.emit("before", attrs, 1, 2)

    hook = _StartHook()
    tracer.provider.add_span_processor(hook)  # added later: seen at the next span
    attrs = dict(ATTRS)
    assert not emitter.emit("after", attrs, 1, 2)
    assert attrs == ATTRS  # untouched when declined
    assert hook.started == []
    assert [s.name for s in exporter.get_finished_spans()] == ["before"]


@pytest.mark.parametrize(
    "bad",
    [
        {"list.value": ["a", "b"]},
        {"none.value": None},
        {"mixed.tuple": ("a", 1)},
        {"empty.tuple": ()},
        {"dict.value": {"a": 1}},
        {"": "empty key"},
    ],
)
def test_attributes_the_sdk_would_change_are_left_to_it(
    memory_tracer: Callable[..., MemoryTracer], bad: dict[str, Any]
) -> None:
    tracer, exporter = memory_tracer()
    attrs = {**ATTRS, **bad}
    assert not _emitter(tracer.get_otel_tracer()).emit("chat m", attrs, 1, 2)
    assert attrs == {**ATTRS, **bad}
    assert exporter.get_finished_spans() == ()


def test_a_value_length_limit_is_left_to_the_sdk(
    memory_tracer: Callable[..., MemoryTracer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "5")
    tracer, _ = memory_tracer()
    assert not _emitter(tracer.get_otel_tracer()).emit("chat m", dict(ATTRS), 1, 2)


@pytest.mark.parametrize("limit", [3, 10])
def test_a_count_limit_drops_as_the_sdk_does(
    memory_tracer: Callable[..., MemoryTracer], monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    # 3: our attributes alone exceed it (declined); 10: the session stamps do.
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", str(limit))
    tracer, exporter = memory_tracer()
    otel = tracer.get_otel_tracer()
    emitted = _emitter(otel).emit("chat m", dict(ATTRS), 1, 2)
    assert emitted is (limit >= len(ATTRS))
    if not emitted:
        _sdk_span(otel, "chat m", dict(ATTRS))
    _sdk_span(otel, "chat m", dict(ATTRS))
    first, second = exporter.get_finished_spans()
    assert _comparable(first) == _comparable(second)
    assert len(first.attributes or {}) == limit
    assert first.dropped_attributes > 0


def test_per_trace_sessions_open_for_emitted_root_spans(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    tracer, exporter = memory_tracer(session={"per": "trace"})
    otel = tracer.get_otel_tracer()
    emitter = _emitter(otel)
    assert emitter.emit("chat a", dict(ATTRS), 1, 2)
    assert emitter.emit("chat b", dict(ATTRS), 1, 2)
    with otel.start_as_current_span("root"):
        assert emitter.emit("chat c", dict(ATTRS), 1, 2)
    a, b, c, root = (dict(s.attributes or {}) for s in exporter.get_finished_spans())
    assert a[semconv.SESSION_ID] != b[semconv.SESSION_ID]
    assert c[semconv.SESSION_ID] == root[semconv.SESSION_ID]
    assert a[semconv.SESSION_NAME] == "chat a"


def test_only_sdk_tracers_with_a_synchronous_pipeline_get_one() -> None:
    assert FinishedSpanEmitter.for_tracer(trace.NoOpTracer()) is None
    assert FinishedSpanEmitter.for_tracer(trace.ProxyTracer("x", None)) is None
    assert FinishedSpanEmitter.for_tracer(object()) is None
    from opentelemetry.sdk.trace import ConcurrentMultiSpanProcessor

    concurrent = TracerProvider(active_span_processor=ConcurrentMultiSpanProcessor())
    assert FinishedSpanEmitter.for_tracer(concurrent.get_tracer("t")) is None
    plain = TracerProvider().get_tracer("t")
    assert isinstance(plain, SdkTracer)
    assert FinishedSpanEmitter.for_tracer(plain) is not None

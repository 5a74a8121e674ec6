"""enrich_span and enrich_session: fields land where they should, nothing ever raises."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from honeyhive_agent import enrich_session, enrich_span, trace
from honeyhive_agent.tracer import HoneyHiveTracer, registry
from tests.decorators._helpers import attrs, finished, only_span
from tests.decorators.conftest import MakeTracer
from tests.support.fake_honeyhive import FakeHoneyHive


def test_every_field(exporter: InMemorySpanExporter) -> None:
    @trace
    def step() -> None:
        enrich_span(
            inputs={"q": "question"},
            outputs={"a": ["x", "y"]},
            config={"model": "gpt"},
            metadata={"source": "unit"},
            metrics={"latency_ms": 12.5},
            feedback={"rating": 5, "ok": True},
            user_properties={"user": "u-1"},
            event_name="renamed",
            event_type="model",
            custom_key="custom",
        )

    step()
    span = only_span(exporter)
    a = attrs(span)
    assert a["honeyhive_inputs.q"] == "question"
    assert a["honeyhive_outputs.a.1"] == "y"
    assert a["honeyhive_config.model"] == "gpt"
    assert a["honeyhive_metadata.source"] == "unit"
    assert a["honeyhive_metadata.custom_key"] == "custom"
    assert a["honeyhive_metrics.latency_ms"] == 12.5
    assert a["honeyhive_feedback.rating"] == 5
    assert a["honeyhive_feedback.ok"] is True
    assert a["honeyhive_user_properties.user"] == "u-1"
    assert a["honeyhive_event_name"] == "renamed"
    assert a["honeyhive_event_type"] == "model"
    assert span.name == "renamed"


def test_enrich_targets_innermost_span(exporter: InMemorySpanExporter) -> None:
    @trace(event_name="inner")
    def inner() -> None:
        enrich_span(metrics={"depth": 2})

    @trace(event_name="outer")
    def outer() -> None:
        enrich_span(metrics={"depth": 1})
        inner()

    outer()
    spans = {s.name: attrs(s) for s in finished(exporter)}
    assert spans["inner"]["honeyhive_metrics.depth"] == 2
    assert spans["outer"]["honeyhive_metrics.depth"] == 1


def test_enrich_inside_generator(exporter: InMemorySpanExporter) -> None:
    @trace
    def gen() -> Iterator[int]:
        yield 1
        enrich_span(metrics={"chunks": 1})

    assert list(gen()) == [1]
    assert attrs(only_span(exporter))["honeyhive_metrics.chunks"] == 1


def test_error_field(exporter: InMemorySpanExporter) -> None:
    @trace
    def step() -> str:
        enrich_span(error=ValueError("soft failure"))
        return "still returned"

    assert step() == "still returned"
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)["honeyhive_error"] == "soft failure"
    assert attrs(span)["error.type"] == "ValueError"


def test_no_current_span_is_a_noop(exporter: InMemorySpanExporter) -> None:
    enrich_span(metadata={"x": 1}, inputs="y")
    assert finished(exporter) == []


def test_bad_values_never_raise(exporter: InMemorySpanExporter) -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

        __repr__ = __str__

    @trace
    def step() -> int:
        enrich_span(metadata={"h": Hostile()}, event_type="nonsense", metrics=object())
        return 1

    assert step() == 1
    assert attrs(only_span(exporter))["honeyhive_event_type"] == "tool"


def test_content_rules_of_the_spans_tracer(make_tracer: MakeTracer) -> None:
    make_tracer()
    _, private = make_tracer(name="private", capture_content=False, redact=["s3cr3t"])

    @trace(tracer="private")
    def step() -> None:
        enrich_span(inputs={"q": "x"}, outputs="y", metadata={"note": "has s3cr3t"})

    step()
    a = attrs(only_span(private))
    assert "honeyhive_inputs.q" not in a
    assert "honeyhive_outputs" not in a
    assert a["honeyhive_metadata.note"] == "has [REDACTED]"


def test_foreign_span_uses_default_tracer_rules(make_tracer: MakeTracer) -> None:
    make_tracer(capture_content=False)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("app").start_as_current_span("app-span"):
        enrich_span(inputs={"q": "x"}, metrics={"m": 1})
    a = attrs(only_span(exporter))
    assert a == {"honeyhive_metrics.m": 1}


def test_enrich_session_forwards_to_tracer(make_tracer: MakeTracer) -> None:
    with FakeHoneyHive() as server:
        tracer = HoneyHiveTracer(api_key="k", server_url=server.url, project="p", name="hh")
        registry.register(tracer)
        try:
            enrich_session(
                tracer="hh", metadata={"run": 1}, user_properties={"plan": "pro"}, feedback=None
            )
            tracer.force_flush(3000)
            events = server.wait_for_events(1)
        finally:
            tracer.shutdown(1000)
    assert events[0]["event_id"]
    assert events[0]["metadata"] == {"run": 1}
    assert events[0]["user_properties"] == {"plan": "pro"}
    assert "feedback" not in events[0]


class _Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[dict[str, Any]] = []

    def enrich_session(self, **fields: Any) -> None:
        self.calls.append(fields)


def test_enrich_session_resolution_order(
    make_tracer: MakeTracer, monkeypatch: pytest.MonkeyPatch
) -> None:
    default, _ = make_tracer()
    research, _ = make_tracer(name="research")
    calls: dict[str, list[dict[str, Any]]] = {"default": [], "research": []}
    for t in (default, research):
        monkeypatch.setattr(
            t, "enrich_session", lambda _n=t.name, **f: calls[_n].append(f)
        )

    enrich_session(metrics={"a": 1})  # no span: the default tracer

    @trace(tracer="research")
    def inside() -> None:
        enrich_session(metrics={"b": 2})  # the current span's tracer
        enrich_session(metrics={"c": 3}, tracer="default")  # explicit wins

    inside()
    assert calls["default"] == [{"metrics": {"a": 1}}, {"metrics": {"c": 3}}]
    assert calls["research"] == [{"metrics": {"b": 2}}]


def test_enrich_session_never_raises(
    make_tracer: MakeTracer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracer, _ = make_tracer()

    def boom(**fields: Any) -> None:
        raise RuntimeError("down")

    monkeypatch.setattr(tracer, "enrich_session", boom)
    enrich_session(metadata={"x": 1})


def test_enrich_session_disabled_is_noop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HH_DISABLED", "true")
    enrich_session(metadata={"x": 1})
    enrich_span(metadata={"x": 1})


async def test_enrich_from_pool_thread_and_task(exporter: InMemorySpanExporter) -> None:
    def in_thread() -> None:
        enrich_span(metadata={"where": "thread"})

    async def in_task() -> None:
        enrich_span(metrics={"task": 1})

    @trace(event_name="handler")
    async def handler() -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(in_thread).result()
        await asyncio.create_task(in_task())

    await handler()
    a = attrs(only_span(exporter))
    assert a["honeyhive_metadata.where"] == "thread"
    assert a["honeyhive_metrics.task"] == 1

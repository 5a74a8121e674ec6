"""Two tracers are two separate pipelines; the global provider is never touched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from honeyhive_agent import semconv
from honeyhive_agent.tracer import HoneyHiveTracer, registry
from tests.tracer.conftest import MemoryTracer


def test_two_tracers_do_not_cross_talk(memory_tracer: Callable[..., MemoryTracer]) -> None:
    global_before = trace.get_tracer_provider()
    a, exp_a = memory_tracer(name="a", project="alpha")
    b, exp_b = memory_tracer(name="b", project="beta")

    assert a.provider is not b.provider
    assert isinstance(a.provider, TracerProvider)
    assert a.session_id != b.session_id
    assert trace.get_tracer_provider() is global_before

    # A span of b started inside a's span is b's own, with b's session.
    with (
        a.get_otel_tracer().start_as_current_span("in-a"),
        b.get_otel_tracer().start_as_current_span("in-b"),
    ):
        pass

    assert [s.name for s in exp_a.get_finished_spans()] == ["in-a"]
    assert [s.name for s in exp_b.get_finished_spans()] == ["in-b"]
    span_b = exp_b.get_finished_spans()[0]
    assert (span_b.attributes or {})[semconv.SESSION_ID] == b.session_id
    assert (span_b.attributes or {})[semconv.PROJECT] == "beta"
    assert registry.get("a") is a
    assert registry.get("b") is b

    # Spans of the global provider (the app's own) reach neither tracer.
    with trace.get_tracer("app").start_as_current_span("app-span"):
        pass
    assert len(exp_a.get_finished_spans()) == 1
    assert len(exp_b.get_finished_spans()) == 1


def test_shutdown_of_one_tracer_leaves_the_other_working(
    memory_tracer: Callable[..., MemoryTracer],
) -> None:
    a, exp_a = memory_tracer(name="a")
    b, exp_b = memory_tracer(name="b")
    a.shutdown()
    a.shutdown()  # idempotent
    assert a.is_shutdown
    with b.get_otel_tracer().start_as_current_span("still"):
        pass
    assert [s.name for s in exp_b.get_finished_spans()] == ["still"]
    assert exp_a.get_finished_spans() == ()


def test_resource_names_the_service(memory_tracer: Callable[..., MemoryTracer]) -> None:
    named, exp = memory_tracer(session_name="job-7", resource_attributes={"team": "ml"})
    with named.get_otel_tracer().start_as_current_span("s"):
        pass
    resource = exp.get_finished_spans()[0].resource.attributes
    assert resource["service.name"] == "job-7"
    assert resource["team"] == "ml"
    explicit, _ = memory_tracer(service_name="checkout")
    assert explicit.provider.resource.attributes["service.name"] == "checkout"


def test_get_otel_tracer_is_cached_per_scope(memory_tracer: Callable[..., MemoryTracer]) -> None:
    tracer, exporter = memory_tracer()
    assert tracer.get_otel_tracer() is tracer.get_otel_tracer()
    lib = tracer.get_otel_tracer("instrumentors.openai", "1.0")
    assert lib is not tracer.get_otel_tracer()
    with lib.start_as_current_span("s"):
        pass
    span = exporter.get_finished_spans()[0]
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "instrumentors.openai"
    assert span.instrumentation_scope.version == "1.0"


def test_first_tracer_of_a_name_is_registered_explicit_register_replaces() -> None:
    first = HoneyHiveTracer(exporters=["none"])
    second = HoneyHiveTracer(exporters=["none"])
    assert registry.get() is first
    assert second in registry.all_tracers()
    registry.register(second)
    assert registry.get() is second


def test_exporter_setup_failure_does_not_break_the_app(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    tracer = HoneyHiveTracer(exporters=["local"], local={"path": "not-a-dir/traces.db"})
    with tracer.get_otel_tracer().start_as_current_span("s"):
        pass
    tracer.shutdown(1000)


def test_two_tracers_export_to_their_own_backends_over_http() -> None:
    from tests.support.fake_honeyhive import FakeHoneyHive
    from tests.support.otlp_receiver import OtlpReceiver

    global_before = trace.get_tracer_provider()
    with FakeHoneyHive(api_key="key-a") as hh, OtlpReceiver() as rx:
        a = HoneyHiveTracer(name="a", api_key="key-a", server_url=hh.url, project="pa")
        b = HoneyHiveTracer(
            name="b", exporters=["otlp"], otlp={"traces_endpoint": rx.traces_url}, project="pb"
        )
        with (
            a.get_otel_tracer().start_as_current_span("span-a"),
            b.get_otel_tracer().start_as_current_span("span-b"),
        ):
            pass
        assert a.force_flush(5000) and b.force_flush(5000)
        (got_a,) = hh.wait_for_spans(1)
        (got_b,) = rx.wait_for_spans(1)
        assert got_a["name"] == "span-a"
        assert got_b["name"] == "span-b"
        assert got_a["attributes"][semconv.SESSION_ID] == a.session_id
        assert got_b["attributes"][semconv.SESSION_ID] == b.session_id
        assert got_b["attributes"][semconv.PROJECT] == "pb"
        # Only the tracer with the HoneyHive exporter starts a session.
        assert [s["session"]["project"] for s in hh.wait_for_sessions(1)] == ["pa"]
        assert rx.requests and all(r["route"] == "traces" for r in rx.requests)
    assert trace.get_tracer_provider() is global_before

"""Real SDK spans for exporter tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode


class Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def provider_with(*processors: SpanProcessor, service: str = "svc") -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    for p in processors:
        provider.add_span_processor(p)
    return provider


def make_spans(
    n: int = 1, *, session_id: str | None = None, attrs: dict[str, Any] | None = None,
    error: bool = False, name: str = "span",
) -> list[ReadableSpan]:
    """``n`` finished root spans with ``attrs`` (and the session stamp)."""
    sink = Collect()
    provider = provider_with(SimpleSpanProcessor(sink))
    tracer = provider.get_tracer("tests.exporters")
    for i in range(n):
        with tracer.start_as_current_span(f"{name}-{i}" if n > 1 else name) as span:
            if session_id:
                span.set_attribute("honeyhive.session_id", session_id)
            for k, v in (attrs or {}).items():
                span.set_attribute(k, v)
            if error:
                span.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()
    return sink.spans

"""Fixtures: real HoneyHiveTracers whose spans land in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from honeyhive_agent.tracer import HoneyHiveTracer, registry

MakeTracer = Callable[..., tuple[HoneyHiveTracer, InMemorySpanExporter]]


@pytest.fixture
def make_tracer() -> Iterator[MakeTracer]:
    """Build and register a tracer (``name=``, ``capture_content=``, ``redact=`` ...)."""
    made: list[HoneyHiveTracer] = []

    def make(**overrides: Any) -> tuple[HoneyHiveTracer, InMemorySpanExporter]:
        exporter = InMemorySpanExporter()
        overrides.setdefault("exporters", ["none"])
        tracer = HoneyHiveTracer(span_processors=[SimpleSpanProcessor(exporter)], **overrides)
        registry.register(tracer)
        made.append(tracer)
        return tracer, exporter

    yield make
    for tracer in made:
        tracer.shutdown(1000)


@pytest.fixture
def exporter(make_tracer: MakeTracer) -> InMemorySpanExporter:
    """The default tracer's finished spans."""
    return make_tracer()[1]

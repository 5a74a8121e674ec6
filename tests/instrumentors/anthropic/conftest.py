"""Fixtures: the real anthropic SDK against the fake server, traced in memory.

``traced`` instruments the SDK with a real :class:`HoneyHiveTracer` whose
spans land in an in-memory exporter; ``client`` / ``aclient`` are SDK clients
pointed at the fake server (no retries, so error tests see one request).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from honeyhive_agent.tracer import HoneyHiveTracer
from instrumentors.anthropic import AnthropicInstrumentor
from tests.fakes.anthropic_server import FakeAnthropic

# Any: the same list goes to messages.create and beta.messages.create (other param types).
USER: Any = [{"role": "user", "content": "Hi"}]
MODEL = "claude-test-1"


@dataclass
class Traced:
    """An instrumented SDK and the spans it produced."""

    tracer: HoneyHiveTracer
    exporter: InMemorySpanExporter
    instrumentor: AnthropicInstrumentor

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def only(self) -> ReadableSpan:
        """The one finished span (fails when there are zero or several)."""
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def attrs(self) -> dict[str, Any]:
        return dict(self.only().attributes or {})

    def clear(self) -> None:
        self.exporter.clear()


MakeTraced = Callable[..., Traced]


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def make_traced() -> Iterator[MakeTraced]:
    """Instrument with a fresh tracer (``capture_content=``, ``redact=`` ...)."""
    made: list[Traced] = []

    def make(**overrides: Any) -> Traced:
        exporter = InMemorySpanExporter()
        overrides.setdefault("exporters", ["none"])
        tracer = HoneyHiveTracer(span_processors=[SimpleSpanProcessor(exporter)], **overrides)
        instrumentor = AnthropicInstrumentor()
        instrumentor.uninstrument()
        instrumentor.instrument(hh_tracer=tracer)
        traced = Traced(tracer, exporter, instrumentor)
        made.append(traced)
        return traced

    yield make
    AnthropicInstrumentor().uninstrument()
    for traced in made:
        traced.tracer.shutdown(1000)


@pytest.fixture
def traced(make_traced: MakeTraced) -> Traced:
    return make_traced()


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(fake: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(base_url=fake.url, api_key="x", max_retries=0) as c:
        yield c

"""@trace_class: public methods traced, private/skipped/excluded/properties left alone."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from honeyhive_agent import trace, trace_class
from honeyhive_agent.decorators import is_traced, no_trace
from tests.decorators._helpers import attrs, finished
from tests.decorators.conftest import MakeTracer


def _names(exporter: InMemorySpanExporter) -> list[str]:
    return [s.name.rsplit(".", 2)[-2] + "." + s.name.rsplit(".", 1)[-1] for s in finished(exporter)]


class Base:
    def inherited(self) -> str:
        return "base"


@trace_class
class Retriever(Base):
    """Docstring stays."""

    def __init__(self, k: int = 2) -> None:
        self.k = k

    def search(self, query: str) -> list[str]:
        return [query] * self._limit()

    async def asearch(self, query: str) -> str:
        return query

    def stream(self, n: int) -> Iterator[int]:
        yield from range(n)

    @staticmethod
    def normalize(text: str) -> str:
        return text.lower()

    @classmethod
    def create(cls) -> Retriever:
        return cls(3)

    @trace_class.skip
    def health(self) -> str:
        return "ok"

    @no_trace
    @staticmethod
    def version() -> str:
        return "1"

    @trace(event_type="chain", event_name="custom")
    def explicit(self) -> str:
        return "explicit"

    @property
    def size(self) -> int:
        return self.k

    def _limit(self) -> int:
        return self.k

    def __repr__(self) -> str:
        return "Retriever()"


async def test_public_methods_are_traced(exporter: InMemorySpanExporter) -> None:
    r = Retriever.create()
    assert r.search("Q") == ["Q"] * 3
    assert await r.asearch("a") == "a"
    assert list(r.stream(2)) == [0, 1]
    assert Retriever.normalize("ABC") == "abc"
    assert _names(exporter) == [
        "Retriever.create",
        "Retriever.search",
        "Retriever.asearch",
        "Retriever.stream",
        "Retriever.normalize",
    ]
    search = finished(exporter)[1]
    assert attrs(search)["honeyhive_inputs.query"] == "Q"
    assert attrs(search)["honeyhive_event_type"] == "tool"
    assert "honeyhive_inputs.self" not in attrs(search)


def test_private_dunder_skipped_property_inherited_untouched(
    exporter: InMemorySpanExporter,
) -> None:
    r = Retriever()
    assert r.health() == "ok"
    assert Retriever.version() == "1"
    assert r.size == 2
    assert repr(r) == "Retriever()"
    assert r.inherited() == "base"
    assert finished(exporter) == []
    assert isinstance(Retriever.__dict__["size"], property)
    assert not is_traced(Retriever.__dict__["_limit"])
    assert not is_traced(Retriever.__dict__["__init__"])
    assert not is_traced(Base.__dict__["inherited"])


def test_explicit_trace_options_win(exporter: InMemorySpanExporter) -> None:
    assert Retriever().explicit() == "explicit"
    (span,) = finished(exporter)
    assert span.name == "custom"
    assert attrs(span)["honeyhive_event_type"] == "chain"


def test_class_identity_and_inspect_preserved() -> None:
    assert Retriever.__doc__ == "Docstring stays."
    assert inspect.iscoroutinefunction(Retriever.asearch)
    assert inspect.isgeneratorfunction(Retriever.stream)
    assert is_traced(Retriever.__dict__["normalize"])
    assert is_traced(Retriever.__dict__["create"])
    assert list(inspect.signature(Retriever.create).parameters) == []


def test_called_form_with_exclude_event_type_and_tracer(make_tracer: MakeTracer) -> None:
    _, default_spans = make_tracer()
    _, agent_spans = make_tracer(name="agents")

    @trace_class(event_type="chain", exclude=["ping"], tracer="agents")
    class Agent:
        def plan(self, goal: str) -> str:
            return goal

        def ping(self) -> str:
            return "pong"

    a = Agent()
    assert a.plan("g") == "g"
    assert a.ping() == "pong"
    assert finished(default_spans) == []
    (span,) = finished(agent_spans)
    assert attrs(span)["honeyhive_event_type"] == "chain"
    assert span.name.endswith("Agent.plan")


def test_decorating_twice_does_not_double_trace(exporter: InMemorySpanExporter) -> None:
    @trace_class
    @trace_class
    class Twice:
        def run(self) -> int:
            return 1

    assert Twice().run() == 1
    assert len(finished(exporter)) == 1

"""@trace on every kind of callable: spans, attributes, and what inspect sees."""

from __future__ import annotations

import asyncio
import functools
import inspect
import types
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from honeyhive_agent import trace
from honeyhive_agent.decorators import MAX_YIELDED_ITEMS
from tests.decorators._helpers import attrs, finished, only_span


def test_bare_sync_function(exporter: InMemorySpanExporter) -> None:
    @trace
    def add(a: int, b: int = 10) -> dict[str, Any]:
        return {"sum": a + b, "parts": [a, b]}

    assert add(1, b=2) == {"sum": 3, "parts": [1, 2]}
    span = only_span(exporter)
    a = attrs(span)
    assert span.name == add.__qualname__
    assert a["honeyhive_event_type"] == "tool"
    assert a["honeyhive_event_name"] == add.__qualname__
    assert a["honeyhive_inputs.a"] == 1
    assert a["honeyhive_inputs.b"] == 2
    assert a["honeyhive_outputs.result.sum"] == 3
    assert a["honeyhive_outputs.result.parts.0"] == 1
    assert a["honeyhive_outputs.result.parts.1"] == 2
    # The tracer's session stamping applies to decorator spans too.
    assert "honeyhive.session_id" in a


def test_called_form_with_all_options(exporter: InMemorySpanExporter) -> None:
    @trace(
        event_type="chain",
        event_name="pipeline",
        config={"model": "gpt-4o", "params": {"temperature": 0.1}},
        metadata={"version": 2, "tags": ["a", "b"]},
    )
    def run(question: str) -> str:
        return question.upper()

    assert run("hi") == "HI"
    span = only_span(exporter)
    a = attrs(span)
    assert span.name == "pipeline"
    assert a["honeyhive_event_type"] == "chain"
    assert a["honeyhive_event_name"] == "pipeline"
    assert a["honeyhive_config.model"] == "gpt-4o"
    assert a["honeyhive_config.params.temperature"] == 0.1
    assert a["honeyhive_metadata.version"] == 2
    assert a["honeyhive_metadata.tags.1"] == "b"
    assert a["honeyhive_inputs.question"] == "hi"
    assert a["honeyhive_outputs.result"] == "HI"


@pytest.mark.parametrize("event_type", ["model", "tool", "chain", "session"])
def test_every_event_type(exporter: InMemorySpanExporter, event_type: str) -> None:
    @trace(event_type=event_type)
    def step() -> None:
        return None

    step()
    assert attrs(only_span(exporter))["honeyhive_event_type"] == event_type


def test_unknown_event_type_falls_back_to_tool(exporter: InMemorySpanExporter) -> None:
    @trace(event_type="bogus")
    def step() -> int:
        return 1

    assert step() == 1
    assert attrs(only_span(exporter))["honeyhive_event_type"] == "tool"


def test_empty_call_form(exporter: InMemorySpanExporter) -> None:
    @trace()
    def step(x: int) -> int:
        return x

    assert step(4) == 4
    assert attrs(only_span(exporter))["honeyhive_inputs.x"] == 4


def test_varargs_kwargs_and_defaults(exporter: InMemorySpanExporter) -> None:
    @trace
    def f(a: int, /, b: int, *rest: int, flag: bool = True, **extra: Any) -> None:
        return None

    f(1, 2, 3, 4, z="zz")
    a = attrs(only_span(exporter))
    assert a["honeyhive_inputs.a"] == 1
    assert a["honeyhive_inputs.b"] == 2
    assert a["honeyhive_inputs.rest.0"] == 3
    assert a["honeyhive_inputs.rest.1"] == 4
    assert a["honeyhive_inputs.flag"] is True
    assert a["honeyhive_inputs.extra.z"] == "zz"


async def test_async_function(exporter: InMemorySpanExporter) -> None:
    @trace(event_type="chain")
    async def fetch(url: str) -> str:
        await asyncio.sleep(0)
        return url + "!"

    assert await fetch("u") == "u!"
    a = attrs(only_span(exporter))
    assert a["honeyhive_inputs.url"] == "u"
    assert a["honeyhive_outputs.result"] == "u!"
    assert a["honeyhive_event_type"] == "chain"


async def test_async_span_opens_when_awaited(exporter: InMemorySpanExporter) -> None:
    @trace
    async def work() -> int:
        return 1

    coro = work()
    assert finished(exporter) == []
    assert await coro == 1
    assert len(finished(exporter)) == 1


def test_sync_generator_covers_iteration(exporter: InMemorySpanExporter) -> None:
    @trace
    def count(n: int) -> Iterator[int]:
        yield from range(n)

    gen = count(3)
    assert finished(exporter) == []  # not iterated yet
    assert list(gen) == [0, 1, 2]
    a = attrs(only_span(exporter))
    assert a["honeyhive_inputs.n"] == 3
    assert a["honeyhive_outputs.count"] == 3
    assert [a[f"honeyhive_outputs.result.{i}"] for i in range(3)] == [0, 1, 2]


def test_generator_outputs_are_bounded(exporter: InMemorySpanExporter) -> None:
    @trace
    def many() -> Iterator[int]:
        yield from range(MAX_YIELDED_ITEMS + 50)

    assert sum(1 for _ in many()) == MAX_YIELDED_ITEMS + 50
    a = attrs(only_span(exporter))
    assert a["honeyhive_outputs.count"] == MAX_YIELDED_ITEMS + 50
    assert f"honeyhive_outputs.result.{MAX_YIELDED_ITEMS - 1}" in a
    assert f"honeyhive_outputs.result.{MAX_YIELDED_ITEMS}" not in a


def test_generator_send_and_return_value(exporter: InMemorySpanExporter) -> None:
    @trace
    def echo() -> Any:
        got = yield "ready"
        while got is not None:
            got = yield got * 2
        return "done"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send(2) == 4
    assert gen.send(5) == 10
    with pytest.raises(StopIteration) as stop:
        gen.send(None)
    assert stop.value.value == "done"
    assert attrs(only_span(exporter))["honeyhive_outputs.count"] == 3


def test_generator_throw_handled_inside(exporter: InMemorySpanExporter) -> None:
    @trace
    def resilient() -> Generator[str, None, None]:
        try:
            yield "a"
        except KeyError:
            yield "recovered"

    gen = resilient()
    assert next(gen) == "a"
    assert gen.throw(KeyError("k")) == "recovered"
    assert list(gen) == []
    span = only_span(exporter)
    assert span.status.is_ok
    assert attrs(span)["honeyhive_outputs.count"] == 2


async def test_async_generator(exporter: InMemorySpanExporter) -> None:
    @trace(event_type="model")
    async def stream(words: list[str]) -> AsyncIterator[str]:
        for w in words:
            await asyncio.sleep(0)
            yield w

    assert [w async for w in stream(["a", "b"])] == ["a", "b"]
    a = attrs(only_span(exporter))
    assert a["honeyhive_inputs.words.1"] == "b"
    assert a["honeyhive_outputs.count"] == 2
    assert a["honeyhive_outputs.result.0"] == "a"
    assert a["honeyhive_event_type"] == "model"


async def test_async_generator_asend(exporter: InMemorySpanExporter) -> None:
    @trace
    async def doubler() -> AsyncGenerator[int, int | None]:
        got = yield 0
        while got is not None:
            got = yield got * 2

    agen = doubler()
    assert await agen.asend(None) == 0
    assert await agen.asend(21) == 42
    await agen.aclose()
    assert attrs(only_span(exporter))["honeyhive_outputs.count"] == 2


class Service:
    """A class with every kind of method, decorated in both orders."""

    factor = 3

    @trace
    def method(self, x: int) -> int:
        return x * self.factor

    @trace
    async def amethod(self, x: int) -> int:
        return x + 1

    @trace
    def gen_method(self, n: int) -> Iterator[int]:
        yield from range(n)

    @trace
    @staticmethod
    def static_outer(x: int) -> int:
        return x - 1

    @staticmethod
    @trace
    def static_inner(x: int) -> int:
        return x - 2

    @trace
    @classmethod
    def class_outer(cls, x: int) -> int:
        return x * cls.factor

    @classmethod
    @trace
    def class_inner(cls, x: int) -> int:
        return x * cls.factor + 1

    @trace
    @classmethod
    async def class_async(cls, x: int) -> int:
        return x

    @trace
    def __call__(self, x: int) -> int:
        return x * 100


@pytest.mark.parametrize(
    ("call", "expected", "event_name"),
    [
        (lambda s: s.method(2), 6, "Service.method"),
        (lambda s: Service.method(s, 2), 6, "Service.method"),
        (lambda s: s.static_outer(5), 4, "Service.static_outer"),
        (lambda s: Service.static_outer(5), 4, "Service.static_outer"),
        (lambda s: s.static_inner(5), 3, "Service.static_inner"),
        (lambda s: Service.static_inner(5), 3, "Service.static_inner"),
        (lambda s: s.class_outer(2), 6, "Service.class_outer"),
        (lambda s: Service.class_outer(2), 6, "Service.class_outer"),
        (lambda s: s.class_inner(2), 7, "Service.class_inner"),
        (lambda s: Service.class_inner(2), 7, "Service.class_inner"),
        (lambda s: s(2), 200, "Service.__call__"),
    ],
)
def test_methods(
    exporter: InMemorySpanExporter, call: Any, expected: int, event_name: str
) -> None:
    assert call(Service()) == expected
    a = attrs(only_span(exporter))
    assert a["honeyhive_event_name"] == event_name
    # Bound arguments without self/cls.
    inputs = {k: v for k, v in a.items() if k.startswith("honeyhive_inputs.")}
    assert list(inputs) == ["honeyhive_inputs.x"]
    assert a["honeyhive_outputs.result"] == expected


async def test_async_methods(exporter: InMemorySpanExporter) -> None:
    s = Service()
    assert await s.amethod(1) == 2
    assert await Service.class_async(7) == 7
    names = [attrs(sp)["honeyhive_event_name"] for sp in finished(exporter)]
    assert names == ["Service.amethod", "Service.class_async"]
    for sp in finished(exporter):
        assert "honeyhive_inputs.self" not in attrs(sp)
        assert "honeyhive_inputs.cls" not in attrs(sp)


def test_generator_method(exporter: InMemorySpanExporter) -> None:
    assert list(Service().gen_method(2)) == [0, 1]
    a = attrs(only_span(exporter))
    assert a["honeyhive_inputs.n"] == 2
    assert "honeyhive_inputs.self" not in a


def test_callable_object_and_nested_class(exporter: InMemorySpanExporter) -> None:
    class Scorer:
        def __call__(self, text: str) -> int:
            return len(text)

    scored = trace(Scorer(), event_name="scorer")
    assert scored("abcd") == 4
    assert attrs(only_span(exporter))["honeyhive_inputs.text"] == "abcd"


def test_partial_is_traceable(exporter: InMemorySpanExporter) -> None:
    def power(base: int, exp: int) -> int:
        return int(base**exp)

    square = trace(functools.partial(power, exp=2), event_name="square")
    assert square(3) == 9
    a = attrs(only_span(exporter))
    assert a["honeyhive_inputs.base"] == 3
    assert a["honeyhive_outputs.result"] == 9


def _plain(a: int, *, b: str = "x") -> str:
    """Docstring of plain."""
    return f"{a}{b}"


async def _coro(a: int) -> int:
    """Docstring of coro."""
    return a


def _gen(a: int) -> Iterator[int]:
    """Docstring of gen."""
    yield a


async def _agen(a: int) -> AsyncIterator[int]:
    """Docstring of agen."""
    yield a


@pytest.mark.parametrize("func", [_plain, _coro, _gen, _agen])
@pytest.mark.parametrize("form", ["bare", "called"])
def test_inspect_preserved(func: Any, form: str) -> None:
    traced = trace(func) if form == "bare" else trace(event_type="chain")(func)
    assert traced.__name__ == func.__name__
    assert traced.__qualname__ == func.__qualname__
    assert traced.__doc__ == func.__doc__
    assert traced.__module__ == func.__module__
    assert traced.__wrapped__ is func
    assert inspect.signature(traced) == inspect.signature(func)
    assert inspect.iscoroutinefunction(traced) == inspect.iscoroutinefunction(func)
    assert inspect.isgeneratorfunction(traced) == inspect.isgeneratorfunction(func)
    assert inspect.isasyncgenfunction(traced) == inspect.isasyncgenfunction(func)
    assert asyncio.iscoroutinefunction(traced) == asyncio.iscoroutinefunction(func)
    assert inspect.unwrap(traced) is func


def test_inspect_preserved_on_methods() -> None:
    s = Service()
    assert list(inspect.signature(s.method).parameters) == ["x"]
    assert list(inspect.signature(Service.method).parameters) == ["self", "x"]
    assert inspect.iscoroutinefunction(s.amethod)
    assert inspect.iscoroutinefunction(Service.class_async)
    assert inspect.isgeneratorfunction(s.gen_method)
    assert Service.static_outer.__name__ == "static_outer"
    assert Service.class_inner.__qualname__ == "Service.class_inner"
    assert list(inspect.signature(Service.class_outer).parameters) == ["x"]


def test_returned_generator_looks_like_the_users(exporter: InMemorySpanExporter) -> None:
    gen = trace(_gen)(1)
    assert inspect.isgenerator(gen)
    assert gen.__name__ == "_gen"
    assert gen.__qualname__ == "_gen"
    assert list(gen) == [1]


def test_trace_on_a_class_traces_its_methods(exporter: InMemorySpanExporter) -> None:
    @trace(event_type="chain")
    class Agent:
        def act(self) -> str:
            return "ok"

    assert Agent().act() == "ok"
    a = attrs(only_span(exporter))
    assert a["honeyhive_event_name"].endswith("Agent.act")
    assert a["honeyhive_event_type"] == "chain"


def test_classmethod_over_wrapper_without_descriptor_chaining(
    exporter: InMemorySpanExporter,
) -> None:
    # Python >= 3.13 no longer chains classmethod.__get__ through the wrapped
    # object: the class arrives as the first positional argument instead.
    def make(cls: type, x: int) -> int:
        return x

    traced = trace(make, event_name="make")
    assert types.MethodType(traced, Service)(4) == 4
    a = attrs(only_span(exporter))
    assert a["honeyhive_inputs.x"] == 4
    assert "honeyhive_inputs.cls" not in a

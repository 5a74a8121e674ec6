"""Exceptions pass through unchanged; the span records them exactly once."""

from __future__ import annotations

import asyncio
import gc
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from honeyhive_agent import trace
from tests.decorators._helpers import attrs, finished, only_span


class QuotaError(RuntimeError):
    class Nested(Exception):
        pass


RAISED = QuotaError("quota exceeded for key sk-123")


def _assert_error_span(span: ReadableSpan, exc: BaseException, type_name: str) -> None:
    a = attrs(span)
    assert span.status.status_code is StatusCode.ERROR
    assert a["error.type"] == type_name
    assert a["honeyhive_error"] == str(exc)
    events = [e for e in span.events if e.name == "exception"]
    assert len(events) == 1
    assert events[0].attributes is not None
    assert events[0].attributes["exception.message"] == str(exc)
    assert "honeyhive_outputs.result" not in a


def _line_of(marker: str) -> int:
    with open(__file__) as f:
        for number, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return number
    raise AssertionError(marker)


@trace
def _fails(x: int) -> int:
    raise RAISED  # raise-here-sync


def test_sync_exception_identity_traceback_and_span(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(QuotaError) as info:
        _fails(1)
    assert info.value is RAISED
    frames = traceback.extract_tb(info.value.__traceback__)
    # The original raising frame is still at the bottom of the traceback.
    assert frames[-1].name == "_fails"
    assert frames[-1].lineno == _line_of("raise-here-sync")
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    span = only_span(exporter)
    _assert_error_span(span, RAISED, "QuotaError")
    assert attrs(span)["honeyhive_inputs.x"] == 1


def test_nested_class_qualname_in_error_type(exporter: InMemorySpanExporter) -> None:
    @trace
    def boom() -> None:
        raise QuotaError.Nested("n")

    with pytest.raises(QuotaError.Nested):
        boom()
    assert attrs(only_span(exporter))["error.type"] == "QuotaError.Nested"


async def test_async_exception(exporter: InMemorySpanExporter) -> None:
    err = ValueError("bad input")

    @trace
    async def fails() -> None:
        await asyncio.sleep(0)
        raise err

    with pytest.raises(ValueError) as info:
        await fails()
    assert info.value is err
    assert traceback.extract_tb(info.value.__traceback__)[-1].name == "fails"
    _assert_error_span(only_span(exporter), err, "ValueError")


def test_generator_exception_mid_iteration(exporter: InMemorySpanExporter) -> None:
    err = KeyError("missing")

    @trace
    def gen() -> Iterator[int]:
        yield 1
        raise err

    got = []
    with pytest.raises(KeyError) as info:
        for item in gen():
            got.append(item)
    assert got == [1]
    assert info.value is err
    assert traceback.extract_tb(info.value.__traceback__)[-1].name == "gen"
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)["error.type"] == "KeyError"
    assert len([e for e in span.events if e.name == "exception"]) == 1


async def test_async_generator_exception(exporter: InMemorySpanExporter) -> None:
    err = OSError("stream broke")

    @trace
    async def agen() -> AsyncIterator[int]:
        yield 1
        raise err

    with pytest.raises(OSError) as info:
        async for _ in agen():
            pass
    assert info.value is err
    _assert_error_span(only_span(exporter), err, "OSError")


def test_exception_thrown_into_generator_and_not_handled(
    exporter: InMemorySpanExporter,
) -> None:
    @trace
    def gen() -> Generator[int, None, None]:
        yield 1
        yield 2

    g = gen()
    next(g)
    err = TimeoutError("caller gave up")
    with pytest.raises(TimeoutError) as info:
        g.throw(err)
    assert info.value is err
    assert attrs(only_span(exporter))["error.type"] == "TimeoutError"


def test_exception_caught_by_caller_makes_no_extra_spans(
    exporter: InMemorySpanExporter,
) -> None:
    @trace
    def inner() -> None:
        raise ValueError("x")

    @trace
    def outer() -> str:
        try:
            inner()
        except ValueError:
            return "handled"
        return "unreachable"

    assert outer() == "handled"
    spans = {s.name: s for s in finished(exporter)}
    assert len(finished(exporter)) == 2
    assert spans[inner.__qualname__].status.status_code is StatusCode.ERROR
    assert spans[outer.__qualname__].status.status_code is StatusCode.UNSET
    assert not spans[outer.__qualname__].events


def test_propagating_error_recorded_once_per_span(exporter: InMemorySpanExporter) -> None:
    @trace
    def inner() -> None:
        raise ValueError("deep")

    @trace
    def outer() -> None:
        inner()

    with pytest.raises(ValueError):
        outer()
    spans = finished(exporter)
    assert len(spans) == 2
    for span in spans:
        assert len([e for e in span.events if e.name == "exception"]) == 1


def test_generator_break_ends_span(exporter: InMemorySpanExporter) -> None:
    cleaned = []

    @trace
    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            cleaned.append(True)

    for item in endless():
        if item == 2:
            break
    # CPython closes the abandoned generator at once; the span ends with it.
    gc.collect()
    assert cleaned == [True]
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert attrs(span)["honeyhive_outputs.count"] == 3
    assert span.end_time is not None


def test_generator_explicit_close(exporter: InMemorySpanExporter) -> None:
    @trace
    def gen() -> Generator[int, None, None]:
        yield 1
        yield 2

    g = gen()
    assert next(g) == 1
    assert finished(exporter) == []
    g.close()
    assert attrs(only_span(exporter))["honeyhive_outputs.count"] == 1
    g.close()  # idempotent, like any generator
    assert len(finished(exporter)) == 1


def test_generator_never_iterated_makes_no_span(exporter: InMemorySpanExporter) -> None:
    @trace
    def gen() -> Iterator[int]:
        yield 1

    g = gen()
    del g
    gc.collect()
    assert finished(exporter) == []


async def test_async_generator_early_aclose(exporter: InMemorySpanExporter) -> None:
    closed = []

    @trace
    async def agen() -> AsyncGenerator[int, None]:
        try:
            for i in range(10):
                yield i
        finally:
            closed.append(True)

    g = agen()
    assert await g.__anext__() == 0
    assert await g.__anext__() == 1
    await g.aclose()
    assert closed == [True]
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert attrs(span)["honeyhive_outputs.count"] == 2


async def test_async_generator_break(exporter: InMemorySpanExporter) -> None:
    @trace
    async def agen() -> AsyncGenerator[int, None]:
        for i in range(10):
            yield i

    g = agen()
    async for item in g:
        if item == 1:
            break
    await g.aclose()
    assert attrs(only_span(exporter))["honeyhive_outputs.count"] == 2


async def test_cancelled_task_ends_its_span(exporter: InMemorySpanExporter) -> None:
    started = asyncio.Event()

    @trace
    async def slow() -> None:
        started.set()
        await asyncio.sleep(30)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = only_span(exporter)
    assert span.end_time is not None
    assert attrs(span)["error.type"] == "CancelledError"


def test_keyboard_interrupt_passes_through(exporter: InMemorySpanExporter) -> None:
    @trace
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert only_span(exporter).end_time is not None


def test_clean_system_exit_is_not_an_error(exporter: InMemorySpanExporter) -> None:
    @trace
    def main() -> None:
        raise SystemExit(0)

    with pytest.raises(SystemExit):
        main()
    assert only_span(exporter).status.status_code is StatusCode.UNSET


def test_hostile_str_still_reraises(exporter: InMemorySpanExporter) -> None:
    class Hostile(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str for you")

    err = Hostile()

    @trace
    def f() -> None:
        raise err

    with pytest.raises(Hostile) as info:
        f()
    assert info.value is err
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)["error.type"] == Hostile.__qualname__

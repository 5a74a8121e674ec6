"""Traced generators and async generators: one span over the whole iteration.

The span starts at the first ``next()`` (a generator that is never iterated
makes no span), is current while the generator body runs (and only then:
between items the caller's own context is back), and ends when the
generator is exhausted, raises, or is closed early (``break``, ``close()``,
garbage collection). ``send``/``throw``/``close`` are forwarded the way
``yield from`` forwards them. The parent is the context where the generator
was created, even if a different function ends up iterating it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from honeyhive_agent import semconv
from honeyhive_agent.decorators._calls import RESULT, Args, Kwargs, named_like
from honeyhive_agent.decorators._spans import end_span, fail_span, report
from honeyhive_agent.decorators._state import TraceSpec
from honeyhive_agent.serializer import Attributes, Serializer

__all__ = ["MAX_YIELDED_ITEMS", "AsyncGenTrace", "GenTrace"]

MAX_YIELDED_ITEMS = 100
"""How many yielded items a generator span keeps in ``honeyhive_outputs.result``."""

_COUNT = semconv.OUTPUTS + ".count"


class _Items:
    """The first :data:`MAX_YIELDED_ITEMS` yielded values and the total count."""

    __slots__ = ("count", "items", "keep")

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.items: list[Any] = []
        self.count = 0

    def add(self, item: Any) -> None:
        self.count += 1
        if self.keep and self.count <= MAX_YIELDED_ITEMS:
            self.items.append(item)

    def attributes(self, serializer: Serializer) -> Attributes:
        out: Attributes = {_COUNT: self.count}
        if self.keep:
            try:
                serializer.flatten_into(out, RESULT, self.items, content=True)
            except Exception as exc:  # noqa: BLE001
                report("outputs", exc)
        return out


def _step(ctx: Context, fn: Callable[[Any], Any], arg: Any) -> Any:
    __tracebackhide__ = True  # pytest: show the user's frames
    token = otel_context.attach(ctx)
    try:
        return fn(arg)
    finally:
        otel_context.detach(token)


def _close(gen: Generator[Any, Any, Any]) -> Callable[[Any], None]:
    return lambda _: gen.close()


class _GeneratorTrace(TraceSpec):
    """What both generator wrappers share: calling the function only builds
    the generator, which the subclass's ``_iterate`` wraps; the caller's
    current context becomes the span's parent.
    """

    __slots__ = ()

    def __call__(
        self, wrapped: Callable[..., Any], instance: Any, args: Args, kwargs: Kwargs
    ) -> Any:
        __tracebackhide__ = True  # pytest: show the user's frames
        hh = self.resolve()
        gen = wrapped(*args, **kwargs)
        if hh is None:
            return gen
        traced = self._iterate(hh, gen, instance, args, kwargs, otel_context.get_current())
        return named_like(traced, gen)

    def _iterate(
        self, hh: Any, gen: Any, instance: Any, args: Args, kwargs: Kwargs, parent: Context
    ) -> Any:
        raise NotImplementedError


class GenTrace(_GeneratorTrace):
    """A generator function: the span covers the whole iteration."""

    __slots__ = ()

    def _iterate(
        self,
        hh: Any,
        gen: Generator[Any, Any, Any],
        instance: Any,
        args: Args,
        kwargs: Kwargs,
        parent: Context,
    ) -> Generator[Any, Any, Any]:
        __tracebackhide__ = True  # pytest: show the user's frames
        started = self.start(hh, instance, args, kwargs, parent)
        if started is None:
            return (yield from gen)
        span, ctx, serializer = started
        items = _Items(serializer.capture_content)
        send_value: Any = None
        pending: BaseException | None = None
        attach, detach = otel_context.attach, otel_context.detach
        while True:
            # attach/detach inline rather than through _step: this runs per item.
            token = attach(ctx)
            try:
                if pending is None:
                    item = gen.send(send_value)
                else:
                    thrown, pending = pending, None
                    item = gen.throw(thrown)
            except StopIteration as stop:
                detach(token)
                end_span(span, items.attributes(serializer))
                return stop.value
            except BaseException as exc:
                detach(token)
                fail_span(span, exc, serializer)
                raise
            detach(token)
            items.add(item)
            try:
                send_value = yield item
            except GeneratorExit:
                # Early close (break, close(), garbage collection): let the
                # body's finally blocks run inside the span, then end it.
                try:
                    _step(ctx, _close(gen), None)
                except BaseException as exc:
                    fail_span(span, exc, serializer)
                    raise
                end_span(span, items.attributes(serializer))
                raise
            except BaseException as exc:  # noqa: BLE001 - forwarded into the body
                pending = exc
                send_value = None


async def _astep(ctx: Context, fn: Callable[[Any], Any], arg: Any) -> Any:
    __tracebackhide__ = True  # pytest: show the user's frames
    # attach/detach around the await is safe: the await suspends this task,
    # and other tasks run in their own contexts.
    token = otel_context.attach(ctx)
    try:
        return await fn(arg)
    finally:
        otel_context.detach(token)


def _aclose(agen: AsyncGenerator[Any, Any]) -> Callable[[Any], Any]:
    return lambda _: agen.aclose()


class AsyncGenTrace(_GeneratorTrace):
    """An async generator function: the span covers the whole iteration."""

    __slots__ = ()

    async def _iterate(
        self,
        hh: Any,
        agen: AsyncGenerator[Any, Any],
        instance: Any,
        args: Args,
        kwargs: Kwargs,
        parent: Context,
    ) -> AsyncGenerator[Any, Any]:
        __tracebackhide__ = True  # pytest: show the user's frames
        started = self.start(hh, instance, args, kwargs, parent)
        if started is None:
            span = None
            ctx = parent
            serializer = None
        else:
            span, ctx, serializer = started
        items = _Items(serializer is not None and serializer.capture_content)
        send_value: Any = None
        pending: BaseException | None = None
        while True:
            try:
                if pending is None:
                    item = await _astep(ctx, agen.asend, send_value)
                else:
                    thrown, pending = pending, None
                    item = await _astep(ctx, agen.athrow, thrown)
            except StopAsyncIteration:
                if span is not None and serializer is not None:
                    end_span(span, items.attributes(serializer))
                return
            except BaseException as exc:
                if span is not None and serializer is not None:
                    fail_span(span, exc, serializer)
                raise
            items.add(item)
            try:
                send_value = yield item
            except GeneratorExit:
                try:
                    await _astep(ctx, _aclose(agen), None)
                except BaseException as exc:
                    if span is not None and serializer is not None:
                        fail_span(span, exc, serializer)
                    raise
                if span is not None and serializer is not None:
                    end_span(span, items.attributes(serializer))
                raise
            except BaseException as exc:  # noqa: BLE001 - forwarded into the body
                pending = exc
                send_value = None

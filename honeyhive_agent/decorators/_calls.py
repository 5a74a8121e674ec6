"""The four call shapes a traced function can have, as ``wrapt`` wrappers.

Each class is the ``wrapper`` of a :class:`wrapt.FunctionWrapper`: it is
called as ``wrapper(wrapped, instance, args, kwargs)`` with ``wrapped``
already bound to ``instance`` for methods. The body of the user's function
always runs exactly once, with the same arguments, and its result or
exception reaches the caller unchanged; the span is opened around it only
when a tracer is available and nothing in the agent failed.

Generators are traced over their whole iteration: the span starts at the
first ``next()``, is current while the generator body runs (and only then:
between items the caller's own context is back), and ends when the
generator is exhausted, raises, or is closed early (``break``, ``close()``,
garbage collection). ``send``/``throw``/``close`` are forwarded the way
``yield from`` forwards them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from honeyhive_agent import semconv
from honeyhive_agent.decorators._spans import end_span, fail_span, report
from honeyhive_agent.decorators._state import TraceSpec
from honeyhive_agent.serializer import Attributes, Serializer

__all__ = ["MAX_YIELDED_ITEMS", "AsyncGenTrace", "AsyncTrace", "GenTrace", "SyncTrace"]

MAX_YIELDED_ITEMS = 100
"""How many yielded items a generator span keeps in ``honeyhive_outputs.result``."""

_RESULT = semconv.OUTPUTS + ".result"
_COUNT = semconv.OUTPUTS + ".count"

Args = tuple[Any, ...]
Kwargs = dict[str, Any]


def _outputs(serializer: Serializer, result: Any) -> Attributes | None:
    if not serializer.capture_content:
        return None
    try:
        return serializer.flatten(_RESULT, result, content=True)
    except Exception as exc:  # noqa: BLE001
        report("outputs", exc)
        return None


_G = TypeVar("_G")


def _named_like(obj: _G, original: Any) -> _G:
    """Give our generator/coroutine the user's names (reprs, asyncio warnings)."""
    try:
        obj.__name__ = original.__name__  # type: ignore[attr-defined]
        obj.__qualname__ = original.__qualname__  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    return obj


class SyncTrace(TraceSpec):
    """A plain function or method."""

    __slots__ = ()

    def __call__(
        self, wrapped: Callable[..., Any], instance: Any, args: Args, kwargs: Kwargs
    ) -> Any:
        hh = self.resolve()
        started = None if hh is None else self.start(hh, instance, args, kwargs)
        if started is None:
            return wrapped(*args, **kwargs)
        span, ctx, serializer = started
        token = otel_context.attach(ctx)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            otel_context.detach(token)
            fail_span(span, exc, serializer)
            raise
        otel_context.detach(token)
        end_span(span, _outputs(serializer, result))
        return result


class AsyncTrace(TraceSpec):
    """An ``async def`` function or method: the span covers the awaited body."""

    __slots__ = ()

    def __call__(
        self, wrapped: Callable[..., Any], instance: Any, args: Args, kwargs: Kwargs
    ) -> Coroutine[Any, Any, Any]:
        return _named_like(self._run(wrapped, instance, args, kwargs), wrapped)

    async def _run(
        self, wrapped: Callable[..., Any], instance: Any, args: Args, kwargs: Kwargs
    ) -> Any:
        # Resolved when awaited, not when called: the span's parent is the
        # context of the task that runs the coroutine.
        hh = self.resolve()
        started = None if hh is None else self.start(hh, instance, args, kwargs)
        if started is None:
            return await wrapped(*args, **kwargs)
        span, ctx, serializer = started
        token = otel_context.attach(ctx)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            otel_context.detach(token)
            fail_span(span, exc, serializer)
            raise
        otel_context.detach(token)
        end_span(span, _outputs(serializer, result))
        return result


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
                serializer.flatten_into(out, _RESULT, self.items, content=True)
            except Exception as exc:  # noqa: BLE001
                report("outputs", exc)
        return out


def _step(ctx: Context, fn: Callable[[Any], Any], arg: Any) -> Any:
    token = otel_context.attach(ctx)
    try:
        return fn(arg)
    finally:
        otel_context.detach(token)


def _close(gen: Generator[Any, Any, Any]) -> Callable[[Any], None]:
    return lambda _: gen.close()


class GenTrace(TraceSpec):
    """A generator function: the span covers the whole iteration."""

    __slots__ = ()

    def __call__(
        self, wrapped: Callable[..., Any], instance: Any, args: Args, kwargs: Kwargs
    ) -> Any:
        hh = self.resolve()
        gen = wrapped(*args, **kwargs)
        if hh is None:
            return gen
        # The parent is where the generator was created, even if a different
        # function ends up iterating it.
        traced = self._iterate(hh, gen, instance, args, kwargs, otel_context.get_current())
        return _named_like(traced, gen)

    def _iterate(
        self,
        hh: Any,
        gen: Generator[Any, Any, Any],
        instance: Any,
        args: Args,
        kwargs: Kwargs,
        parent: Context,
    ) -> Generator[Any, Any, Any]:
        started = self.start(hh, instance, args, kwargs, parent)
        if started is None:
            return (yield from gen)
        span, ctx, serializer = started
        items = _Items(serializer.capture_content)
        send_value: Any = None
        pending: BaseException | None = None
        while True:
            try:
                if pending is None:
                    item = _step(ctx, gen.send, send_value)
                else:
                    thrown, pending = pending, None
                    item = _step(ctx, gen.throw, thrown)
            except StopIteration as stop:
                end_span(span, items.attributes(serializer))
                return stop.value
            except BaseException as exc:
                fail_span(span, exc, serializer)
                raise
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
    # attach/detach around the await is safe: the await suspends this task,
    # and other tasks run in their own contexts.
    token = otel_context.attach(ctx)
    try:
        return await fn(arg)
    finally:
        otel_context.detach(token)


def _aclose(agen: AsyncGenerator[Any, Any]) -> Callable[[Any], Any]:
    return lambda _: agen.aclose()


class AsyncGenTrace(TraceSpec):
    """An async generator function: the span covers the whole iteration."""

    __slots__ = ()

    def __call__(
        self, wrapped: Callable[..., Any], instance: Any, args: Args, kwargs: Kwargs
    ) -> Any:
        hh = self.resolve()
        agen = wrapped(*args, **kwargs)
        if hh is None:
            return agen
        traced = self._iterate(hh, agen, instance, args, kwargs, otel_context.get_current())
        return _named_like(traced, agen)

    async def _iterate(
        self,
        hh: Any,
        agen: AsyncGenerator[Any, Any],
        instance: Any,
        args: Args,
        kwargs: Kwargs,
        parent: Context,
    ) -> AsyncGenerator[Any, Any]:
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

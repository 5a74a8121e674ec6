"""Traced functions and coroutines, as ``wrapt`` wrappers.

Each class here and in :mod:`._generators` is the ``wrapper`` of a
:class:`wrapt.FunctionWrapper`: it is called as ``wrapper(wrapped, instance,
args, kwargs)`` with ``wrapped`` already bound to ``instance`` for methods.
The body of the user's function always runs exactly once, with the same
arguments, and its result or exception reaches the caller unchanged; the
span is opened around it only when a tracer is available and nothing in the
agent failed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from opentelemetry import context as otel_context

from honeyhive_agent import semconv
from honeyhive_agent.decorators._spans import end_span, fail_span, report
from honeyhive_agent.decorators._state import TraceSpec
from honeyhive_agent.serializer import Attributes, Serializer

__all__ = ["AsyncTrace", "SyncTrace", "named_like"]

RESULT = semconv.OUTPUTS + ".result"

Args = tuple[Any, ...]
Kwargs = dict[str, Any]


def _outputs(serializer: Serializer, result: Any) -> Attributes | None:
    if not serializer.capture_content:
        return None
    try:
        return serializer.flatten(RESULT, result, content=True)
    except Exception as exc:  # noqa: BLE001
        report("outputs", exc)
        return None


_G = TypeVar("_G")


def named_like(obj: _G, original: Any) -> _G:
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
        __tracebackhide__ = True  # pytest: show the user's frames
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
        __tracebackhide__ = True  # pytest: show the user's frames
        return named_like(self._run(wrapped, instance, args, kwargs), wrapped)

    async def _run(
        self, wrapped: Callable[..., Any], instance: Any, args: Args, kwargs: Kwargs
    ) -> Any:
        __tracebackhide__ = True  # pytest: show the user's frames
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

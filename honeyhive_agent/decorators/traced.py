"""``@trace``: one span per call of a function, method or generator.

Usage::

    @trace
    def retrieve(query: str) -> list[str]: ...

    @trace(event_type="chain", event_name="answer", metadata={"v": 2}, tracer="research")
    async def answer(question: str) -> str: ...

Works on sync and async functions, sync and async generators, methods,
``staticmethod`` and ``classmethod`` (either decorator order). The decorated
object is a :class:`wrapt.FunctionWrapper`, so name, qualname, docstring,
``__wrapped__``, :func:`inspect.signature` and the ``inspect.is*function``
checks all answer as for the undecorated function.

Span attributes: ``honeyhive_event_type``, ``honeyhive_event_name``,
``honeyhive_inputs.<param>`` (bound arguments with defaults, without
``self``/``cls``), ``honeyhive_outputs.result`` (the return value, or for
generators the first :data:`MAX_YIELDED_ITEMS` yielded items plus
``honeyhive_outputs.count``), ``honeyhive_config.*`` and
``honeyhive_metadata.*``. Inputs and outputs are content: the tracer's
``capture_content`` and ``redact`` apply. On an exception the span gets
status ERROR, ``error.type``, ``honeyhive_error`` and one exception event,
and the exception propagates unchanged.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

import wrapt

from honeyhive_agent import semconv
from honeyhive_agent._log import warn_once
from honeyhive_agent.decorators._calls import AsyncTrace, SyncTrace
from honeyhive_agent.decorators._generators import MAX_YIELDED_ITEMS, AsyncGenTrace, GenTrace
from honeyhive_agent.decorators._spans import TracerSpec, report
from honeyhive_agent.decorators._state import TraceSpec

__all__ = ["MAX_YIELDED_ITEMS", "TracedFunction", "is_traced", "trace"]

T = TypeVar("T")

DEFAULT_EVENT_TYPE = "tool"


def _by_qualname(module: str, qualname: str) -> Any:
    """Unpickle helper: ``module.Outer.name`` looked up attribute by attribute."""
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class TracedBoundFunction(wrapt.BoundFunctionWrapper):  # type: ignore[type-arg,misc]
    """A traced method bound to its instance or class (``obj.method``)."""

    def __reduce_ex__(self, protocol: object) -> Any:
        # Like a bound method: pickled as getattr(receiver, name), so
        # ``ProcessPoolExecutor.submit(obj.method)`` works as without @trace.
        receiver = self._self_instance
        if receiver is None:
            # A classmethod's class, or the owner a staticmethod was read from
            # (wrapt < 2 has no _self_owner).
            receiver = getattr(self.__wrapped__, "__self__", None)
        if receiver is None:
            receiver = getattr(self, "_self_owner", None)
        if receiver is None:
            return _by_qualname, (self.__module__, self.__qualname__)
        return getattr, (receiver, self.__name__)

    def __copy__(self) -> TracedBoundFunction:
        return self

    def __deepcopy__(self, memo: object) -> TracedBoundFunction:
        return self


class TracedFunction(wrapt.FunctionWrapper):  # type: ignore[type-arg,misc]
    """The object ``@trace`` returns: a transparent proxy of the function.

    Pickled by reference (module and qualified name) like a plain function,
    so decorated functions still cross process boundaries
    (``multiprocessing``, ``ProcessPoolExecutor``); copying returns itself.
    """

    __bound_function_wrapper__ = TracedBoundFunction

    def __reduce_ex__(self, protocol: Any) -> Any:
        wrapped = self.__wrapped__
        if inspect.isfunction(wrapped) or isinstance(wrapped, staticmethod | classmethod):
            return self.__qualname__
        # A traced partial or callable object: pickle what it wraps (the copy
        # in the other process runs untraced, as it would without the agent).
        return wrapped.__reduce_ex__(protocol)

    def __copy__(self) -> TracedFunction:
        return self

    def __deepcopy__(self, memo: object) -> TracedFunction:
        return self


def is_traced(obj: Any) -> bool:
    """Whether ``obj`` (or the function inside a static/class method) is ``@trace``-d."""
    # Test the proxy first: it answers isinstance(..., staticmethod) for a
    # wrapped staticmethod.
    if isinstance(obj, TracedFunction):
        return True
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    return isinstance(obj, TracedFunction)


def _spec_class(func: Callable[..., Any]) -> type[TraceSpec]:
    if inspect.isasyncgenfunction(func):
        return AsyncGenTrace
    if inspect.iscoroutinefunction(func):
        return AsyncTrace
    if inspect.isgeneratorfunction(func):
        return GenTrace
    return SyncTrace


def _event_type(value: str | None) -> str:
    if value is None:
        return DEFAULT_EVENT_TYPE
    if value not in semconv.EVENT_TYPES:
        warn_once(
            f"decorators.event_type.{value}",
            "@trace: event_type %r is not one of %s; using %r",
            value,
            ", ".join(semconv.EVENT_TYPES),
            DEFAULT_EVENT_TYPE,
        )
        return DEFAULT_EVENT_TYPE
    return value


def _decorate(
    target: Any,
    *,
    event_type: str | None,
    event_name: str | None,
    config: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    tracer: TracerSpec,
) -> Any:
    try:
        if isinstance(target, type):
            from honeyhive_agent.decorators.traced_class import trace_class

            return trace_class(
                target, event_type=event_type, config=config, metadata=metadata, tracer=tracer
            )
        func = target.__func__ if isinstance(target, staticmethod | classmethod) else target
        if not callable(func):
            warn_once(
                "decorators.not-callable",
                "@trace: %r is not callable; left undecorated",
                target,
            )
            return target
        name = event_name or getattr(func, "__qualname__", None) or getattr(
            func, "__name__", None
        )
        spec = _spec_class(func)(
            func,
            event_type=_event_type(event_type),
            event_name=str(name or type(func).__name__),
            config=config,
            metadata=metadata,
            tracer=tracer,
        )
        return TracedFunction(target, spec)
    except Exception as exc:  # noqa: BLE001 - a decorator must never break an import
        report("decoration", exc)
        return target


@overload
def trace(func: T, /) -> T: ...


@overload
def trace(
    func: None = None,
    /,
    *,
    event_type: str | None = None,
    event_name: str | None = None,
    config: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    tracer: TracerSpec = None,
) -> Callable[[T], T]: ...


@overload
def trace(
    func: T,
    /,
    *,
    event_type: str | None = None,
    event_name: str | None = None,
    config: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    tracer: TracerSpec = None,
) -> T: ...


def trace(
    func: Any = None,
    /,
    *,
    event_type: str | None = None,
    event_name: str | None = None,
    config: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    tracer: TracerSpec = None,
) -> Any:
    """Trace every call of the decorated callable as one span.

    Use bare (``@trace``), called (``@trace(event_type="chain", ...)``) or
    directly (``trace(func, event_name="step")``).

    Arguments:

    * **event_type** - ``"tool"`` (default), ``"chain"``, ``"model"`` or ``"session"``.
    * **event_name** - the span and event name; default: the function's ``__qualname__``.
    * **config**, **metadata** - mappings recorded as ``honeyhive_config.*`` and
      ``honeyhive_metadata.*`` on every span.
    * **tracer** - the name of the tracer to route to (default ``"default"``),
      or a ``HoneyHiveTracer``.

    With the agent disabled (or if anything inside it fails) the function
    runs exactly as if undecorated. Decorating a class is the same as
    :func:`~honeyhive_agent.decorators.trace_class`.
    """
    options: dict[str, Any] = {
        "event_type": event_type,
        "event_name": event_name,
        "config": config,
        "metadata": metadata,
        "tracer": tracer,
    }
    if func is None:
        return lambda target: _decorate(target, **options)
    return _decorate(func, **options)

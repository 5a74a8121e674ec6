"""``@trace_class``: ``@trace`` on every public method a class defines.

Usage::

    @trace_class
    class Retriever:
        def search(self, q): ...           # traced
        async def rerank(self, docs): ...  # traced
        @staticmethod
        def normalize(q): ...              # traced
        @trace_class.skip
        def health(self): ...              # not traced (or: exclude=["health"])
        def _cache_key(self, q): ...       # private: not traced
        @property
        def size(self): ...                # properties are left alone

Only methods defined on the class itself are wrapped (not inherited ones,
which their own class may trace). Methods already decorated with ``@trace``
keep their own options.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

from honeyhive_agent.decorators._spans import TracerSpec, report
from honeyhive_agent.decorators.traced import is_traced, trace

__all__ = ["no_trace", "trace_class"]

T = TypeVar("T")
C = TypeVar("C", bound=type)

_SKIP_ATTR = "__honeyhive_no_trace__"


def no_trace(func: T) -> T:
    """Mark a method so :func:`trace_class` leaves it undecorated."""
    target = func.__func__ if isinstance(func, staticmethod | classmethod) else func
    with contextlib.suppress(AttributeError, TypeError):
        setattr(target, _SKIP_ATTR, True)
    return func


def _skipped(value: Any) -> bool:
    target = value.__func__ if isinstance(value, staticmethod | classmethod) else value
    return bool(getattr(target, _SKIP_ATTR, False))


def _traceable(name: str, value: Any, exclude: frozenset[str]) -> bool:
    if name.startswith("_") or name in exclude:
        return False
    if isinstance(value, staticmethod | classmethod):
        func = value.__func__
    elif inspect.isfunction(value):
        func = value
    else:
        # Properties, nested classes, plain attributes, other descriptors.
        return False
    return inspect.isfunction(func) and not is_traced(value) and not _skipped(value)


def _apply(
    cls: C,
    *,
    event_type: str | None,
    exclude: Iterable[str],
    config: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    tracer: TracerSpec,
) -> C:
    try:
        excluded = frozenset([exclude] if isinstance(exclude, str) else exclude)
        for name, value in list(vars(cls).items()):
            if _traceable(name, value, excluded):
                setattr(
                    cls,
                    name,
                    trace(
                        value,
                        event_type=event_type,
                        config=config,
                        metadata=metadata,
                        tracer=tracer,
                    ),
                )
    except Exception as exc:  # noqa: BLE001 - never break the class definition
        report("class decoration", exc)
    return cls


class _TraceClass:
    """Trace the public methods (sync, async, generators, static, class) of a class.

    Use bare (``@trace_class``) or called (``@trace_class(event_type="chain",
    exclude=["health"], tracer="research")``). Names starting with ``_`` are
    never traced; opt a public method out with ``@trace_class.skip``
    (:func:`no_trace`) or ``exclude=``. ``config``/``metadata`` apply to every
    traced method.
    """

    skip = staticmethod(no_trace)

    @overload
    def __call__(self, cls: C, /) -> C: ...

    @overload
    def __call__(
        self,
        cls: None = None,
        /,
        *,
        event_type: str | None = None,
        exclude: Iterable[str] = (),
        config: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        tracer: TracerSpec = None,
    ) -> Callable[[C], C]: ...

    @overload
    def __call__(
        self,
        cls: C,
        /,
        *,
        event_type: str | None = None,
        exclude: Iterable[str] = (),
        config: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        tracer: TracerSpec = None,
    ) -> C: ...

    def __call__(
        self,
        cls: Any = None,
        /,
        *,
        event_type: str | None = None,
        exclude: Iterable[str] = (),
        config: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        tracer: TracerSpec = None,
    ) -> Any:
        options: dict[str, Any] = {
            "event_type": event_type,
            "exclude": exclude,
            "config": config,
            "metadata": metadata,
            "tracer": tracer,
        }
        if cls is None:
            return lambda target: _apply(target, **options)
        return _apply(cls, **options)

    def __repr__(self) -> str:
        return "<honeyhive_agent.trace_class>"


trace_class = _TraceClass()

"""Per-function tracing state: fixed attributes, argument binding, span start.

One :class:`TraceSpec` is built when a function is decorated. Everything
that does not change between calls (event type and name, the flattened
``config``/``metadata``, the OpenTelemetry tracer) is computed once per
resolved tracer and reused, so a traced call costs one registry lookup, one
argument bind and one ``start_span``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import Span, Tracer, set_span_in_context

from honeyhive_agent import semconv
from honeyhive_agent.decorators._binding import ArgumentBinder
from honeyhive_agent.decorators._spans import TRACER_KEY, TracerSpec, report, resolve_tracer
from honeyhive_agent.decorators.context import install_thread_context_propagation
from honeyhive_agent.serializer import Attributes, Serializer

if TYPE_CHECKING:
    from honeyhive_agent.tracer import HoneyHiveTracer

__all__ = ["Started", "TraceSpec"]

Started = tuple[Span, Context, Serializer]
"""A started span, the context to run the body in, and the serializer to use."""

_INPUTS_PREFIX = semconv.INPUTS + "."


class TraceSpec:
    """What ``@trace(...)`` was asked to do for one function."""

    __slots__ = ("_cache", "binder", "config", "event_name", "event_type", "metadata", "tracer")

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        event_type: str,
        event_name: str,
        config: Mapping[str, Any] | None,
        metadata: Mapping[str, Any] | None,
        tracer: TracerSpec,
    ) -> None:
        self.event_type = event_type
        self.event_name = event_name
        self.config = config
        self.metadata = metadata
        self.tracer = tracer
        self.binder = ArgumentBinder(func)
        # (tracer, its OpenTelemetry tracer, serializer, fixed attributes),
        # rebuilt when the registry hands out a different tracer. Replaced as
        # a whole, so concurrent callers never see half of it.
        self._cache: tuple[HoneyHiveTracer, Tracer, Serializer, Attributes] | None = None

    def __call__(
        self,
        wrapped: Callable[..., Any],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """The ``wrapt`` wrapper: run one call of ``wrapped``, traced."""
        raise NotImplementedError

    def resolve(self) -> HoneyHiveTracer | None:
        """The tracer for this call, or None to run untraced."""
        return resolve_tracer(self.tracer)

    def _fixed(self, hh: HoneyHiveTracer) -> tuple[HoneyHiveTracer, Tracer, Serializer, Attributes]:
        cache = self._cache
        if cache is not None and cache[0] is hh:
            return cache
        serializer = hh.serializer
        fixed: Attributes = {
            semconv.EVENT_TYPE: self.event_type,
            semconv.EVENT_NAME: self.event_name,
        }
        if self.config:
            serializer.flatten_into(fixed, semconv.CONFIG, self.config)
        if self.metadata:
            serializer.flatten_into(fixed, semconv.METADATA, self.metadata)
        cache = (hh, hh.get_otel_tracer(), serializer, fixed)
        # Spans are about to exist: from now on they must follow work into
        # pool threads. Not earlier, so a disabled agent patches nothing.
        install_thread_context_propagation()
        self._cache = cache
        return cache

    def start(
        self,
        hh: HoneyHiveTracer,
        instance: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        parent: Context | None = None,
    ) -> Started | None:
        """Start this call's span under ``parent`` (default: the current context).

        Returns None (after one logged warning) if anything in the agent
        fails; the caller then runs the function untraced.
        """
        try:
            _, otel_tracer, serializer, fixed = self._fixed(hh)
            attributes = dict(fixed)
            if serializer.capture_content:
                bound = self.binder.bind(args, kwargs, receiver_bound=instance is not None)
                for name, value in bound.items():
                    serializer.flatten_into(
                        attributes, _INPUTS_PREFIX + name, value, content=True
                    )
            if parent is None:
                parent = otel_context.get_current()
            span = otel_tracer.start_span(
                self.event_name,
                context=parent,
                attributes=attributes,
                record_exception=False,
                set_status_on_exception=False,
            )
            ctx = set_span_in_context(span, otel_context.set_value(TRACER_KEY, hh, parent))
        except Exception as exc:  # noqa: BLE001 - never break the user's call
            report("span start", exc)
            return None
        return span, ctx, serializer

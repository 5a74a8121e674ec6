"""Emit a span that is already finished straight to a tracer's processors.

An instrumented LLM call knows all of its span (name, kind, start and end
times, every attribute) only when it ends. The SDK way to record it,
``start_span(...)`` then ``end()``, builds a mutable span, validates every
attribute, runs each processor's ``on_start`` and copies the span into a
``ReadableSpan`` for ``on_end``: on the app's thread, right after the LLM
SDK has evicted the OpenTelemetry code from the CPU caches, that costs
40-60 µs for one span. :class:`FinishedSpanEmitter` builds the
``ReadableSpan`` once and hands it to ``on_end``, which is all the
processors of a typical pipeline (batch and simple exporting processors,
the session stamper) act on: about 8 µs.

It is only used when the result is the same as the SDK's:

* the tracer is an SDK ``Tracer`` with a ``SynchronousMultiSpanProcessor``
  whose processors do nothing at start, or only stamp attributes
  (:class:`~honeyhive_agent.tracer.processor.AttributeStampingProcessor`);
* every attribute is already valid (non-empty ``str`` keys; ``str``,
  ``bool``, ``int``, ``float`` or homogeneous tuples of them) and within the
  span limits, so the SDK would not change, truncate or drop any;
* the tracer is enabled.

Otherwise :meth:`FinishedSpanEmitter.emit` returns ``False`` and the caller
records the span the SDK way. The sampler, id generator, resource and
instrumentation scope are the tracer's own, so sampling decisions, ids and
exported spans do not change. A processor added later (to the provider) is
seen at the next span.

What is skipped: the SDK's experimental self-metrics for the span
(``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED``), and ``on_start`` of the
processors that do nothing there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace as otel_trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import (
    ReadableSpan,
    SpanProcessor,
    SynchronousMultiSpanProcessor,
    sampling,
)
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from honeyhive_agent._log import logger
from honeyhive_agent.tracer.processor import AttributeStampingProcessor

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace.sampling import Sampler

__all__ = ["FinishedSpanEmitter"]

_SCALARS = frozenset((str, bool, int, float))
_UNSET = Status(StatusCode.UNSET)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
# TraceFlags.RANDOM_TRACE_ID (W3C Trace Context level 2) exists in SDKs >= 1.39.
_RANDOM_FLAG: int = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)


def _noop_hooks() -> frozenset[Any]:
    """``on_start`` / ``_on_ending`` implementations known to do nothing."""
    hooks = set()
    for cls in (SpanProcessor, SimpleSpanProcessor, BatchSpanProcessor):
        for name in ("on_start", "_on_ending"):
            hook = vars(cls).get(name)
            if hook is not None:
                hooks.add(hook)
    return frozenset(hooks)


_NOOP_HOOKS = _noop_hooks()


def _acts_before_end(processor: SpanProcessor) -> bool:
    """True when ``processor`` does something in ``on_start`` or ``_on_ending``."""
    for name in ("on_start", "_on_ending"):
        for cls in type(processor).__mro__:
            hook = vars(cls).get(name)
            if hook is not None:
                if hook not in _NOOP_HOOKS:
                    return True
                break
    return False


def _valid(attributes: Mapping[str, Any]) -> bool:
    """True when the SDK would keep every attribute exactly as it is.

    Keys are ``str`` by the callers' typing; an empty one is invalid.
    """
    scalars = _SCALARS
    for value in attributes.values():
        cls = value.__class__
        if cls not in scalars:
            if cls is not tuple or not value:
                return False
            first = value[0].__class__
            if first not in scalars:
                return False
            for item in value:
                if item.__class__ is not first:
                    return False
    return "" not in attributes


class FinishedSpanEmitter:
    """Records complete spans for one SDK tracer without the SDK's span object.

    Build it with :meth:`for_tracer`; call :meth:`emit` per span. Thread-safe.
    """

    __slots__ = (
        "_default_sampler",
        "_enabled",
        "_id_generator",
        "_info",
        "_lock",
        "_max_attributes",
        "_multi",
        "_processors",
        "_random_ids",
        "_resource",
        "_sampler",
        "_scope",
        "_stampers",
        "_usable",
    )

    def __init__(self, tracer: SdkTracer, multi: SynchronousMultiSpanProcessor) -> None:
        self._multi = multi
        self._sampler: Sampler = tracer.sampler
        # The SDK's default, ParentBased(ALWAYS_ON), decided inline below.
        self._default_sampler = self._sampler is getattr(sampling, "DEFAULT_ON", None)
        self._id_generator = tracer.id_generator
        self._resource = tracer.resource
        self._info = tracer.instrumentation_info
        self._scope = tracer._instrumentation_scope
        limits = tracer._span_limits
        # An attribute length limit truncates values: leave that to the SDK.
        self._max_attributes: int | None = (
            limits.max_span_attributes if limits.max_span_attribute_length is None else 0
        )
        is_random = getattr(self._id_generator, "is_trace_id_random", None)
        self._random_ids = bool(is_random()) if callable(is_random) else False
        enabled = getattr(tracer, "_is_enabled", None)
        self._enabled: Callable[[], bool] = enabled if callable(enabled) else _always
        self._lock = threading.Lock()
        self._processors: tuple[SpanProcessor, ...] | None = None
        self._stampers: tuple[AttributeStampingProcessor, ...] = ()
        self._usable = False

    @classmethod
    def for_tracer(cls, tracer: object) -> FinishedSpanEmitter | None:
        """The emitter for ``tracer``; None when it is not an SDK tracer we can serve."""
        try:
            if not isinstance(tracer, SdkTracer):
                return None
            multi = tracer.span_processor
            if type(multi) is not SynchronousMultiSpanProcessor:
                return None
            if not isinstance(getattr(multi, "_span_processors", None), tuple):
                return None
            return cls(tracer, multi)
        except Exception as exc:  # noqa: BLE001 - an SDK we do not know: use its own path
            logger.debug("finished-span emitter unavailable for %r: %r", tracer, exc)
            return None

    def emit(
        self,
        name: str,
        attributes: dict[str, Any],
        start_time: int,
        end_time: int,
        *,
        context: Context | None = None,
        kind: SpanKind = SpanKind.CLIENT,
        error: str | None = None,
    ) -> bool:
        """Record one finished span; False (nothing recorded) if the SDK must do it.

        When it returns True, ``attributes`` belongs to the recorded span (not
        copied): the caller must not change it any more. When it returns
        False, ``attributes`` is unchanged. ``context`` is the parent context
        (default: the current one).
        """
        processors = self._multi._span_processors
        if processors is not self._processors:
            self._refresh(processors)
        max_attributes = self._max_attributes
        if (
            not self._usable
            or (max_attributes is not None and len(attributes) > max_attributes)
            or not _valid(attributes)
            or not self._enabled()
        ):
            return False

        parent: SpanContext | None = otel_trace.get_current_span(context).get_span_context()
        if parent is not None and parent.is_valid:
            trace_id = parent.trace_id
            random_ids = parent.trace_flags & _RANDOM_FLAG
        else:
            parent = None
            trace_id = self._id_generator.generate_trace_id()
            random_ids = self._random_ids
        if self._default_sampler:
            if parent is not None and not parent.trace_flags.sampled:
                return True  # a non-recording span: nothing to export
            flags = _SAMPLED
            trace_state = parent.trace_state if parent is not None else None
        else:
            result = self._sampler.should_sample(context, trace_id, name, kind, attributes)
            decision = result.decision
            if not decision.is_recording():  # type: ignore[no-untyped-call]
                return True  # the SDK would make a non-recording span: nothing to export
            sampled = decision.is_sampled()  # type: ignore[no-untyped-call]
            flags = _SAMPLED if sampled else _NOT_SAMPLED
            if result.attributes is not None and len(result.attributes) != len(attributes):
                return False  # the sampler changed the attributes: the SDK knows how to merge
            trace_state = result.trace_state
        if random_ids:
            flags = TraceFlags(flags | _RANDOM_FLAG)
        span_context = SpanContext(
            trace_id,
            self._id_generator.generate_span_id(),
            is_remote=False,
            trace_flags=flags,
            trace_state=trace_state,
        )
        status = _UNSET if error is None else Status(StatusCode.ERROR, error)
        span = self._span(name, span_context, parent, attributes, kind, status, start_time,
                          end_time)
        if self._stampers:
            stamps = self._stamps(span)
            if max_attributes is not None and len(attributes) + len(stamps) > max_attributes:
                # As the SDK does past the limit: drop the oldest, count them.
                bounded = BoundedAttributes(max_attributes, attributes, immutable=False)
                bounded.update(stamps)
                span = self._span(name, span_context, parent, bounded, kind, status,
                                  start_time, end_time)
            else:
                attributes.update(stamps)
        self._multi.on_end(span)
        return True

    def _span(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        attributes: Mapping[str, Any],
        kind: SpanKind,
        status: Status,
        start_time: int,
        end_time: int,
    ) -> ReadableSpan:
        return ReadableSpan(
            name=name,
            context=context,
            parent=parent,
            resource=self._resource,
            attributes=attributes,  # type: ignore[arg-type]
            kind=kind,
            status=status,
            start_time=start_time,
            end_time=end_time,
            instrumentation_info=self._info,
            instrumentation_scope=self._scope,
        )

    def _stamps(self, span: ReadableSpan) -> dict[str, Any]:
        stamps: dict[str, Any] = {}
        for stamper in self._stampers:
            try:
                stamps.update(stamper.start_attributes(span))
            except Exception as exc:  # noqa: BLE001 - as the stamper's own on_start
                logger.debug("could not stamp span %r: %r", span.name, exc)
        return stamps

    def _refresh(self, processors: tuple[SpanProcessor, ...]) -> None:
        with self._lock:
            stampers = []
            usable = True
            for processor in processors:
                if isinstance(processor, AttributeStampingProcessor):
                    stampers.append(processor)
                elif _acts_before_end(processor):
                    usable = False
            self._stampers = tuple(stampers)
            self._usable = usable
            self._processors = processors


def _always() -> bool:
    return True

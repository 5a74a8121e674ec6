"""``enrich_span`` and ``enrich_session``: add data from inside traced code.

Usage::

    @trace
    def answer(q):
        ...
        enrich_span(metrics={"score": 0.9}, metadata={"retriever": "bm25"})
        enrich_session(user_properties={"plan": "pro"})

Neither function ever raises, and both are no-ops when there is nothing to
enrich (no recording span, agent disabled).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode

from honeyhive_agent import semconv
from honeyhive_agent.decorators._spans import (
    TracerSpec,
    current_tracer,
    default_serializer,
    report,
    resolve_tracer,
)
from honeyhive_agent.serializer import Attributes, Serializer

__all__ = ["enrich_session", "enrich_span"]


def _serializer() -> Serializer:
    # The tracer that opened the innermost decorated span decides the
    # content rules; outside any decorated span, the default tracer's.
    tracer = current_tracer()
    if tracer is not None:
        return tracer.serializer
    return default_serializer()


def enrich_span(
    *,
    inputs: Any = None,
    outputs: Any = None,
    config: Any = None,
    metadata: Any = None,
    metrics: Any = None,
    feedback: Any = None,
    user_properties: Any = None,
    event_name: str | None = None,
    event_type: str | None = None,
    error: BaseException | str | None = None,
    **extra: Any,
) -> None:
    """Add fields to the current span (a no-op without a recording span).

    ``inputs``, ``outputs``, ``config``, ``metadata``, ``metrics``,
    ``feedback`` and ``user_properties`` are flattened under
    ``honeyhive_<field>.*`` (inputs and outputs are content: dropped when
    the tracer's ``capture_content`` is off). Any other keyword lands under
    ``honeyhive_metadata.*``. ``event_name`` renames the event (and the span),
    ``event_type`` sets ``honeyhive_event_type``, and ``error`` (an exception or
    a message) marks the span as failed with ``honeyhive_error``.
    """
    try:
        span = otel_trace.get_current_span()
        if not span.is_recording():
            return
        serializer = _serializer()
        out: Attributes = {}
        fields = (
            ("inputs", inputs),
            ("outputs", outputs),
            ("config", config),
            ("metadata", metadata),
            ("metrics", metrics),
            ("feedback", feedback),
            ("user_properties", user_properties),
        )
        for field, value in fields:
            if value is not None:
                serializer.flatten_into(
                    out,
                    semconv.ENRICH_FIELDS[field],
                    value,
                    content=field in semconv.CONTENT_FIELDS,
                )
        if extra:
            serializer.flatten_into(out, semconv.METADATA, extra)
        if event_type is not None:
            if event_type in semconv.EVENT_TYPES:
                out[semconv.EVENT_TYPE] = event_type
            else:
                report("enrich_span event_type", ValueError(f"unknown event_type {event_type!r}"))
        if event_name is not None:
            out[semconv.EVENT_NAME] = str(event_name)
            span.update_name(str(event_name))
        if error is not None:
            _mark_error(span, error, serializer, out)
        if out:
            span.set_attributes(out)
    except Exception as exc:  # noqa: BLE001 - enrichment must never break the app
        report("enrich_span", exc)


def _mark_error(
    span: otel_trace.Span, error: BaseException | str, serializer: Serializer, out: Attributes
) -> None:
    message = serializer.text(str(error))
    out[semconv.ERROR] = message
    if isinstance(error, BaseException):
        out[semconv.ERROR_TYPE] = type(error).__qualname__
    span.set_status(Status(StatusCode.ERROR, message))


def enrich_session(
    *,
    metadata: Mapping[str, Any] | None = None,
    feedback: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    outputs: Any = None,
    config: Mapping[str, Any] | None = None,
    user_properties: Mapping[str, Any] | None = None,
    inputs: Any = None,
    tracer: TracerSpec = None,
) -> None:
    """Add fields to the current session (sent in the background).

    Goes to ``tracer`` (a name or a ``HoneyHiveTracer``) if given; otherwise
    to the tracer of the innermost decorated span, or the default tracer.
    A no-op when that tracer is disabled; never raises.
    """
    try:
        hh = current_tracer() if tracer is None else None
        if hh is None:
            hh = resolve_tracer(tracer)
        if hh is None:
            return
        fields = {
            "metadata": metadata,
            "feedback": feedback,
            "metrics": metrics,
            "outputs": outputs,
            "config": config,
            "user_properties": user_properties,
            "inputs": inputs,
        }
        hh.enrich_session(**{k: v for k, v in fields.items() if v is not None})
    except Exception as exc:  # noqa: BLE001 - enrichment must never break the app
        report("enrich_session", exc)

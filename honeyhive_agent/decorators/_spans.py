"""What every decorated call shares: finding the tracer, ending spans, failing quietly.

Nothing in here raises. A problem inside the agent (a tracer that cannot be
built, a serializer that chokes on a value, a span API that misbehaves) is
logged once per kind and the user's code carries on untouched.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, Status, StatusCode

from honeyhive_agent import semconv
from honeyhive_agent._log import warn_once
from honeyhive_agent.serializer import Serializer

if TYPE_CHECKING:
    from types import ModuleType

    from honeyhive_agent.tracer import HoneyHiveTracer

__all__ = [
    "TRACER_KEY",
    "TracerSpec",
    "current_tracer",
    "default_serializer",
    "end_span",
    "fail_span",
    "report",
    "resolve_tracer",
]

TracerSpec = Any
"""A tracer name (``str``), a ``HoneyHiveTracer``, or None for ``"default"``."""

# The HoneyHiveTracer that opened the current decorated span travels in the
# OpenTelemetry context next to the span itself, so enrich_span() inside a
# function routed to tracer "research" uses that tracer's content rules, and
# the pair follows the span into tasks and pool threads.
TRACER_KEY = otel_context.create_key("honeyhive_agent.tracer")

_registry: ModuleType | None = None
_registry_failed = False
_fallback_serializer: Serializer | None = None


def report(what: str, exc: BaseException) -> None:
    """Log an internal failure once per ``what``; never raises."""
    with contextlib.suppress(Exception):  # logging itself must not break the app
        warn_once(
            f"decorators.{what}",
            "tracing failed in %s; the app is unaffected (logged once): %s: %s",
            what,
            type(exc).__name__,
            exc,
            level=logging.WARNING,
        )


def _get_registry() -> ModuleType | None:
    global _registry, _registry_failed
    if _registry is None and not _registry_failed:
        try:
            from honeyhive_agent.tracer import registry

            _registry = registry
        except Exception as exc:  # noqa: BLE001
            _registry_failed = True
            report("registry import", exc)
    return _registry


def resolve_tracer(spec: TracerSpec) -> HoneyHiveTracer | None:
    """The tracer a decorator routes to, or None when the agent is off for it."""
    if spec is not None and not isinstance(spec, str):
        return spec  # type: ignore[no-any-return]
    registry = _get_registry()
    if registry is None:
        return None
    try:
        return registry.get_or_create(spec or "default")  # type: ignore[no-any-return]
    except Exception as exc:  # noqa: BLE001
        report("tracer lookup", exc)
        return None


def current_tracer() -> HoneyHiveTracer | None:
    """The tracer of the innermost decorated span in the current context."""
    return otel_context.get_value(TRACER_KEY)  # type: ignore[return-value]


def default_serializer() -> Serializer:
    """The default tracer's serializer if one exists, else a plain one."""
    global _fallback_serializer
    registry = _get_registry()
    if registry is not None:
        try:
            tracer = registry.get("default")
            if tracer is not None:
                return tracer.serializer  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001
            report("tracer lookup", exc)
    if _fallback_serializer is None:
        _fallback_serializer = Serializer()
    return _fallback_serializer


def end_span(span: Span, attributes: dict[str, Any] | None = None) -> None:
    """Add the last attributes (if any) and end the span."""
    try:
        if attributes:
            span.set_attributes(attributes)
    except Exception as exc:  # noqa: BLE001
        report("outputs", exc)
    try:
        span.end()
    except Exception as exc:  # noqa: BLE001
        report("span end", exc)


def fail_span(span: Span, exc: BaseException, serializer: Serializer) -> None:
    """Record ``exc`` on the span (once) and end it.

    ``GeneratorExit`` and a clean ``SystemExit`` are how code stops, not
    errors: the span just ends.
    """
    if isinstance(exc, GeneratorExit) or (
        isinstance(exc, SystemExit) and exc.code in (None, 0)
    ):
        end_span(span)
        return
    try:
        name = type(exc).__qualname__
        try:
            message = serializer.text(str(exc))
        except Exception:  # noqa: BLE001 - a hostile __str__
            message = f"<{name}>"
        span.set_status(Status(StatusCode.ERROR, f"{name}: {message}"))
        span.set_attributes({semconv.ERROR_TYPE: name, semconv.ERROR: message})
        # Last, as it formats the traceback and calls str(exc) itself. Its own
        # message attribute would bypass redaction: override it.
        span.record_exception(exc, attributes={"exception.message": message}, escaped=True)
    except Exception as err:  # noqa: BLE001
        report("error recording", err)
    end_span(span)

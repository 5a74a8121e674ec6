"""Span processors that stamp attributes on every span as it starts."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace import SpanProcessor

from honeyhive_agent._log import logger

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import ReadableSpan, Span

    from honeyhive_agent.tracer.session import Sessions

__all__ = ["AttributeStampingProcessor", "SessionStampingProcessor"]


class AttributeStampingProcessor(SpanProcessor, abc.ABC):
    """A processor whose only work is adding attributes to spans as they start.

    :meth:`start_attributes` says which; ``on_start`` sets them. Declaring
    this lets :class:`~honeyhive_agent.tracer.emitter.FinishedSpanEmitter`
    apply them to a span it records complete (no ``on_start`` call there).
    """

    @abc.abstractmethod
    def start_attributes(self, span: ReadableSpan) -> Mapping[str, Any]:
        """The attributes to add to ``span`` (its name, context and parent are set)."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            span.set_attributes(self.start_attributes(span))
        except Exception as exc:  # noqa: BLE001 - never break span creation in the app
            logger.debug("could not stamp span %r: %r", span.name, exc)

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class SessionStampingProcessor(AttributeStampingProcessor):
    """Set the session attributes on each span as it starts.

    The HoneyHive backend drops spans without ``honeyhive.session_id``; the
    ``traceloop.association.properties.*``, ``gen_ai.conversation.id`` and
    ``session.id`` copies let other OTLP backends group the session too.
    Stamping at start (not end) keeps the attributes visible to every later
    processor and lets the app's own code read or override them.
    """

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def start_attributes(self, span: ReadableSpan) -> Mapping[str, Any]:
        return self._sessions.attributes_for(span)

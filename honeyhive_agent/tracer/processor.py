"""The span processor that stamps every span with its HoneyHive session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk.trace import SpanProcessor

from honeyhive_agent._log import logger

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span

    from honeyhive_agent.tracer.session import Sessions

__all__ = ["SessionStampingProcessor"]


class SessionStampingProcessor(SpanProcessor):
    """Set the session attributes on each span as it starts.

    The HoneyHive backend drops spans without ``honeyhive.session_id``; the
    ``traceloop.association.properties.*``, ``gen_ai.conversation.id`` and
    ``session.id`` copies let other OTLP backends group the session too.
    Stamping at start (not end) keeps the attributes visible to every later
    processor and lets the app's own code read or override them.
    """

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            span.set_attributes(self._sessions.attributes_for(span))
        except Exception as exc:  # noqa: BLE001 - never break span creation in the app
            logger.debug("could not stamp the session on span %r: %r", span.name, exc)

    def on_end(self, span: object) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

"""Human-readable spans on stderr (never stdout: that belongs to the app)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode

from honeyhive_agent import semconv

__all__ = ["ConsoleSpanExporter", "format_span"]

_MAX_VALUE = 120
_MAX_ATTRS_LINE = 600
# Shown in the headline; everything else goes on the attributes line.
_HEADLINE_KEYS = (
    semconv.EVENT_TYPE,
    semconv.GEN_AI_RESPONSE_MODEL,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.SESSION_ID,
)
# The session stamp repeats the session id under several names: noise here.
_STAMP_KEYS = frozenset({
    semconv.SESSION_NAME,
    semconv.PROJECT,
    semconv.SOURCE,
    semconv.GEN_AI_CONVERSATION_ID,
    semconv.OTEL_SESSION_ID,
})


def _short(value: Any, limit: int = _MAX_VALUE) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_span(span: ReadableSpan) -> str:
    """Two lines for ``span``: a headline and its (truncated) attributes.

    For example::

        [honeyhive] openai.chat  model  gpt-4o  312.5 ms  tokens 12->40  OK
            trace=0af76519... span=b7ad6b71... parent=53995c3f... session=3f2a...
            attrs: gen_ai.operation.name='chat', gen_ai.request.temperature=0.2, ...
    """
    attrs = dict(span.attributes or {})
    duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    head = [f"[honeyhive] {span.name}"]
    event_type = attrs.get(semconv.EVENT_TYPE)
    if event_type:
        head.append(str(event_type))
    model = attrs.get(semconv.GEN_AI_RESPONSE_MODEL) or attrs.get(semconv.GEN_AI_REQUEST_MODEL)
    if model:
        head.append(str(model))
    head.append(f"{duration_ms:.1f} ms")
    tokens_in = attrs.get(semconv.GEN_AI_USAGE_INPUT_TOKENS)
    tokens_out = attrs.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)
    if tokens_in is not None or tokens_out is not None:
        head.append(f"tokens {tokens_in if tokens_in is not None else '?'}->"
                    f"{tokens_out if tokens_out is not None else '?'}")
    status = span.status
    if status.status_code is StatusCode.ERROR:
        head.append("ERROR" + (f": {_short(status.description)}" if status.description else ""))
    else:
        head.append(status.status_code.name)
    ctx = span.context
    ids = [
        f"trace={format(ctx.trace_id, '032x')}" if ctx else "trace=?",
        f"span={format(ctx.span_id, '016x')}" if ctx else "span=?",
        f"parent={format(span.parent.span_id, '016x')}" if span.parent else "parent=-",
    ]
    session = attrs.get(semconv.SESSION_ID)
    if session:
        ids.append(f"session={session}")
    lines = ["  ".join(head), "    " + " ".join(ids)]
    rest = [
        f"{k}={_short(v)}"
        for k, v in attrs.items()
        if k not in _HEADLINE_KEYS
        and k not in _STAMP_KEYS
        and not k.startswith(semconv.TRACELOOP_PREFIX)
    ]
    if rest:
        lines.append("    attrs: " + _short(", ".join(rest), _MAX_ATTRS_LINE))
    return "\n".join(lines)


class ConsoleSpanExporter(SpanExporter):
    """Print each span as a few readable lines.

    ``stream`` defaults to the *current* ``sys.stderr`` at export time, so
    pytest's capture and redirections made after start-up are honoured.
    """

    destination = "console (stderr)"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            text = "\n".join(format_span(span) for span in spans)
            stream = self._stream or sys.stderr
            with self._lock:
                stream.write(text + "\n")
                stream.flush()
            return SpanExportResult.SUCCESS
        except Exception:  # noqa: BLE001 - a closed stderr must not break anything
            return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()

"""What the local store holds: rows built from SDK spans, and query results."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from honeyhive_agent import semconv

__all__ = ["SessionSummary", "StoredSpan", "span_row"]


@dataclass(frozen=True)
class SessionSummary:
    """One session as listed by ``honeyhive-agent sessions``."""

    session_id: str
    name: str | None
    project: str | None
    source: str | None
    start_ns: int
    end_ns: int
    span_count: int
    input_tokens: int
    output_tokens: int
    error_count: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["total_tokens"] = self.total_tokens
        out["duration_ms"] = round(self.duration_ms, 3)
        return out


@dataclass(frozen=True)
class StoredSpan:
    """One span read back from the store."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    session_id: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    error: str | None
    event_type: str | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    attributes: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["duration_ms"] = round(self.duration_ms, 3)
        return out


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _json(mapping: Mapping[str, Any] | None) -> str:
    # Attribute values are str/bool/int/float or tuples of those; default=str
    # covers anything a non-SDK caller might slip in.
    return json.dumps(dict(mapping or {}), default=lambda v: list(v) if isinstance(v, tuple)
                      else str(v), ensure_ascii=False)


def span_row(span: ReadableSpan) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``spans`` row and the ``sessions`` row for one SDK span.

    Spans without ``honeyhive.session_id`` (the app's own, unstamped spans)
    are filed under their trace id, so every span can be shown.
    """
    attrs = dict(span.attributes or {})
    resource = dict(span.resource.attributes) if span.resource is not None else {}
    ctx = span.context
    trace_id = format(ctx.trace_id, "032x") if ctx else "0" * 32
    session_id = _str_or_none(attrs.get(semconv.SESSION_ID)) or trace_id
    status = span.status.status_code
    error: str | None = None
    if status is StatusCode.ERROR:
        error = (
            _str_or_none(span.status.description)
            or _str_or_none(attrs.get(semconv.ERROR))
            or _str_or_none(attrs.get(semconv.ERROR_TYPE))
            or "error"
        )
    row = {
        "trace_id": trace_id,
        "span_id": format(ctx.span_id, "016x") if ctx else "0" * 16,
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "session_id": session_id,
        "name": span.name,
        "kind": span.kind.name,
        "start_ns": span.start_time or 0,
        "end_ns": span.end_time or span.start_time or 0,
        "status": status.name,
        "error": error,
        "event_type": _str_or_none(attrs.get(semconv.EVENT_TYPE)),
        "model": _str_or_none(
            attrs.get(semconv.GEN_AI_RESPONSE_MODEL) or attrs.get(semconv.GEN_AI_REQUEST_MODEL)
        ),
        "input_tokens": _int_or_none(attrs.get(semconv.GEN_AI_USAGE_INPUT_TOKENS)),
        "output_tokens": _int_or_none(attrs.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)),
        "attributes": _json(attrs),
        "resource": _json(resource),
    }
    session = {
        "session_id": session_id,
        "name": _str_or_none(attrs.get(semconv.SESSION_NAME) or resource.get(semconv.SESSION_NAME)),
        "project": _str_or_none(attrs.get(semconv.PROJECT)),
        "source": _str_or_none(attrs.get(semconv.SOURCE)),
        "start_ns": row["start_ns"],
    }
    return row, session

"""Span helpers shared by the library instrumentors.

One LLM call is one :class:`CallSpan`: a CLIENT span named
``"{operation} {model}"`` started with every request attribute in one dict,
ended exactly once with the response attributes (:meth:`CallSpan.finish`) or
the error (:meth:`CallSpan.fail`). The attribute builders here write both
families of the contract (``gen_ai.*`` and ``honeyhive_*``) so each library
module only maps its SDK objects onto them:

* :func:`base_attributes` - operation, provider, model, event type and name;
* :class:`ParamMap` - request keyword arguments to ``gen_ai.request.*`` and
  ``honeyhive_config.*``, computed once per patched method;
* :func:`add_usage` - token counts to ``gen_ai.usage.*`` and
  ``honeyhive_metadata.*``;
* :func:`add_tools` - tool definitions as ``honeyhive_config.tools.N.*``;
* the message helpers (``add_messages``, ``text_part`` ...) live in
  :mod:`instrumentors._messages` and are re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from honeyhive_agent import semconv as sc
from honeyhive_agent._log import logger
from honeyhive_agent.serializer import Attributes, AttributeValue, Serializer, to_plain

# Message helpers live in _messages; re-exported here, where the library
# instrumentors first found them.
from ._messages import (
    Message,
    add_messages,
    media_part,
    part_text,
    text_part,
    tool_call_part,
    tool_response_part,
)

if TYPE_CHECKING:
    from honeyhive_agent.tracer.emitter import FinishedSpanEmitter

__all__ = [
    "CallSpan",
    "ParamMap",
    "Message",
    "add_messages",
    "activate",
    "add_tools",
    "add_usage",
    "base_attributes",
    "deactivate",
    "error_attributes",
    "media_part",
    "part_text",
    "text_part",
    "tool_call_part",
    "tool_response_part",
]


INCOMPLETE = f"{sc.METADATA}.incomplete"
"""Set (True) when a stream ended before the API finished it."""
STREAM_END = f"{sc.METADATA}.stream_end"
"""How an incomplete stream ended: ``closed``, ``garbage_collected``, ``exit``, ``error``."""
TIME_TO_FIRST_TOKEN = f"{sc.METRICS}.time_to_first_token_ms"


class CallSpan:
    """The span of one LLM call; ends exactly once, never raises.

    With ``deferred=True`` the span is only recorded when it ends (or the SDK
    span created when :attr:`span` is first read), with the call's start time
    and parent context. Given an ``emitter``, a call that ends without an
    exception is recorded complete in one step, without the SDK's span
    object (:mod:`honeyhive_agent.tracer.emitter`: most of the per-call cost
    otherwise); else request and response attributes go through the SDK in
    one pass. The span is not current while the request runs in that mode.
    """

    __slots__ = (
        "_attributes",
        "_context",
        "_emitter",
        "_name",
        "_span",
        "_start_time",
        "_tracer",
        "ended",
        "serializer",
        "start_ns",
    )

    def __init__(
        self,
        tracer: otel_trace.Tracer,
        name: str,
        attributes: Attributes,
        serializer: Serializer,
        *,
        deferred: bool = False,
        emitter: FinishedSpanEmitter | None = None,
    ) -> None:
        self.serializer = serializer
        self.start_ns = time.perf_counter_ns()
        self.ended = False
        self._tracer = tracer
        self._name = name
        self._span: otel_trace.Span | None = None
        self._attributes: Attributes | None = attributes
        self._context: otel_context.Context | None = None
        self._start_time: int | None = None
        self._emitter = emitter if deferred else None
        if deferred:
            self._start_time = time.time_ns()
            self._context = otel_context.get_current()
        else:
            self._start()

    def _start(self) -> otel_trace.Span:
        span = self._tracer.start_span(
            self._name,
            context=self._context,
            kind=SpanKind.CLIENT,
            attributes=self._attributes,
            start_time=self._start_time,
        )
        self._span = span
        self._attributes = self._context = None
        return span

    def _emit(self, error: str | None) -> bool:
        """Record the deferred span complete through the emitter; False if it can't."""
        emitter, attributes, start_time = self._emitter, self._attributes, self._start_time
        if emitter is None or attributes is None or start_time is None:
            return False
        # emit() keeps the dict when it records the span, leaves it untouched if not.
        if emitter.emit(self._name, attributes, start_time, time.time_ns(),
                        context=self._context, error=error):
            self._attributes = self._context = None
            return True
        return False

    @property
    def span(self) -> otel_trace.Span:
        """The SDK span (created now if it was deferred)."""
        span = self._span
        return span if span is not None else self._start()

    def finish(
        self, attributes: Mapping[str, AttributeValue] | None = None, error: str | None = None
    ) -> None:
        """Add ``attributes`` and end the span (once; later calls are no-ops).

        ``error`` marks a call that failed without an exception (an API
        reporting failure inside a successful response): status ERROR.
        """
        if self.ended:
            return
        self.ended = True
        try:
            span = self._span
            if span is None:
                if attributes and self._attributes is not None:
                    self._attributes.update(attributes)
                    attributes = None
                if self._emit(error):
                    return
                span = self._start()
            if attributes:
                span.set_attributes(attributes)
            if error is not None:
                span.set_status(Status(StatusCode.ERROR, error))
            span.end()
        except Exception as exc:  # noqa: BLE001 - a processor must not break the app
            logger.debug("ending span failed: %r", exc)

    def fail(
        self, exc: BaseException, attributes: Mapping[str, AttributeValue] | None = None
    ) -> None:
        """Record ``exc`` (status ERROR, ``error.type``, HTTP status) and end the span."""
        if self.ended:
            return
        try:
            attrs = dict(attributes) if attributes else {}
            attrs.update(error_attributes(exc, self.serializer))
            self.span.set_status(Status(StatusCode.ERROR, _describe(exc)))
            self.span.record_exception(exc, escaped=True)
        except Exception as err:  # noqa: BLE001
            logger.debug("recording an error failed: %r", err)
            attrs = {}
        self.finish(attrs)

    def elapsed_ms(self, now_ns: int | None = None) -> float:
        """Milliseconds since the call started."""
        now = time.perf_counter_ns() if now_ns is None else now_ns
        return round((now - self.start_ns) / 1e6, 3)


def activate(call: CallSpan) -> object:
    """Make the call's span current while the SDK sends the request, so HTTP
    client spans (and a peer's spans) nest under it. Returns a token for
    :func:`deactivate`."""
    return otel_context.attach(otel_trace.set_span_in_context(call.span))


def deactivate(token: object) -> None:
    try:
        otel_context.detach(token)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001
        logger.debug("detaching the call context failed: %r", exc)


def error_attributes(exc: BaseException, serializer: Serializer) -> Attributes:
    """``error.type`` (the exception class), HTTP status and ``honeyhive_error``."""
    attrs: Attributes = {
        sc.ERROR_TYPE: type(exc).__name__,
        sc.ERROR: serializer.text(_describe(exc)),
    }
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        attrs[sc.HTTP_RESPONSE_STATUS_CODE] = status
    return attrs


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def base_attributes(
    *, operation: str, provider: str, event_name: str, model: Any, system: str | None = None
) -> Attributes:
    """The attributes every LLM span starts with."""
    attrs: Attributes = {
        sc.GEN_AI_OPERATION_NAME: operation,
        sc.GEN_AI_PROVIDER_NAME: provider,
        sc.GEN_AI_SYSTEM: system or provider,
        sc.EVENT_TYPE: "model",
        sc.EVENT_NAME: event_name,
        f"{sc.CONFIG}.provider": provider,
    }
    if isinstance(model, str) and model:
        attrs[sc.GEN_AI_REQUEST_MODEL] = model
        attrs[f"{sc.CONFIG}.model"] = model
    return attrs


def span_name(operation: str, model: Any) -> str:
    """``"{operation} {model}"`` (just the operation when the model is unknown)."""
    return f"{operation} {model}" if isinstance(model, str) and model else operation


class ParamMap:
    """Request keyword arguments -> ``gen_ai.request.*`` + ``honeyhive_config.*``.

    Built once per patched method from ``(kwarg, gen_ai attribute or None)``
    pairs. ``skip`` holds the SDK's "not given" sentinel types (``NotGiven``,
    ``Omit``), which the SDK helpers pass for every unset argument.

    ``compact=True`` keeps big values small: ``tools`` become
    ``honeyhive_config.tools.N.{type,name,description,parameters}`` and other
    structures are flattened two levels deep, the rest as JSON strings.
    """

    __slots__ = ("compact", "index", "pairs", "skip")

    def __init__(
        self,
        pairs: Sequence[tuple[str, str | None]],
        skip: tuple[type, ...] = (),
        *,
        compact: bool = False,
    ) -> None:
        self.pairs = tuple(pairs)
        # name -> (gen_ai attribute or None, honeyhive_config key), keys built once
        self.index = {name: (gen_ai, f"{sc.CONFIG}.{name}") for name, gen_ai in self.pairs}
        self.skip = skip
        self.compact = compact

    def given(self, value: Any) -> bool:
        """False for ``None`` and the SDK's not-given sentinels."""
        return value is not None and not isinstance(value, self.skip)

    def add(self, out: Attributes, kwargs: Mapping[str, Any], serializer: Serializer) -> None:
        """Write every given parameter into ``out``."""
        # Walk the call's few keyword arguments, not the whole table.
        skip, index = self.skip, self.index
        for name, value in kwargs.items():
            entry = index.get(name)
            if entry is None or value is None or isinstance(value, skip):
                continue
            gen_ai, config_key = entry
            kind = type(value)
            if kind in _SCALARS:
                if gen_ai is not None and not (gen_ai == _CHOICE_COUNT and value == 1):
                    # semconv: the choice count only when it is not 1
                    out[gen_ai] = (value,) if gen_ai == _STOP else value  # type: ignore[assignment]
                out[config_key] = serializer.text(value) if kind is str else value
                continue
            if isinstance(value, type):  # parse(response_format=SomeModel)
                out[config_key] = value.__name__
                continue
            if name == "tools" and self.compact:
                add_tools(out, value, serializer)
                continue
            if gen_ai == _STOP and isinstance(value, list | tuple) and all(
                isinstance(s, str) for s in value
            ):
                out[gen_ai] = tuple(value)  # type: ignore[assignment]
            if self.compact:
                _flatten_shallow(out, config_key, value, serializer, 0)
            else:
                serializer.flatten_into(out, config_key, value)


_STOP = sc.GEN_AI_REQUEST_STOP_SEQUENCES
_CHOICE_COUNT = sc.GEN_AI_REQUEST_CHOICE_COUNT


def _flatten_shallow(out: Attributes, key: str, value: Any, serializer: Serializer,
                     depth: int) -> None:
    """Flatten two levels deep; below that one JSON string (schemas stay one attribute)."""
    if value is None:
        return
    if type(value) in _SCALARS:
        out[key] = serializer.scalar(value)
    elif depth < 2 and isinstance(value, Mapping):
        for k, v in list(value.items())[:_MAX_CONFIG_ITEMS]:
            _flatten_shallow(out, f"{key}.{k}", v, serializer, depth + 1)
    elif depth < 2 and isinstance(value, list | tuple):
        for i, v in enumerate(value[:_MAX_CONFIG_ITEMS]):
            _flatten_shallow(out, f"{key}.{i}", v, serializer, depth + 1)
    else:
        out[key] = serializer.scalar(value)


_MAX_CONFIG_ITEMS = 64


def add_tools(out: Attributes, tools: Any, serializer: Serializer) -> None:
    """``honeyhive_config.tools.N.{type,name,description,parameters}``.

    Accepts OpenAI Chat (``{"type": "function", "function": {...}}``),
    OpenAI Responses and Anthropic (flat ``name`` / ``input_schema``) shapes;
    the schema is one JSON string per tool, so big schemas stay a few
    attributes.
    """
    if not isinstance(tools, list | tuple):
        return  # never consume an iterable the SDK still has to read
    for i, tool in enumerate(tools[:_MAX_CONFIG_ITEMS]):
        if not isinstance(tool, Mapping):
            plain = to_plain(tool)
            tool = plain if isinstance(plain, Mapping) else {"name": str(tool)}
        prefix = f"{sc.CONFIG}.tools.{i}"
        spec = tool.get("function")
        spec = spec if isinstance(spec, Mapping) else tool
        kind = tool.get("type")
        if kind is not None:
            out[f"{prefix}.type"] = serializer.scalar(kind)
        for field in ("name", "description"):
            value = spec.get(field)
            if value is not None:
                out[f"{prefix}.{field}"] = serializer.scalar(value)
        schema = spec.get("parameters", spec.get("input_schema"))
        if schema is not None:
            out[f"{prefix}.parameters"] = serializer.scalar(schema)


_SCALARS = frozenset({str, int, float, bool})


def add_usage(
    out: Attributes,
    *,
    input_tokens: Any = None,
    output_tokens: Any = None,
    total_tokens: Any = None,
    cache_read: Any = None,
    cache_creation: Any = None,
    reasoning: Any = None,
) -> None:
    """Token counts; unknown counts stay absent (never 0)."""
    if _is_count(input_tokens):
        out[sc.GEN_AI_USAGE_INPUT_TOKENS] = input_tokens
        out[f"{sc.METADATA}.prompt_tokens"] = input_tokens
    if _is_count(output_tokens):
        out[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens
        out[f"{sc.METADATA}.completion_tokens"] = output_tokens
    if not _is_count(total_tokens) and _is_count(input_tokens) and _is_count(output_tokens):
        total_tokens = input_tokens + output_tokens
    if _is_count(total_tokens):
        out[f"{sc.METADATA}.total_tokens"] = total_tokens
    if _is_count(cache_read):
        out[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cache_read
        out[f"{sc.METADATA}.cache_read_input_tokens"] = cache_read
    if _is_count(cache_creation):
        out[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = cache_creation
        out[f"{sc.METADATA}.cache_creation_input_tokens"] = cache_creation
    if _is_count(reasoning):
        out[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
        out[f"{sc.METADATA}.reasoning_tokens"] = reasoning


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def add_response_meta(
    out: Attributes, *, response_id: Any = None, response_model: Any = None
) -> None:
    """``gen_ai.response.{id,model}``; the id also as ``honeyhive_metadata.response_id``."""
    if isinstance(response_id, str) and response_id:
        out[sc.GEN_AI_RESPONSE_ID] = response_id
        out[f"{sc.METADATA}.response_id"] = response_id
    if isinstance(response_model, str) and response_model:
        out[sc.GEN_AI_RESPONSE_MODEL] = response_model

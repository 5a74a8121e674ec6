"""Span attributes of one Messages API call: request side and reply side.

The request side (:class:`Operation.request_attributes`) is built once per
call, before the request goes out, so a failed call still shows what was
asked. The reply side (:func:`reply_attributes`) takes the reply's pieces
(id, model, stop reason, usage, parts), which a whole ``Message`` and a
stream accumulator both provide.

Token counts follow the GenAI conventions: ``gen_ai.usage.input_tokens`` is
*all* input tokens, i.e. Anthropic's ``input_tokens`` plus
``cache_read_input_tokens`` plus ``cache_creation_input_tokens`` (Anthropic
reports them apart), and the two cache counts are also recorded on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from honeyhive_agent import semconv as sc
from honeyhive_agent.serializer import Attributes, Serializer
from instrumentors._span import (
    ParamMap,
    add_messages,
    add_response_meta,
    add_usage,
    base_attributes,
)

from ._content import Part, field, input_messages, output_parts, system_parts

__all__ = [
    "Operation",
    "message_reply",
    "message_usage",
    "reply_attributes",
    "tool_definitions",
]

# (keyword argument, gen_ai.request.* attribute or None for honeyhive_config only)
_PARAMS: tuple[tuple[str, str | None], ...] = (
    ("max_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("top_k", sc.GEN_AI_REQUEST_TOP_K),
    ("stop_sequences", sc.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("stream", None),
    ("tool_choice", None),
    ("thinking", None),
    ("service_tier", None),
    ("output_config", None),
    ("betas", None),
    ("output_format", None),
    ("tools", None),
)
THINKING = f"{sc.OUTPUTS}.thinking"
"""The reply's thinking text (HoneyHive); GenAI has it as ``reasoning`` parts."""


class Operation:
    """What one patched method records; built at patch time, used per call."""

    __slots__ = ("event_name", "operation", "params", "stream")

    def __init__(
        self, *, operation: str, event_name: str, skip: tuple[type, ...], stream: bool = False
    ) -> None:
        self.operation = operation
        self.event_name = event_name
        # compact: tools as name/description/parameters (schema as one JSON string),
        # like the OpenAI instrumentor, so big schemas stay a few attributes.
        self.params = ParamMap(_PARAMS, skip, compact=True)
        self.stream = stream
        """Whether the method always streams (``messages.stream``)."""

    def request_attributes(
        self,
        kwargs: Mapping[str, Any],
        serializer: Serializer,
        *,
        provider: str,
        server: Attributes,
    ) -> Attributes:
        """Everything known before the request is sent."""
        out = base_attributes(
            operation=self.operation,
            provider=provider,
            event_name=self.event_name,
            model=kwargs.get("model"),
        )
        out.update(server)
        # anthropic 2.x dropped sampling keywords (temperature, top_p, top_k) from
        # its signatures; apps pass them in extra_body, which the API merges in.
        extra = kwargs.get("extra_body")
        params = {**extra, **kwargs} if isinstance(extra, Mapping) and extra else kwargs
        self.params.add(out, params, serializer)
        if self.stream:
            out[f"{sc.CONFIG}.stream"] = True
        tools = kwargs.get("tools")
        if isinstance(tools, list | tuple):  # never an iterator the SDK has yet to read
            tool_json = serializer.json(tool_definitions(tools), content=False)
            if tool_json is not None:
                out[sc.GEN_AI_TOOL_DEFINITIONS] = tool_json
        if "output_format" in kwargs or "output_config" in kwargs:
            output_type = _output_type(kwargs)
            if output_type is not None:
                out[sc.GEN_AI_OUTPUT_TYPE] = output_type
        if serializer.capture_content:
            system = kwargs.get("system")
            add_messages(
                out,
                serializer,
                inputs=input_messages(kwargs.get("messages")),
                system=system_parts(system) if self.params.given(system) else None,
            )
        return out


def tool_definitions(tools: list[Any] | tuple[Any, ...]) -> list[Any]:
    """``gen_ai.tool.definitions`` in the semconv shape.

    A custom tool (``name`` / ``description`` / ``input_schema``, ``type``
    absent or ``custom``) becomes ``{"type": "function", "name",
    "description", "parameters"}``; server tools (``web_search_...``, ...) are
    kept as given.
    """
    out: list[Any] = []
    for tool in tools:
        schema = field(tool, "input_schema")
        if schema is None or field(tool, "type") not in (None, "custom"):
            out.append(tool)
            continue
        definition: dict[str, Any] = {"type": "function", "name": field(tool, "name")}
        description = field(tool, "description")
        if description is not None:
            definition["description"] = description
        definition["parameters"] = schema
        out.append(definition)
    return out


def _output_type(kwargs: Mapping[str, Any]) -> str | None:
    """``json`` for structured outputs (``output_format=Model`` or a JSON-schema format)."""
    if isinstance(kwargs.get("output_format"), type):
        return "json"
    output_format = field(kwargs.get("output_config"), "format")
    return "json" if field(output_format, "type") == "json_schema" else None


def message_usage(usage: Any) -> dict[str, Any]:
    """The counts of an SDK ``Usage`` (or delta usage) that are present."""
    out: dict[str, Any] = {}
    if usage is None:
        return out
    for name in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ):
        value = getattr(usage, name, None)
        if value is not None:
            out[name] = value
    details = getattr(usage, "output_tokens_details", None)
    thinking = getattr(details, "thinking_tokens", None)
    if thinking is not None:
        out["thinking_tokens"] = thinking
    return out


def reply_attributes(
    serializer: Serializer,
    *,
    response_id: Any,
    model: Any,
    stop_reason: Any,
    usage: Mapping[str, Any],
    parts: list[Part] | None,
) -> Attributes:
    """The reply side of the span; ``parts`` None means content is not recorded."""
    out: Attributes = {}
    add_response_meta(out, response_id=response_id, response_model=model)
    if isinstance(stop_reason, str):
        out[sc.GEN_AI_RESPONSE_FINISH_REASONS] = (stop_reason,)  # type: ignore[assignment]
    uncached = usage.get("input_tokens")
    cache_read = usage.get("cache_read_input_tokens")
    cache_creation = usage.get("cache_creation_input_tokens")
    total_input = uncached
    if isinstance(uncached, int):
        total_input = uncached + (cache_read or 0) + (cache_creation or 0)
    add_usage(
        out,
        input_tokens=total_input,
        output_tokens=usage.get("output_tokens"),
        cache_read=cache_read,
        cache_creation=cache_creation,
        reasoning=usage.get("thinking_tokens"),
    )
    if parts is not None and serializer.capture_content:
        message: dict[str, Any] = {"role": "assistant", "parts": parts}
        if isinstance(stop_reason, str):
            message["finish_reason"] = stop_reason
        add_messages(out, serializer, outputs=[message])
        thinking = [p["content"] for p in parts if p.get("type") == "reasoning"]
        if thinking:
            out[THINKING] = serializer.text("\n".join(thinking))
    return out


def message_reply(message: Any, serializer: Serializer) -> Attributes:
    """:func:`reply_attributes` of a whole SDK ``Message`` (or ``ParsedMessage``)."""
    parts = output_parts(field(message, "content")) if serializer.capture_content else None
    return reply_attributes(
        serializer,
        response_id=field(message, "id"),
        model=field(message, "model"),
        stop_reason=field(message, "stop_reason"),
        usage=message_usage(field(message, "usage")),
        parts=parts,
    )

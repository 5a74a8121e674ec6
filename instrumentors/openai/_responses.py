"""Responses API: ``input`` items, ``Response`` results and typed event streams."""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter_ns
from typing import Any

from honeyhive_agent import semconv as sc
from honeyhive_agent.serializer import Attributes, Serializer

from .._span import (
    CallSpan,
    Message,
    add_messages,
    add_response_meta,
    add_usage,
    text_part,
    tool_call_part,
    tool_response_part,
)
from .._stream import StreamState
from ._common import Endpoint, content_parts, get, output_type, tool_definitions

_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def input_messages(value: Any) -> list[Message]:
    """``input`` (a string or a list of items) -> GenAI input messages."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "parts": [text_part(value)]}]
    out: list[Message] = []
    for item in value if isinstance(value, list | tuple) else [value]:
        kind = get(item, "type")
        if kind == "function_call":
            part = tool_call_part(get(item, "call_id"), get(item, "name"), get(item, "arguments"))
            out.append({"role": "assistant", "parts": [part]})
        elif kind == "function_call_output":
            part = tool_response_part(get(item, "call_id"), get(item, "output"))
            out.append({"role": "tool", "parts": [part]})
        elif kind in (None, "message") and get(item, "role") is not None:
            parts = content_parts(get(item, "content"))
            out.append({"role": str(get(item, "role")), "parts": parts})
        elif kind is not None and kind != "reasoning":
            out.append({"role": "assistant", "parts": [{"type": str(kind)}]})
    return out


def _finish_reason(status: Any, details: Any, has_calls: bool) -> str | None:
    if status == "incomplete":
        reason = get(details, "reason")
        return str(reason) if reason else "incomplete"
    if status == "completed":
        return "tool_calls" if has_calls else "stop"
    return str(status) if status else None


def output_message(items: Any, status: Any, details: Any) -> tuple[Message, str | None]:
    """``Response.output`` -> one assistant message and its finish reason."""
    parts: list[dict[str, Any]] = []
    has_calls = False
    for item in items or ():
        kind = get(item, "type")
        if kind == "message":
            parts.extend(content_parts(get(item, "content")))
        elif kind == "function_call":
            has_calls = True
            parts.append(
                tool_call_part(get(item, "call_id"), get(item, "name"), get(item, "arguments"))
            )
        elif kind == "reasoning":
            summary = "".join(str(get(s, "text", "")) for s in get(item, "summary") or ())
            if summary:
                parts.append({"type": "reasoning", "content": summary})
        elif kind:
            has_calls = True
            parts.append(tool_call_part(get(item, "id"), kind, None))
    finish = _finish_reason(status, details, has_calls)
    message: Message = {"role": "assistant", "parts": parts}
    if finish:
        message["finish_reason"] = finish
    return message, finish


def _usage(out: Attributes, usage: Any) -> None:
    if usage is None:
        return
    add_usage(
        out,
        input_tokens=get(usage, "input_tokens"),
        output_tokens=get(usage, "output_tokens"),
        total_tokens=get(usage, "total_tokens"),
        cache_read=get(get(usage, "input_tokens_details"), "cached_tokens"),
        reasoning=get(get(usage, "output_tokens_details"), "reasoning_tokens"),
    )


def response_attributes(out: Attributes, result: Any, serializer: Serializer) -> str | None:
    add_response_meta(out, response_id=get(result, "id"), response_model=get(result, "model"))
    _usage(out, get(result, "usage"))
    status = get(result, "status")
    message, finish = output_message(
        get(result, "output"), status, get(result, "incomplete_details")
    )
    if finish:
        out[sc.GEN_AI_RESPONSE_FINISH_REASONS] = (finish,)  # type: ignore[assignment]
    add_messages(out, serializer, outputs=[message])
    if status == "failed":
        error = get(result, "error")
        code = get(error, "code")
        out[sc.ERROR_TYPE] = str(code or "response.failed")
        text = str(get(error, "message") or code or "response failed")
        out[sc.ERROR] = serializer.text(text)
        return text
    return None


class ResponsesEndpoint(Endpoint):
    """``responses.create`` / ``parse`` (and ``stream`` through create)."""

    operation = "chat"

    def request(self, out: Attributes, kwargs: Mapping[str, Any], serializer: Serializer) -> None:
        text = kwargs.get("text")
        if self.params.given(text):
            kind = output_type(get(text, "format"))
            if kind is not None:
                out[sc.GEN_AI_OUTPUT_TYPE] = kind
        if self.params.given(kwargs.get("text_format")):
            out[sc.GEN_AI_OUTPUT_TYPE] = "json"
        tools = kwargs.get("tools")
        if isinstance(tools, list | tuple) and tools:
            value = serializer.json(tool_definitions(tools), content=False)
            if value is not None:
                out[sc.GEN_AI_TOOL_DEFINITIONS] = value
        if serializer.capture_content:
            instructions = kwargs.get("instructions")
            system = (
                [text_part(instructions)]
                if isinstance(instructions, str) and instructions
                else None
            )
            value = kwargs.get("input")
            inputs = input_messages(value if self.params.given(value) else None)
            add_messages(out, serializer, inputs=inputs, system=system)

    def response(self, out: Attributes, result: Any, serializer: Serializer) -> str | None:
        return response_attributes(out, result, serializer)

    def stream_state(
        self, kwargs: Mapping[str, Any], serializer: Serializer, hide_usage: bool
    ) -> StreamState:
        return ResponsesStreamState(serializer)


class ResponsesStreamState(StreamState):
    """Keeps the final ``response`` event; accumulates deltas only for partial output."""

    __slots__ = ("args", "final", "id", "items", "model", "serializer", "texts")

    def __init__(self, serializer: Serializer) -> None:
        super().__init__()
        self.serializer = serializer
        self.final: Any = None
        self.id: Any = None
        self.model: Any = None
        self.texts: dict[int, list[str]] = {}
        self.args: dict[int, list[str]] = {}
        self.items: dict[int, Any] = {}

    def on_chunk(self, chunk: Any) -> bool:
        kind = chunk.type
        if kind == "response.output_text.delta":
            if not self.first_ns:
                self.first_ns = perf_counter_ns()
            index = chunk.output_index
            pieces = self.texts.get(index)
            if pieces is None:
                pieces = self.texts[index] = []
            pieces.append(chunk.delta)
        elif kind == "response.function_call_arguments.delta":
            if not self.first_ns:
                self.first_ns = perf_counter_ns()
            self.args.setdefault(chunk.output_index, []).append(chunk.delta)
        elif kind in ("response.output_item.added", "response.output_item.done"):
            self.items[chunk.output_index] = chunk.item
        elif kind in _FINAL_EVENTS:
            self.final = chunk.response
        elif kind == "response.created":
            response = chunk.response
            self.id = get(response, "id")
            self.model = get(response, "model")
        return True

    def attributes(self, call: CallSpan) -> Attributes:
        out: Attributes = {}
        if self.final is not None:
            error = response_attributes(out, self.final, self.serializer)
            if error is not None:
                call.span.set_status(_error_status(error))
            return out
        add_response_meta(out, response_id=self.id, response_model=self.model)
        items = []
        for index in sorted(set(self.items) | set(self.texts) | set(self.args)):
            item = self.items.get(index)
            kind = get(item, "type", "message")
            if kind == "function_call":
                arguments = get(item, "arguments") or "".join(self.args.get(index, ()))
                items.append({"type": "function_call", "call_id": get(item, "call_id"),
                              "name": get(item, "name"), "arguments": arguments})
            elif kind == "message":
                text = "".join(self.texts.get(index, ()))
                items.append({"type": "message",
                              "content": [{"type": "output_text", "text": text}]})
        message, _ = output_message(items, None, None)
        add_messages(out, self.serializer, outputs=[message])
        return out


def _error_status(text: str) -> Any:
    from opentelemetry.trace import Status, StatusCode

    return Status(StatusCode.ERROR, text)

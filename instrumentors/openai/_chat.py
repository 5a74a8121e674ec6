"""Chat Completions: request messages, ChatCompletion results and chunk streams."""

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

_SYSTEM_ROLES = ("system", "developer")


def input_messages(messages: Any) -> tuple[list[Message], list[dict[str, Any]]]:
    """Request ``messages`` -> (GenAI input messages, system-instruction parts)."""
    out: list[Message] = []
    system: list[dict[str, Any]] = []
    if not isinstance(messages, list | tuple):
        return out, system  # never consume an iterable the SDK still has to read
    for message in messages:
        if type(message) is dict and len(message) == 2 and type(message.get("content")) is str:
            # The common {"role", "content": str} message, without the generic walk.
            role = str(message.get("role", "user"))
            if role != "tool":
                parts = [text_part(message["content"])]
                if role in _SYSTEM_ROLES:
                    system.extend(parts)
                out.append({"role": role, "parts": parts})
                continue
        role = str(get(message, "role", "user"))
        content = get(message, "content")
        if role == "tool":
            parts = [tool_response_part(get(message, "tool_call_id"), _as_text(content))]
        elif role == "function":
            parts = [tool_response_part(None, _as_text(content))]
        else:
            parts = content_parts(content)
            for call in get(message, "tool_calls") or ():
                function = get(call, "function")
                parts.append(
                    tool_call_part(get(call, "id"), get(function, "name"),
                                   get(function, "arguments"))
                )
            legacy = get(message, "function_call")
            if legacy:
                parts.append(tool_call_part(None, get(legacy, "name"),
                                            get(legacy, "arguments")))
        if role in _SYSTEM_ROLES:
            system.extend(parts)
        out.append({"role": role, "parts": parts})
    return out, system


def _as_text(content: Any) -> Any:
    if isinstance(content, list):
        texts = [str(get(p, "text", "")) for p in content if get(p, "type") == "text"]
        return "".join(texts)
    return content


def output_message(
    role: Any, content: Any, refusal: Any, tool_calls: Any, finish: Any
) -> Message:
    parts: list[dict[str, Any]] = []
    if content:
        parts.append(text_part(content))
    if refusal:
        parts.append({"type": "refusal", "content": refusal})
    for call in tool_calls or ():
        function = get(call, "function")
        parts.append(
            tool_call_part(get(call, "id"), get(function, "name"), get(function, "arguments"))
        )
    message: Message = {"role": role or "assistant", "parts": parts}
    if finish:
        message["finish_reason"] = finish
    return message


USAGE_UNKNOWN = "honeyhive_metadata.usage_unknown"


def usage_attributes(out: Attributes, usage: Any) -> None:
    if usage is None:
        # Say so rather than leave it to be read as 0 tokens (e.g. a stream
        # whose app set include_usage: false).
        out[USAGE_UNKNOWN] = True
        return
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    add_usage(
        out,
        input_tokens=getattr(usage, "prompt_tokens", None),
        output_tokens=getattr(usage, "completion_tokens", None),
        total_tokens=getattr(usage, "total_tokens", None),
        # get(): older SDKs keep these unknown fields as plain dicts
        cache_read=get(prompt_details, "cached_tokens"),
        reasoning=get(completion_details, "reasoning_tokens"),
    )


def finish_reasons(out: Attributes, reasons: list[str]) -> None:
    if reasons:
        out[sc.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(reasons)  # type: ignore[assignment]


class ChatEndpoint(Endpoint):
    """``chat.completions.create`` / ``parse`` (and ``stream`` through create)."""

    operation = "chat"
    injects_usage = True

    def request(self, out: Attributes, kwargs: Mapping[str, Any], serializer: Serializer) -> None:
        kind = output_type(kwargs.get("response_format"))
        if kind is not None and self.params.given(kwargs.get("response_format")):
            out[sc.GEN_AI_OUTPUT_TYPE] = kind
        tools = kwargs.get("tools")
        if isinstance(tools, list | tuple) and tools:
            value = serializer.json(tool_definitions(tools), content=False)
            if value is not None:
                out[sc.GEN_AI_TOOL_DEFINITIONS] = value
        if serializer.capture_content:
            messages, system = input_messages(kwargs.get("messages") or ())
            add_messages(out, serializer, inputs=messages, system=system)

    def response(self, out: Attributes, result: Any, serializer: Serializer) -> str | None:
        # ``result`` is always an SDK model here: plain attribute reads.
        add_response_meta(out, response_id=getattr(result, "id", None),
                          response_model=getattr(result, "model", None))
        usage_attributes(out, getattr(result, "usage", None))
        reasons: list[str] = []
        outputs: list[Message] = []
        for choice in getattr(result, "choices", None) or ():
            finish = choice.finish_reason
            if finish:
                reasons.append(str(finish))
            message = choice.message
            outputs.append(
                output_message(
                    message.role,
                    message.content,
                    getattr(message, "refusal", None),
                    message.tool_calls,
                    finish,
                )
            )
        finish_reasons(out, reasons)
        add_messages(out, serializer, outputs=outputs)
        return None

    def stream_state(
        self, kwargs: Mapping[str, Any], serializer: Serializer, hide_usage: bool
    ) -> StreamState:
        return ChatStreamState(self, serializer, hide_usage)


class _Choice:
    """One choice being streamed: text pieces, tool calls by index, finish."""

    __slots__ = ("finish", "refusal", "role", "text", "tools")

    def __init__(self) -> None:
        self.role: Any = None
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.tools: dict[int, list[Any]] = {}
        self.finish: Any = None

    def tool_delta(self, delta: Any) -> None:
        index = get(delta, "index", 0)
        slot = self.tools.get(index)
        if slot is None:
            slot = self.tools[index] = [None, None, []]  # id, name, argument pieces
        call_id = delta.id
        if call_id:
            slot[0] = call_id
        function = delta.function
        if function is not None:
            if function.name:
                slot[1] = function.name
            if function.arguments:
                slot[2].append(function.arguments)

    def message(self) -> Message:
        calls = [
            {"id": t[0], "function": {"name": t[1], "arguments": "".join(t[2])}}
            for _, t in sorted(self.tools.items())
        ]
        return output_message(
            self.role, "".join(self.text), "".join(self.refusal), calls, self.finish
        )


class ChatStreamState(StreamState):
    """Accumulates ``ChatCompletionChunk``s; hides the usage chunk we asked for."""

    __slots__ = ("choices", "endpoint", "hide", "id", "model", "serializer", "usage")

    def __init__(self, endpoint: Endpoint, serializer: Serializer, hide_usage: bool) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.serializer = serializer
        self.hide = hide_usage
        self.id: Any = None
        self.model: Any = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}

    def on_chunk(self, chunk: Any) -> bool:
        # Once per chunk on the app's thread, right after the SDK parsed it:
        # one read per field, no helper calls on the common path.
        if self.id is None and chunk.id:  # Azure opens with an id-less filter chunk
            self.id = chunk.id
            self.model = chunk.model
        choices = chunk.choices
        usage = chunk.usage
        if usage is not None:
            self.usage = usage
            if not choices:
                # The usage-only chunk exists because we added include_usage.
                return not self.hide
        elif self.hide:
            # With include_usage every chunk carries "usage": null; without it
            # the field is absent. Unmark it so model_dump(exclude_unset=True)
            # and to_json() show the app exactly the chunk it asked for.
            try:  # noqa: SIM105 - per chunk: no context manager here
                chunk.__pydantic_fields_set__.discard("usage")
            except AttributeError:  # pydantic v1 / not a model
                pass
        if not choices:
            return True
        if not self.first_ns:
            self.first_ns = perf_counter_ns()
        accumulated = self.choices
        for choice in choices:
            acc = accumulated.get(choice.index)
            if acc is None:
                acc = accumulated[choice.index] = _Choice()
            delta = choice.delta
            if delta is not None:
                content = delta.content
                if content:
                    acc.text.append(content)
                calls = delta.tool_calls
                if calls:
                    for call in calls:
                        acc.tool_delta(call)
                if acc.role is None:
                    acc.role = delta.role
                refusal = getattr(delta, "refusal", None)
                if refusal:
                    acc.refusal.append(refusal)
            finish = choice.finish_reason
            if finish:
                acc.finish = finish
        return True

    def attributes(self, call: CallSpan) -> Attributes:
        out: Attributes = {}
        add_response_meta(out, response_id=self.id, response_model=self.model)
        usage_attributes(out, self.usage)
        choices = [c for _, c in sorted(self.choices.items())]
        finish_reasons(out, [str(c.finish) for c in choices if c.finish])
        add_messages(out, self.serializer, outputs=[c.message() for c in choices])
        return out

"""Chat Completions: request messages, ChatCompletion results and chunk streams."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from time import perf_counter_ns
from typing import Any

from honeyhive_agent import semconv as sc
from honeyhive_agent.serializer import Attributes, Serializer

from .._fields import fields_of
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
from .._wire import PAD, Reader, reading, unmark
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
    # get(): a stream's usage is JSON, and older SDKs keep unknown fields as dicts
    prompt_details = get(usage, "prompt_tokens_details")
    completion_details = get(usage, "completion_tokens_details")
    add_usage(
        out,
        input_tokens=get(usage, "prompt_tokens"),
        output_tokens=get(usage, "completion_tokens"),
        total_tokens=get(usage, "total_tokens"),
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


def _plain_choice(choice: Any) -> dict[str, Any]:
    """A streamed choice model as its JSON would read (for on_data)."""
    fields = dict(fields_of(choice))
    delta = fields.get("delta")
    if delta is not None:
        fields["delta"] = fields_of(delta)
    return fields


class _Choice:
    """One choice being streamed: text pieces, tool calls by index, finish."""

    __slots__ = ("finish", "refusal", "role", "text", "tools")

    def __init__(self) -> None:
        self.role: Any = None
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.tools: dict[int, list[Any]] = {}
        self.finish: Any = None

    def other_delta(self, delta: Mapping[str, Any]) -> None:
        """Fold what a delta carries besides content: role, tool calls, refusal."""
        if self.role is None:
            self.role = delta.get("role")
        calls = delta.get("tool_calls")
        if calls:
            for call in calls:
                self.tool_delta(call)
        refusal = delta.get("refusal")
        if refusal:
            self.refusal.append(refusal)

    def tool_delta(self, delta: Any) -> None:
        """One tool-call delta (JSON, or a model from on_chunk)."""
        index = get(delta, "index", 0)
        slot = self.tools.get(index)
        if slot is None:
            slot = self.tools[index] = [None, None, []]  # id, name, argument pieces
        call_id = get(delta, "id")
        if call_id:
            slot[0] = call_id
        function = get(delta, "function")
        if function is not None:
            name = get(function, "name")
            if name:
                slot[1] = name
            arguments = get(function, "arguments")
            if arguments:
                slot[2].append(arguments)

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
    reads_events = True

    def __init__(self, endpoint: Endpoint, serializer: Serializer, hide_usage: bool) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.serializer = serializer
        self.hide = hide_usage
        self.id: Any = None
        self.model: Any = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}

    def on_data(self, data: dict[str, Any]) -> bool:
        # Once per chunk on the app's thread, with the chunk's JSON, before
        # the SDK builds the model (see _wire). A content delta is a few
        # dict reads and an append; anything else goes to _edge_data.
        choices = data.get("choices")
        usage = data.get("usage")
        if (usage is not None or not choices or not self.first_ns) and not self._edge_data(
            data, choices, usage
        ):
            return False
        accumulated = self.choices
        for choice in choices or ():
            index = choice.get("index", 0)
            acc = accumulated.get(index)
            if acc is None:
                acc = accumulated[index] = _Choice()
            delta = choice.get("delta")
            if delta:
                content = delta.get("content")
                if content:
                    acc.text.append(content)
                if content is None or len(delta) != 1:
                    acc.other_delta(delta)
            finish = choice.get("finish_reason")
            if finish:
                acc.finish = finish
        return True

    def _edge_data(self, data: dict[str, Any], choices: Any, usage: Any) -> bool:
        """The first chunks, choice-less ones, any with usage: whether the app sees it."""
        if self.id is None and data.get("id"):  # Azure opens with an id-less filter chunk
            self.id = data["id"]
            self.model = data.get("model")
        if usage is not None:
            self.usage = usage
            if not choices:
                return not self.hide  # the usage-only chunk that we asked for
        if choices and not self.first_ns:
            self.first_ns = perf_counter_ns()
        return True

    def unset_field(self) -> str | None:
        # With include_usage every chunk carries "usage": null; without it the
        # field is absent: unmark it where we added it.
        return "usage" if self.hide else None

    def reader(self, process: Callable[..., Any]) -> Reader:
        """Reads the chunk most events are in one frame; the rest go to ``on_data``.

        That chunk: one choice, seen before, whose delta is only
        ``{"content": ...}``, with no finish reason and no usage. It is read
        with subscripts, cheaper than ``.get()``; a missing key or any other
        shape is simply not that chunk. Other events take
        :func:`._wire.reading`'s path (told whether the ``unset`` field was
        already dropped here), and both treat that field alike
        (``test_chat_reader.py`` holds them to the same results).
        """
        unset = self.unset_field()
        general = reading(process, self.on_data, unset)
        accumulated = self.choices

        def process_response_data(data: Any, cast_to: Any, response: Any) -> Any:
            dropped = False
            try:
                if unset is not None:
                    # _wire.drop_null(data, unset), inlined: a call per chunk
                    # costs as much as the rest of this block.
                    key, value = data.popitem()
                    if key == unset and value is None:
                        dropped = True
                    else:
                        if key == PAD and data:
                            before, null = data.popitem()
                            if before == unset and null is None:
                                dropped = True
                            else:
                                data[before] = null
                        data[key] = value
                (choice,) = data["choices"]
                delta = choice["delta"]
                hot = (
                    len(delta) == 1
                    and choice["finish_reason"] is None
                    and (dropped or data.get("usage") is None)
                )
                if hot:
                    # KeyError for a choice not seen yet: on_data creates it
                    # (and, at the first, takes the time to first token).
                    text = accumulated[choice["index"]].text
                    content = delta["content"]
            except Exception:  # noqa: BLE001 - another shape: not the hot chunk
                hot = False
            if not hot:
                return general(data, cast_to, response, dropped)
            if content is not None:
                text.append(content)
            model = process(data=data, cast_to=cast_to, response=response)
            if unset is not None and not dropped:
                unmark(model, unset)
            return model

        return process_response_data

    def on_chunk(self, chunk: Any) -> bool:
        """A stream whose events could not be read as JSON: read its models."""
        fields = fields_of(chunk)
        data = {key: fields.get(key) for key in ("id", "model", "usage")}
        data["choices"] = [_plain_choice(choice) for choice in fields["choices"] or ()]
        show = self.on_data(data)
        unset = self.unset_field()
        if show and unset is not None:
            unmark(chunk, unset)  # as _wire does to the chunks it builds
        return show

    def attributes(self, call: CallSpan) -> Attributes:
        out: Attributes = {}
        add_response_meta(out, response_id=self.id, response_model=self.model)
        usage_attributes(out, self.usage)
        choices = [c for _, c in sorted(self.choices.items())]
        finish_reasons(out, [str(c.finish) for c in choices if c.finish])
        add_messages(out, self.serializer, outputs=[c.message() for c in choices])
        return out

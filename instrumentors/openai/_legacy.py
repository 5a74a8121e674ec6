"""Text completions (``completions.create``) and ``embeddings.create``."""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter_ns
from typing import Any

from honeyhive_agent import semconv as sc
from honeyhive_agent.serializer import Attributes, Serializer

from .._span import CallSpan, Message, add_messages, add_response_meta, add_usage, text_part
from .._stream import StreamState
from ._chat import finish_reasons, usage_attributes
from ._common import Endpoint, get

EMBEDDINGS_DIMENSION = "gen_ai.embeddings.dimension.count"


def _prompt_messages(prompt: Any) -> list[Message]:
    prompts = prompt if isinstance(prompt, list) and prompt and isinstance(prompt[0], str) else [
        prompt
    ]
    return [
        {"role": "user", "parts": [text_part(p if isinstance(p, str) else str(p))]}
        for p in prompts
        if p is not None
    ]


def _completion_message(text: Any, finish: Any) -> Message:
    message: Message = {"role": "assistant", "parts": [text_part(str(text or ""))]}
    if finish:
        message["finish_reason"] = finish
    return message


class CompletionsEndpoint(Endpoint):
    operation = "text_completion"
    injects_usage = True

    def request(self, out: Attributes, kwargs: Mapping[str, Any], serializer: Serializer) -> None:
        if serializer.capture_content:
            add_messages(out, serializer, inputs=_prompt_messages(kwargs.get("prompt")))

    def response(self, out: Attributes, result: Any, serializer: Serializer) -> str | None:
        add_response_meta(out, response_id=get(result, "id"), response_model=get(result, "model"))
        usage_attributes(out, get(result, "usage"))
        reasons: list[str] = []
        outputs: list[Message] = []
        for choice in get(result, "choices") or ():
            finish = get(choice, "finish_reason")
            if finish:
                reasons.append(str(finish))
            outputs.append(_completion_message(get(choice, "text"), finish))
        finish_reasons(out, reasons)
        add_messages(out, serializer, outputs=outputs)
        return None

    def stream_state(
        self, kwargs: Mapping[str, Any], serializer: Serializer, hide_usage: bool
    ) -> StreamState:
        return CompletionsStreamState(serializer, hide_usage)


class CompletionsStreamState(StreamState):
    __slots__ = ("finish", "hide", "id", "model", "serializer", "texts", "usage")

    def __init__(self, serializer: Serializer, hide_usage: bool) -> None:
        super().__init__()
        self.serializer = serializer
        self.hide = hide_usage
        self.id: Any = None
        self.model: Any = None
        self.usage: Any = None
        self.texts: dict[int, list[str]] = {}
        self.finish: dict[int, Any] = {}

    def on_chunk(self, chunk: Any) -> bool:
        if self.id is None and chunk.id:  # Azure opens with an id-less filter chunk
            self.id = chunk.id
            self.model = chunk.model
        usage = chunk.usage
        if usage is not None:
            self.usage = usage
        elif self.hide:
            fields = getattr(chunk, "__pydantic_fields_set__", None)
            if fields is not None:
                fields.discard("usage")
        choices = chunk.choices
        if not choices:
            return not (self.hide and usage is not None)
        if not self.first_ns:
            self.first_ns = perf_counter_ns()
        for choice in choices:
            index = choice.index
            pieces = self.texts.get(index)
            if pieces is None:
                pieces = self.texts[index] = []
            if choice.text:
                pieces.append(choice.text)
            if choice.finish_reason:
                self.finish[index] = choice.finish_reason
        return True

    def attributes(self, call: CallSpan) -> Attributes:
        out: Attributes = {}
        add_response_meta(out, response_id=self.id, response_model=self.model)
        usage_attributes(out, self.usage)
        indexes = sorted(self.texts)
        finish_reasons(out, [str(self.finish[i]) for i in indexes if self.finish.get(i)])
        outputs = [_completion_message("".join(self.texts[i]), self.finish.get(i)) for i in indexes]
        add_messages(out, self.serializer, outputs=outputs)
        return out


class EmbeddingsEndpoint(Endpoint):
    operation = "embeddings"

    def request(self, out: Attributes, kwargs: Mapping[str, Any], serializer: Serializer) -> None:
        value = kwargs.get("input")
        if self.params.given(value):
            serializer.flatten_into(out, f"{sc.INPUTS}.input", value, content=True)

    def response(self, out: Attributes, result: Any, serializer: Serializer) -> str | None:
        add_response_meta(out, response_model=get(result, "model"))
        usage = get(result, "usage")
        add_usage(out, input_tokens=get(usage, "prompt_tokens"),
                  total_tokens=get(usage, "total_tokens"))
        data = get(result, "data") or ()
        out[f"{sc.OUTPUTS}.embedding_count"] = len(data)
        if data:
            vector = get(data[0], "embedding")
            if isinstance(vector, list | tuple):
                out[EMBEDDINGS_DIMENSION] = len(vector)
                out[f"{sc.OUTPUTS}.dimensions"] = len(vector)
        return None

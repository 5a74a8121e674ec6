"""A stream's models built with the SDK's per-event checks settled once
(:mod:`instrumentors._construct`): the same models, and the SDK's own call
wherever the checks cannot be settled."""

from __future__ import annotations

import types
from typing import Any

import anthropic
import httpx
import openai
import pydantic
import pytest
import wrapt
from anthropic.types import RawMessageStreamEvent
from openai.types.chat import ChatCompletionChunk

from instrumentors._construct import lean_process

RESPONSE = httpx.Response(200, request=httpx.Request("POST", "http://127.0.0.1/v1"))

CHUNKS: list[Any] = [
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                  "logprobs": None, "finish_reason": None}], "obfuscation": "ab"},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
     "choices": [{"index": 0, "delta": {"tool_calls": [
         {"index": 0, "id": "t", "type": "function",
          "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}],
     "usage": None, "a_field_from_the_future": {"x": [1, 2]}},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
     "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5,
                              "prompt_tokens_details": {"cached_tokens": 1}}},
    {"choices": "not a list", "created": "not an int"},  # built leniently, as the SDK does
    {},
]

EVENTS: list[Any] = [
    {"type": "message_start", "message": {
        "id": "msg", "type": "message", "role": "assistant", "model": "claude", "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
     "usage": {"output_tokens": 2}},
    {"type": "a_type_from_the_future", "x": 1},
]


def _observed(model: Any) -> Any:
    """What an app can observe of a built event."""
    if not isinstance(model, pydantic.BaseModel):
        return model
    return (type(model), model.model_dump(), model.model_dump(exclude_unset=True),
            model.model_extra, model.to_json())


def _clients() -> list[tuple[Any, Any, list[Any]]]:
    return [
        (openai.OpenAI(api_key="sk-test"), ChatCompletionChunk, CHUNKS),
        (openai.AsyncOpenAI(api_key="sk-test"), ChatCompletionChunk, CHUNKS),
        (anthropic.Anthropic(api_key="sk-test"), RawMessageStreamEvent, EVENTS),
        (anthropic.AsyncAnthropic(api_key="sk-test"), RawMessageStreamEvent, EVENTS),
    ]


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@pytest.mark.parametrize(("client", "cast_to", "events"), _clients())
def test_builds_what_the_sdk_builds(client: Any, cast_to: Any, events: list[Any]) -> None:
    process = client._process_response_data
    lean = lean_process(process, cast_to)
    assert lean is not process  # the SDKs we support are the shape we know
    for event in events:
        ours = lean(data=dict(event), cast_to=cast_to, response=RESPONSE)
        sdks = process(data=dict(event), cast_to=cast_to, response=RESPONSE)
        assert _observed(ours) == _observed(sdks)
    assert lean(data=None, cast_to=cast_to, response=RESPONSE) is None
    # Another cast_to than the stream's: the SDK's own call decides.
    assert lean(data={"a": 1}, cast_to=_Builder, response=RESPONSE) == ("built", {"a": 1})


def test_a_construction_error_is_raised_by_the_sdks_own_call() -> None:
    client = openai.OpenAI(api_key="sk-test")
    lean = lean_process(client._process_response_data, ChatCompletionChunk)
    bad = {1: "a key that is not a name"}
    with pytest.raises(TypeError) as sdks:
        client._process_response_data(data=bad, cast_to=ChatCompletionChunk, response=RESPONSE)
    with pytest.raises(TypeError) as ours:
        lean(data=bad, cast_to=ChatCompletionChunk, response=RESPONSE)
    assert str(ours.value) == str(sdks.value)
    # raised from inside the SDK's method, as the SDK would (e.g. a pydantic
    # ValidationError as its APIResponseValidationError)
    assert "_process_response_data" in [entry.name for entry in ours.traceback]


class _Builder:
    """A cast_to the SDK builds with its own ``build`` (ModelBuilderProtocol)."""

    @classmethod
    def build(cls, *, response: Any, data: Any) -> Any:
        return ("built", data)


class _OwnProcess(openai.OpenAI):
    def _process_response_data(self, *, data: Any, cast_to: Any, response: Any) -> Any:
        return ("own", data)


def test_the_sdks_own_call_where_the_checks_cannot_be_settled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = openai.OpenAI(api_key="sk-test")
    strict = openai.OpenAI(api_key="sk-test", _strict_response_validation=True)
    own = _OwnProcess(api_key="sk-test")
    for process, cast_to in [
        (strict._process_response_data, ChatCompletionChunk),  # validates every event
        (plain._process_response_data, object),  # returns the JSON itself
        (plain._process_response_data, _Builder),  # the class builds its models
        (own._process_response_data, ChatCompletionChunk),  # the client's own method
        (lambda **kw: kw, ChatCompletionChunk),  # not a client's method at all
    ]:
        assert lean_process(process, cast_to) is process
    assert plain._process_response_data(data={}, cast_to=_Builder, response=None) == ("built", {})

    # Another instrumentor's wrapper around the SDK's method.
    monkeypatch.setattr(openai.OpenAI, "_process_response_data", wrapt.FunctionWrapper(
        openai.OpenAI._process_response_data, lambda wrapped, inst, args, kw: wrapped(**kw)))
    wrapped = openai.OpenAI(api_key="sk-test")._process_response_data
    assert lean_process(wrapped, ChatCompletionChunk) is wrapped


def test_only_the_sdks_own_method_as_we_know_it_is_stood_in_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A later SDK release whose method does more than we know of."""
    sdk = openai.OpenAI._process_response_data

    def _process_response_data(self: Any, *, data: Any, cast_to: Any, response: Any) -> Any:
        if self._strict_response_validation or issubclass(cast_to, ModelBuilderProtocol):  # type: ignore[name-defined] # noqa: F821
            return None
        return construct_type(type_=cast_to, value=something_new(data))  # type: ignore[name-defined] # noqa: F821

    later = types.FunctionType(_process_response_data.__code__, sdk.__globals__)
    later.__qualname__ = sdk.__qualname__
    monkeypatch.setattr(openai.OpenAI, "_process_response_data", later)
    process = openai.OpenAI(api_key="sk-test")._process_response_data
    assert lean_process(process, ChatCompletionChunk) is process
    # One with only known names, but not the SDK's (a subclass's override).
    def _mutating(self: Any, *, data: Any, cast_to: Any, response: Any) -> Any:
        if self._strict_response_validation or issubclass(cast_to, ModelBuilderProtocol):  # type: ignore[name-defined] # noqa: F821
            return None
        data["id"] = "changed"
        return construct_type(type_=cast_to, value=data)  # type: ignore[name-defined] # noqa: F821

    override = types.FunctionType(_mutating.__code__, sdk.__globals__)
    override.__qualname__ = "MyClient._process_response_data"
    monkeypatch.setattr(openai.OpenAI, "_process_response_data", override)
    process = openai.OpenAI(api_key="sk-test")._process_response_data
    assert lean_process(process, ChatCompletionChunk) is process
    # The SDK's own code, as a later release might have it, is stood in for.
    known = types.FunctionType(sdk.__code__, sdk.__globals__)
    known.__qualname__ = sdk.__qualname__
    monkeypatch.setattr(openai.OpenAI, "_process_response_data", known)
    process = openai.OpenAI(api_key="sk-test")._process_response_data
    assert lean_process(process, ChatCompletionChunk) is not process


def test_streams_are_built_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in is what a stream set up by ``_wire.install`` calls."""
    from instrumentors import _wire

    seen: list[Any] = []
    real = _wire.lean_process

    def spying(process: Any, cast_to: Any) -> Any:
        lean = real(process, cast_to)
        seen.append((lean is not process, cast_to))
        return lean

    monkeypatch.setattr(_wire, "lean_process", spying)
    client = openai.OpenAI(api_key="sk-test")

    class _Stream:
        _cast_to = ChatCompletionChunk

        def __init__(self) -> None:
            self._client = client
            self._iterator = self.__stream__()

        def __stream__(self) -> Any:
            process = self._client._process_response_data
            for data in CHUNKS[:3]:
                yield process(data=dict(data), cast_to=ChatCompletionChunk, response=RESPONSE)

    stream = _Stream()
    assert _wire.install(stream, stream._iterator, lambda process: process)
    built = list(stream._iterator)
    assert seen == [(True, ChatCompletionChunk)]
    assert [_observed(m) for m in built] == [
        _observed(client._process_response_data(data=dict(d), cast_to=ChatCompletionChunk,
                                                response=RESPONSE)) for d in CHUNKS[:3]]

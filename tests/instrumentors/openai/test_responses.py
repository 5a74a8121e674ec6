"""Responses API: create, parse, create(stream=True) and the responses.stream() helper."""

from __future__ import annotations

import gc
import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode
from pydantic import BaseModel

from instrumentors.openai import OpenAIInstrumentor
from tests.fakes.openai_server import FakeOpenAI, ToolCall

from ..conftest import SpanSink
from .conftest import needs_responses
from .test_streams import TEXT, bare_and_traced

pytestmark = needs_responses


def test_create_with_instructions(client: openai.OpenAI, sink: SpanSink) -> None:
    response = client.responses.create(
        model="gpt-4o", input="Say hello", instructions="Be brief.", max_output_tokens=50,
        temperature=0.3,
    )
    assert response.output_text == TEXT
    span = sink.only()
    attrs = SpanSink.attrs(span)
    assert span.name == "chat gpt-4o"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.max_tokens"] == 50
    assert attrs["gen_ai.request.temperature"] == 0.3
    assert attrs["gen_ai.response.id"] == response.id
    assert attrs["gen_ai.response.model"] == "gpt-4o-2025-01-01"
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.usage.input_tokens"] == 4
    assert attrs["gen_ai.usage.output_tokens"] == 6
    assert json.loads(attrs["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello"}]}
    ]
    assert json.loads(attrs["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": TEXT}],
         "finish_reason": "stop"}
    ]
    # HoneyHive's chat history includes the system prompt.
    assert attrs["honeyhive_inputs.chat_history.0.role"] == "system"
    assert attrs["honeyhive_inputs.chat_history.0.content"] == "Be brief."
    assert attrs["honeyhive_inputs.chat_history.1.content"] == "Say hello"
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["honeyhive_config.max_output_tokens"] == 50


def test_function_calls_and_outputs(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    tools: Any = [{"type": "function", "name": "get_weather",
                   "parameters": {"type": "object", "properties": {}}}]
    fake.script(tool_calls=[ToolCall("get_weather", '{"city":"Paris"}', id="call_9")])
    first = client.responses.create(model="gpt-4o", input="Weather?", tools=tools)
    items: Any = [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
        {"type": "function_call", "call_id": "call_9", "name": "get_weather",
         "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_9", "output": "sunny"},
    ]
    client.responses.create(model="gpt-4o", input=items, tools=tools)
    a1, a2 = (SpanSink.attrs(s) for s in sink.spans())
    assert first.output[0].type == "function_call"
    assert a1["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert json.loads(a1["gen_ai.output.messages"])[0]["parts"] == [
        {"type": "tool_call", "id": "call_9", "name": "get_weather",
         "arguments": {"city": "Paris"}}
    ]
    assert json.loads(a1["gen_ai.tool.definitions"]) == tools
    assert a1["honeyhive_outputs.tool_calls.0.name"] == "get_weather"
    assert json.loads(a2["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_9",
                                         "name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_9",
                                    "response": "sunny"}]},
    ]


class Weather(BaseModel):
    city: str


def test_parse(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    fake.script(text='{"city":"Paris"}')
    parsed = client.responses.parse(model="gpt-4o", input="Weather?", text_format=Weather)
    assert parsed.output_parsed == Weather(city="Paris")
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.output.type"] == "json"
    assert attrs["honeyhive_outputs.content"] == '{"city":"Paris"}'


def test_incomplete_finish_reason(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    fake.script(finish_reason="max_output_tokens")
    client.responses.create(model="gpt-4o", input="Long story")
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.response.finish_reasons"] == ("max_output_tokens",)


def test_stream_create(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> list[Any]:
        return [e.model_dump() for e in client.responses.create(
            model="gpt-4o", input="Say hello", stream=True)]

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert traced == bare
    assert "stream_options" not in fake.last.body
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["gen_ai.usage.output_tokens"] == 6
    assert attrs["honeyhive_metrics.time_to_first_token_ms"] > 0
    assert "honeyhive_metadata.incomplete" not in attrs


def test_stream_helper(client: openai.OpenAI, sink: SpanSink) -> None:
    with client.responses.stream(model="gpt-4o", input="Say hello") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == TEXT
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.response.id"] == final.id
    assert attrs["honeyhive_outputs.content"] == TEXT


def test_stream_helper_early_exit(client: openai.OpenAI, sink: SpanSink) -> None:
    with client.responses.stream(model="gpt-4o", input="Say hello") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                break
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_metadata.stream_end"] == "closed"
    assert attrs["honeyhive_outputs.content"] == "Hello "
    assert attrs["gen_ai.response.id"].startswith("resp_")


def test_streamed_function_call_partial_on_gc(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    fake.script(tool_calls=[ToolCall("lookup", '{"q": "a b c"}', id="call_1")])
    stream = client.responses.create(model="gpt-4o", input="x", stream=True)
    for event in stream:
        if event.type == "response.function_call_arguments.delta":
            break
    del stream, event
    gc.collect()
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_metadata.stream_end"] == "garbage_collected"
    assert attrs["honeyhive_outputs.tool_calls.0.name"] == "lookup"
    assert attrs["honeyhive_outputs.tool_calls.0.arguments"] == '{"q": '


async def test_async_create_and_stream(aclient: openai.AsyncOpenAI, sink: SpanSink) -> None:
    response = await aclient.responses.create(model="gpt-4o", input="Say hello")
    stream = await aclient.responses.create(model="gpt-4o", input="Say hello", stream=True)
    events = [e async for e in stream]
    assert events[-1].type == "response.completed"
    async with aclient.responses.stream(model="gpt-4o", input="Say hello") as helper:
        final = await helper.get_final_response()
    spans = sink.spans()
    assert len(spans) == 3
    assert [SpanSink.attrs(s)["honeyhive_outputs.content"] for s in spans] == [TEXT] * 3
    assert SpanSink.attrs(spans[0])["gen_ai.response.id"] == response.id
    assert SpanSink.attrs(spans[2])["gen_ai.response.id"] == final.id


def test_api_error(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    fake.script(error=400, error_message="bad input")
    with pytest.raises(openai.BadRequestError, match="bad input"):
        client.responses.create(model="gpt-4o", input="x")
    span = sink.only()
    assert span.status.status_code is StatusCode.ERROR
    assert SpanSink.attrs(span)["http.response.status_code"] == 400

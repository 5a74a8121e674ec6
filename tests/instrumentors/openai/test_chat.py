"""chat.completions.create / parse (non-streaming): exact attributes, errors, content rules."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from honeyhive_agent.serializer import Serializer
from instrumentors.openai import OpenAIInstrumentor
from tests.fakes.openai_server import FakeOpenAI, ToolCall

from ..conftest import SpanSink
from .conftest import USER, chat_helper


def test_chat_create_exact_attributes(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    messages: Any = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    result = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages,
        temperature=0.5,
        max_tokens=20,
        top_p=0.9,
        stop=["\n"],
        seed=7,
        frequency_penalty=0.1,
        presence_penalty=0.2,
    )
    assert result.choices[0].message.content == "Hello from the fake OpenAI server."
    span = sink.only()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "honeyhive_agent.instrumentors.openai"
    assert SpanSink.attrs(span) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.max_tokens": 20,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ("\n",),
        "gen_ai.request.seed": 7,
        "gen_ai.request.frequency_penalty": 0.1,
        "gen_ai.request.presence_penalty": 0.2,
        "gen_ai.response.id": result.id,
        "gen_ai.response.model": "gpt-4o-mini-2025-01-01",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 4,
        "gen_ai.usage.output_tokens": 6,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 0,
        "gen_ai.system_instructions": '[{"type":"text","content":"Be brief."}]',
        "gen_ai.input.messages": json.dumps(
            [
                {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
                {"role": "user", "parts": [{"type": "text", "content": "Say hello"}]},
            ],
            separators=(",", ":"),
        ),
        "gen_ai.output.messages": json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": "Hello from the fake OpenAI server."}],
                    "finish_reason": "stop",
                }
            ],
            separators=(",", ":"),
        ),
        "server.address": "127.0.0.1",
        "server.port": fake.port,
        "honeyhive_event_type": "model",
        "honeyhive_event_name": "openai.chat",
        "honeyhive_config.provider": "openai",
        "honeyhive_config.model": "gpt-4o-mini",
        "honeyhive_config.temperature": 0.5,
        "honeyhive_config.max_tokens": 20,
        "honeyhive_config.top_p": 0.9,
        "honeyhive_config.stop.0": "\n",
        "honeyhive_config.seed": 7,
        "honeyhive_config.frequency_penalty": 0.1,
        "honeyhive_config.presence_penalty": 0.2,
        "honeyhive_inputs.chat_history.0.role": "system",
        "honeyhive_inputs.chat_history.0.content": "Be brief.",
        "honeyhive_inputs.chat_history.1.role": "user",
        "honeyhive_inputs.chat_history.1.content": "Say hello",
        "honeyhive_outputs.role": "assistant",
        "honeyhive_outputs.content": "Hello from the fake OpenAI server.",
        "honeyhive_outputs.finish_reason": "stop",
        "honeyhive_metadata.prompt_tokens": 4,
        "honeyhive_metadata.completion_tokens": 6,
        "honeyhive_metadata.total_tokens": 10,
        "honeyhive_metadata.cache_read_input_tokens": 0,
        "honeyhive_metadata.reasoning_tokens": 0,
        "honeyhive_metadata.response_id": result.id,
    }


def test_tool_calls_round_trip(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    tools: Any = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    fake.script(tool_calls=[ToolCall("get_weather", '{"city": "Paris"}', id="call_1")])
    first = client.chat.completions.create(model="gpt-4o", messages=USER, tools=tools)
    call: Any = (first.choices[0].message.tool_calls or [])[0]
    history: Any = [
        *USER,
        first.choices[0].message,  # an SDK object, as apps append it
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    client.chat.completions.create(model="gpt-4o", tools=tools, messages=history)
    span1, span2 = sink.spans()
    a1, a2 = SpanSink.attrs(span1), SpanSink.attrs(span2)
    assert a1["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert json.loads(a1["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "get_weather",
                 "arguments": {"city": "Paris"}}
            ],
            "finish_reason": "tool_calls",
        }
    ]
    assert json.loads(a1["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "get_weather",
         "parameters": tools[0]["function"]["parameters"]}
    ]
    assert a1["honeyhive_config.tools.0.type"] == "function"
    assert a1["honeyhive_config.tools.0.name"] == "get_weather"
    assert json.loads(a1["honeyhive_config.tools.0.parameters"]) == tools[0]["function"][
        "parameters"
    ]
    assert not [k for k in a1 if k.startswith("honeyhive_config.tools.0.parameters.")]
    assert a1["honeyhive_outputs.tool_calls.0.id"] == "call_1"
    assert a1["honeyhive_outputs.tool_calls.0.name"] == "get_weather"
    assert a1["honeyhive_outputs.tool_calls.0.arguments"] == '{"city":"Paris"}'
    assert "honeyhive_outputs.content" not in a1
    inputs = json.loads(a2["gen_ai.input.messages"])
    assert inputs[1]["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "get_weather",
         "arguments": {"city": "Paris"}}
    ]
    assert inputs[2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "sunny"}],
    }
    assert a2["honeyhive_inputs.chat_history.1.tool_calls.0.name"] == "get_weather"
    assert a2["honeyhive_inputs.chat_history.2.role"] == "tool"
    assert a2["honeyhive_inputs.chat_history.2.tool_call_id"] == "call_1"
    assert a2["honeyhive_inputs.chat_history.2.content"] == "sunny"


def test_n_choices(client: openai.OpenAI, sink: SpanSink) -> None:
    result = client.chat.completions.create(model="gpt-4o", messages=USER, n=2)
    assert len(result.choices) == 2
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.request.choice.count"] == 2
    assert attrs["gen_ai.response.finish_reasons"] == ("stop", "stop")
    outputs = json.loads(attrs["gen_ai.output.messages"])
    assert [m["parts"][0]["content"] for m in outputs] == [
        c.message.content for c in result.choices
    ]
    assert attrs["honeyhive_outputs.content"] == result.choices[0].message.content
    assert attrs["honeyhive_outputs.choices.1.content"] == result.choices[1].message.content


def test_images_and_audio_are_placeholders(client: openai.OpenAI, sink: SpanSink) -> None:
    blob = "data:image/png;base64," + "A" * 5000
    messages: Any = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": blob}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                {"type": "input_audio", "input_audio": {"data": "B" * 5000, "format": "wav"}},
            ],
        }
    ]
    client.chat.completions.create(model="gpt-4o", messages=messages)
    attrs = SpanSink.attrs(sink.only())
    text = " ".join(str(v) for v in attrs.values())
    assert "AAAA" not in text and "BBBB" not in text
    parts = json.loads(attrs["gen_ai.input.messages"])[0]["parts"]
    assert parts == [
        {"type": "text", "content": "What is this?"},
        {"type": "blob", "modality": "image", "content": "[image]"},
        {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
        {"type": "blob", "modality": "audio", "content": "[audio]", "mime_type": "audio/wav"},
    ]
    assert attrs["honeyhive_inputs.chat_history.0.content"] == (
        "What is this?\n[image]\n[image]\n[audio]"
    )


class Answer(BaseModel):
    city: str
    temperature_c: int


def test_parse_structured_output(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    fake.script(text='{"city":"Paris","temperature_c":21}')
    result = chat_helper(client, "parse")(model="gpt-4o", messages=USER, response_format=Answer)
    assert result.choices[0].message.parsed == Answer(city="Paris", temperature_c=21)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.output.type"] == "json"
    assert attrs["honeyhive_config.response_format"] == "Answer"
    assert attrs["honeyhive_outputs.content"] == '{"city":"Paris","temperature_c":21}'
    assert fake.last.body["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize(
    ("status", "error_cls"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
    ],
)
def test_api_errors(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink, status: int, error_cls: type
) -> None:
    fake.script(error=status)
    with pytest.raises(error_cls) as caught:
        client.chat.completions.create(model="gpt-4o", messages=USER)
    assert type(caught.value) is error_cls
    assert getattr(caught.value, "status_code", None) == status
    span = sink.only()
    attrs = SpanSink.attrs(span)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs["error.type"] == error_cls.__name__
    assert attrs["http.response.status_code"] == status
    assert attrs["honeyhive_error"].startswith(f"{error_cls.__name__}: Error code: {status}")
    assert "gen_ai.response.id" not in attrs
    assert [e.name for e in span.events] == ["exception"]


def test_connection_error_has_no_status(sink: SpanSink, instrumentor: OpenAIInstrumentor) -> None:
    with FakeOpenAI() as dead:
        url = dead.base_url
    client = openai.OpenAI(base_url=url, api_key="x", max_retries=0, timeout=2)
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4o", messages=USER)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["error.type"] == "APIConnectionError"
    assert "http.response.status_code" not in attrs


def test_parent_span(client: openai.OpenAI, sink: SpanSink) -> None:
    tracer = sink.provider.get_tracer("test")
    with tracer.start_as_current_span("workflow") as parent:
        client.chat.completions.create(model="gpt-4o", messages=USER)
    child, root = sink.spans()
    assert root.name == "workflow"
    assert child.parent is not None
    assert child.parent.span_id == parent.get_span_context().span_id
    assert child.context.trace_id == parent.get_span_context().trace_id


class _HH:
    def __init__(self, sink: SpanSink, serializer: Serializer) -> None:
        self.sink = sink
        self.serializer = serializer

    def get_otel_tracer(self, scope: str = "x", version: str | None = None) -> Any:
        return self.sink.provider.get_tracer(scope, version)


def test_capture_content_off_keeps_metadata(fake: FakeOpenAI, sink: SpanSink) -> None:
    inst = OpenAIInstrumentor()
    inst.instrument(hh_tracer=_HH(sink, Serializer(capture_content=False)))
    try:
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        messages: Any = [{"role": "system", "content": "secret"}, *USER]
        client.chat.completions.create(model="gpt-4o", messages=messages)
    finally:
        inst.uninstrument()
    attrs = SpanSink.attrs(sink.only())
    assert not [k for k in attrs if "messages" in k or "instructions" in k]
    assert not [k for k in attrs if k.startswith(("honeyhive_inputs", "honeyhive_outputs"))]
    assert attrs["gen_ai.usage.output_tokens"] == 6
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)


def test_redaction_applies(fake: FakeOpenAI, sink: SpanSink) -> None:
    inst = OpenAIInstrumentor()
    inst.instrument(hh_tracer=lambda: _HH(sink, Serializer(redact=[r"sk-[a-z0-9]+"])))
    try:
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        messages: Any = [{"role": "user", "content": "my key is sk-abc123"}]
        client.chat.completions.create(model="gpt-4o", messages=messages)
    finally:
        inst.uninstrument()
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_inputs.chat_history.0.content"] == "my key is [REDACTED]"
    assert "sk-abc123" not in attrs["gen_ai.input.messages"]


async def test_async_chat(aclient: openai.AsyncOpenAI, sink: SpanSink) -> None:
    result = await aclient.chat.completions.create(model="gpt-4o", messages=USER)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.response.id"] == result.id
    assert attrs["honeyhive_outputs.content"] == result.choices[0].message.content


async def test_async_error(aclient: openai.AsyncOpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    fake.script(error=429)
    with pytest.raises(openai.RateLimitError):
        await aclient.chat.completions.create(model="gpt-4o", messages=USER)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["error.type"] == "RateLimitError"
    assert attrs["http.response.status_code"] == 429


def test_one_shot_iterables_reach_the_sdk_intact(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    messages: Any = (m for m in USER)
    tools: Any = (t for t in [{"type": "function", "function": {"name": "f"}}])
    client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
    assert fake.last.body["messages"] == USER
    assert fake.last.body["tools"] == [{"type": "function", "function": {"name": "f"}}]
    assert len(sink.spans()) == 1


def test_n_equal_one_is_not_a_choice_count(client: openai.OpenAI, sink: SpanSink) -> None:
    client.chat.completions.create(model="gpt-4o", messages=USER, n=1)
    attrs = SpanSink.attrs(sink.only())
    assert "gen_ai.request.choice.count" not in attrs
    assert attrs["honeyhive_config.n"] == 1

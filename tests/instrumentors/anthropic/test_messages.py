"""messages.create / parse: the exact span contract, sync and async."""

from __future__ import annotations

import inspect
import json
from typing import Any

import anthropic
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from tests.fakes.anthropic_server import FakeAnthropic, Reply, text, thinking, tool_use

from .conftest import MODEL, USER, MakeTraced, Traced

TOOLS: Any = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]


def test_create_records_the_full_contract(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=64,
        system="You are terse.",
        messages=USER,
        stop_sequences=["END"],
        extra_body={"temperature": 0.2, "top_p": 0.9, "top_k": 5},
    )
    span = traced.only()
    attrs: dict[str, Any] = dict(span.attributes or {})
    port = int(fake.url.rsplit(":", 1)[1])

    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    expected = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 5,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.response.model": MODEL,
        "gen_ai.response.id": message.id,
        "gen_ai.response.finish_reasons": ("end_turn",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 7,
        "server.address": "127.0.0.1",
        "server.port": port,
        "honeyhive_event_type": "model",
        "honeyhive_event_name": "anthropic.chat",
        "honeyhive_config.model": MODEL,
        "honeyhive_config.provider": "anthropic",
        "honeyhive_config.max_tokens": 64,
        "honeyhive_config.temperature": 0.2,
        "honeyhive_config.stop_sequences.0": "END",
        "honeyhive_inputs.chat_history.0.role": "system",
        "honeyhive_inputs.chat_history.0.content": "You are terse.",
        "honeyhive_inputs.chat_history.1.role": "user",
        "honeyhive_inputs.chat_history.1.content": "Hi",
        "honeyhive_outputs.role": "assistant",
        "honeyhive_outputs.content": "Hello there!",
        "honeyhive_outputs.finish_reason": "end_turn",
        "honeyhive_metadata.prompt_tokens": 12,
        "honeyhive_metadata.completion_tokens": 7,
        "honeyhive_metadata.total_tokens": 19,
        "honeyhive_metadata.response_id": message.id,
    }
    assert {k: attrs.get(k) for k in expected} == expected
    assert json.loads(attrs["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "You are terse."}
    ]
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}
    ]
    assert json.loads(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello there!"}],
            "finish_reason": "end_turn",
        }
    ]
    # Session stamping comes from the tracer: the span belongs to its session.
    assert attrs["honeyhive.session_id"] == traced.tracer.session_id


async def test_async_create_matches_sync(
    traced: Traced, aclient: anthropic.AsyncAnthropic
) -> None:
    message = await aclient.messages.create(model=MODEL, max_tokens=8, messages=USER)
    attrs = traced.attrs()
    assert message.content[0].text == "Hello there!"  # type: ignore[union-attr]
    assert attrs["honeyhive_event_name"] == "anthropic.chat"
    assert attrs["gen_ai.usage.output_tokens"] == 7
    assert attrs["honeyhive_outputs.content"] == "Hello there!"


def test_system_blocks_tools_and_tool_results(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(
        Reply(content=[text("Checking."), tool_use("get_weather", {"city": "Paris"}, id="tu_2")],
              stop_reason="tool_use")
    )
    history: Any = [
        {"role": "user", "content": "Weather in Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "tu_1", "name": "get_weather",
                 "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "tu_1", "content": "Sunny, 24C"},
                {"type": "text", "text": "And Paris?"},
            ],
        },
    ]
    client.messages.create(
        model=MODEL,
        max_tokens=64,
        system=[{"type": "text", "text": "Part one."}, {"type": "text", "text": "Part two."}],
        messages=history,
        tools=TOOLS,
        tool_choice={"type": "auto"},
    )
    attrs = traced.attrs()

    assert json.loads(attrs["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Part one."},
        {"type": "text", "content": "Part two."},
    ]
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Rome?"}]},
        {"role": "assistant", "parts": [
            {"type": "tool_call", "name": "get_weather", "id": "tu_1",
             "arguments": {"city": "Rome"}},
        ]},
        {"role": "tool", "parts": [
            {"type": "tool_call_response", "response": "Sunny, 24C", "id": "tu_1"},
        ]},
        {"role": "user", "parts": [{"type": "text", "content": "And Paris?"}]},
    ]
    history_attrs = {k: v for k, v in attrs.items() if k.startswith("honeyhive_inputs.")}
    assert history_attrs == {
        "honeyhive_inputs.chat_history.0.role": "system",
        "honeyhive_inputs.chat_history.0.content": "Part one.\nPart two.",
        "honeyhive_inputs.chat_history.1.role": "user",
        "honeyhive_inputs.chat_history.1.content": "Weather in Rome?",
        "honeyhive_inputs.chat_history.2.role": "assistant",
        "honeyhive_inputs.chat_history.2.tool_calls.0.id": "tu_1",
        "honeyhive_inputs.chat_history.2.tool_calls.0.name": "get_weather",
        "honeyhive_inputs.chat_history.2.tool_calls.0.arguments": '{"city":"Rome"}',
        "honeyhive_inputs.chat_history.3.role": "tool",
        "honeyhive_inputs.chat_history.3.tool_call_id": "tu_1",
        "honeyhive_inputs.chat_history.3.content": "Sunny, 24C",
        "honeyhive_inputs.chat_history.4.role": "user",
        "honeyhive_inputs.chat_history.4.content": "And Paris?",
    }
    assert json.loads(attrs["gen_ai.tool.definitions"]) == [  # the semconv shape
        {"type": "function", "name": "get_weather", "description": "Weather for a city",
         "parameters": TOOLS[0]["input_schema"]}
    ]
    assert attrs["honeyhive_config.tools.0.name"] == "get_weather"
    assert attrs["honeyhive_config.tools.0.description"] == "Weather for a city"
    # The schema is one JSON string (a big schema stays one attribute).
    assert json.loads(attrs["honeyhive_config.tools.0.parameters"]) == TOOLS[0]["input_schema"]
    assert attrs["honeyhive_config.tool_choice.type"] == "auto"
    assert attrs["honeyhive_outputs.content"] == "Checking."
    assert attrs["honeyhive_outputs.tool_calls.0.id"] == "tu_2"
    assert attrs["honeyhive_outputs.tool_calls.0.name"] == "get_weather"
    assert attrs["honeyhive_outputs.tool_calls.0.arguments"] == '{"city":"Paris"}'
    assert attrs["honeyhive_outputs.finish_reason"] == "tool_use"
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"][1] == {
        "type": "tool_call", "name": "get_weather", "id": "tu_2", "arguments": {"city": "Paris"},
    }


def test_thinking_and_cache_tokens(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(
        Reply(
            content=[thinking("Let me think."), text("42")],
            usage={
                "input_tokens": 10,
                "output_tokens": 30,
                "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 1000,
                "output_tokens_details": {"thinking_tokens": 20},
            },
        )
    )
    thinking_config: Any = {"type": "enabled", "budget_tokens": 1024}
    if "thinking" in inspect.signature(type(client.messages).create).parameters:
        client.messages.create(
            model=MODEL, max_tokens=2048, messages=USER, thinking=thinking_config
        )
    else:  # an SDK older than extended thinking: the app passes it in extra_body
        client.messages.create(
            model=MODEL, max_tokens=2048, messages=USER, extra_body={"thinking": thinking_config}
        )
    attrs = traced.attrs()
    # GenAI input tokens include the cached ones (the conventions' rule).
    assert attrs["gen_ai.usage.input_tokens"] == 1110
    assert attrs["gen_ai.usage.output_tokens"] == 30
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 1000
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 100
    assert attrs["honeyhive_metadata.cache_read_input_tokens"] == 1000
    assert attrs["honeyhive_metadata.cache_creation_input_tokens"] == 100
    if "gen_ai.usage.reasoning.output_tokens" in attrs:  # SDKs that model the detail
        assert attrs["gen_ai.usage.reasoning.output_tokens"] == 20
    assert attrs["honeyhive_config.thinking.budget_tokens"] == 1024
    assert attrs["honeyhive_outputs.thinking"] == "Let me think."
    assert attrs["honeyhive_outputs.content"] == "42"
    assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"] == [
        {"type": "reasoning", "content": "Let me think."},
        {"type": "text", "content": "42"},
    ]


def test_images_are_placeholders(traced: Traced, client: anthropic.Anthropic) -> None:
    blob = "iVBORw0KGgo" * 500
    client.messages.create(
        model=MODEL,
        max_tokens=8,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image",
                     "source": {"type": "base64", "media_type": "image/png", "data": blob}},
                    {"type": "image",
                     "source": {"type": "url", "url": "https://example.com/cat.png"}},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    attrs = traced.attrs()
    assert all(blob[:40] not in str(v) for v in attrs.values())
    parts = json.loads(attrs["gen_ai.input.messages"])[0]["parts"]
    assert parts[0]["type"] == "blob" and parts[0]["modality"] == "image"
    assert parts[0]["mime_type"] == "image/png"
    assert parts[1] == {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"}
    assert attrs["honeyhive_inputs.chat_history.0.content"] == "[image]\n[image]\nWhat is this?"


def test_sdk_models_passed_back_as_history(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(Reply(content=[thinking("hmm"), tool_use("get_weather", {"city": "Oslo"})]))
    first = client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    traced.clear()
    client.messages.create(
        model=MODEL,
        max_tokens=8,
        messages=[*USER, {"role": "assistant", "content": first.content}],  # type: ignore[list-item]
    )
    parts = json.loads(traced.attrs()["gen_ai.input.messages"])[1]["parts"]
    assert [p["type"] for p in parts] == ["reasoning", "tool_call"]
    assert parts[1]["arguments"] == {"city": "Oslo"}


def test_capture_content_off_keeps_only_metadata(
    make_traced: MakeTraced, client: anthropic.Anthropic
) -> None:
    traced = make_traced(capture_content=False)
    client.messages.create(model=MODEL, max_tokens=8, system="secret", messages=USER)
    attrs = traced.attrs()
    assert attrs["gen_ai.usage.input_tokens"] == 12
    assert attrs["gen_ai.response.finish_reasons"] == ("end_turn",)
    leaked = [k for k in attrs if k.startswith(("honeyhive_inputs", "honeyhive_outputs"))
              or k in ("gen_ai.input.messages", "gen_ai.output.messages",
                       "gen_ai.system_instructions")]
    assert leaked == []


def test_redaction_applies(make_traced: MakeTraced, client: anthropic.Anthropic) -> None:
    traced = make_traced(redact=[r"sk-[a-z0-9]+"])
    client.messages.create(
        model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "key sk-abc123"}]
    )
    attrs = traced.attrs()
    assert attrs["honeyhive_inputs.chat_history.0.content"] == "key [REDACTED]"
    assert "sk-abc123" not in attrs["gen_ai.input.messages"]


def test_parse_is_one_chat_span(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    if not hasattr(client.messages, "parse"):
        pytest.skip("messages.parse needs a newer anthropic")

    class Answer(BaseModel):
        value: int

    fake.script(Reply(content=[text('{"value": 42}')]))
    parsed = client.messages.parse(
        model=MODEL, max_tokens=8, messages=USER, output_format=Answer
    )
    assert parsed.parsed_output == Answer(value=42)
    attrs = traced.attrs()
    assert attrs["honeyhive_event_name"] == "anthropic.chat"
    assert attrs["honeyhive_outputs.content"] == '{"value": 42}'
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.output.type"] == "json"
    assert attrs["honeyhive_config.output_format"] == "Answer"


def test_values_identical_to_an_uninstrumented_run(
    make_traced: MakeTraced, fake: FakeAnthropic
) -> None:
    def call() -> str:
        with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as c:
            blocks = [thinking("t"), text("x"), tool_use("f", {"a": [1]}, id="tu_9")]
            fake.script(Reply(content=blocks))
            return c.messages.create(model=MODEL, max_tokens=8, messages=USER).model_dump_json()

    bare = call()
    traced = make_traced()
    assert call() == bare
    assert len(traced.spans()) == 1


def test_one_shot_iterables_are_not_consumed(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    messages: Any = ({"role": "user", "content": iter([{"type": "text", "text": "Hi"}])}
                     for _ in [0])
    tools: Any = (tool for tool in TOOLS)
    system: Any = (block for block in [{"type": "text", "text": "sys"}])
    client.messages.create(model=MODEL, max_tokens=8, messages=messages, tools=tools,
                           system=system)
    sent = fake.last.body
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    assert sent["tools"] == TOOLS
    assert sent["system"] == [{"type": "text", "text": "sys"}]
    assert traced.attrs()["honeyhive_outputs.content"] == "Hello there!"


def test_tool_definitions_semconv_shape() -> None:
    from instrumentors.anthropic._attributes import tool_definitions

    server_tool = {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}
    custom = {"type": "custom", "name": "f", "input_schema": {"type": "object"}}
    assert tool_definitions([server_tool, custom]) == [
        server_tool,
        {"type": "function", "name": "f", "parameters": {"type": "object"}},
    ]

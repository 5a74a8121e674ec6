"""Streams: every exit path ends the span once; usage injection stays invisible to the app."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode

from instrumentors import _stream
from instrumentors._stream import StreamState
from instrumentors._wire import WireClient
from instrumentors.openai import OpenAIInstrumentor
from instrumentors.openai._chat import ChatStreamState
from tests.fakes.openai_server import FakeOpenAI, ToolCall

from ..conftest import SpanSink
from .conftest import USER, chat_helper

TEXT = "Hello from the fake OpenAI server."


@pytest.fixture(autouse=True, params=["events", "general", "models"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs three times: chunks read as the events' JSON
    (what happens with the SDKs we know), with the chat state's own reader
    for its common chunk; the same with every event through the general
    ``on_data``; and read from the models the SDK built (a stream whose
    events cannot be read so)."""
    if request.param == "models":
        monkeypatch.setattr(_stream, "install", lambda *args: False)
    elif request.param == "general":
        monkeypatch.setattr(ChatStreamState, "reader", StreamState.reader)
    return str(request.param)


def test_the_events_are_read_as_json_unless_they_cannot_be(
    client: openai.OpenAI, sink: SpanSink, reading: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Any] = []
    process = openai.OpenAI._process_response_data

    def spy(self: Any, *, data: Any, cast_to: Any, response: Any) -> Any:
        built.append(data)
        return process(self, data=data, cast_to=cast_to, response=response)

    monkeypatch.setattr(openai.OpenAI, "_process_response_data", spy)
    general: list[Any] = []
    on_data = ChatStreamState.on_data

    def counting(self: Any, data: Any) -> bool:
        general.append(data)
        return on_data(self, data)

    monkeypatch.setattr(ChatStreamState, "on_data", counting)
    s = stream(client)
    assert isinstance(s.__wrapped__._client, WireClient) is (reading != "models")
    assert iter(s) is s.__wrapped__._iterator  # the tap itself: no SDK generator around it
    chunks = list(s)
    assert len(chunks) > 5 and all(c.choices for c in chunks)
    # As JSON, the usage-only chunk the app must not see is never built, and
    # the "usage": null our request added is taken out before the SDK reads
    # it (from before the API's trailing "obfuscation" pad).
    assert len(built) == len(chunks) + (reading == "models")
    if reading != "models":
        assert all("usage" not in d and list(d)[-1] == "obfuscation" for d in built)
    if reading == "events":
        # The chat reader reads the content chunks itself; on_data gets the
        # first, the finishing and the usage-only chunk.
        assert len(general) == 3
        assert general[0]["choices"][0]["delta"].get("role") == "assistant"
        assert general[-1]["choices"] == [] and general[-1]["usage"]
    else:
        assert len(general) == len(chunks) + 1  # every event, the usage-only one too
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["honeyhive_outputs.content"] == TEXT


def dumps(chunks: list[Any]) -> list[Any]:
    """What an app can observe of each chunk."""
    return [(c.model_dump(exclude_unset=True), c.to_json(), c.model_dump()) for c in chunks]


def bare_and_traced(
    inst: OpenAIInstrumentor, sink: SpanSink, fake: FakeOpenAI, run: Callable[[], Any]
) -> tuple[Any, Any]:
    """``run()`` without the agent, then with it (same replies: fixed ids)."""
    fake.fixed_ids = True
    inst.uninstrument()
    bare = run()
    assert sink.spans() == []
    inst.instrument(tracer_provider=sink.provider)
    return bare, run()


def stream(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=USER, stream=True, **kwargs)


def test_exhausted_stream(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    chunks = list(stream(client))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == TEXT
    assert fake.last.body["stream_options"] == {"include_usage": True}
    assert all(c.choices for c in chunks)  # the usage-only chunk stayed hidden
    span = sink.only()
    attrs = SpanSink.attrs(span)
    assert span.status.status_code is StatusCode.UNSET
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["honeyhive_outputs.role"] == "assistant"
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.usage.input_tokens"] == 2
    assert attrs["gen_ai.usage.output_tokens"] == 6
    assert attrs["gen_ai.response.id"] == chunks[0].id
    assert attrs["gen_ai.response.model"] == "gpt-4o-2025-01-01"
    assert attrs["honeyhive_config.stream"] is True
    assert "honeyhive_config.stream_options" not in attrs  # the app did not set it
    assert attrs["honeyhive_metrics.time_to_first_token_ms"] > 0
    assert "honeyhive_metadata.incomplete" not in attrs
    assert [e.name for e in span.events] == []


def test_injected_usage_is_invisible(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    bare, traced = bare_and_traced(instrumentor, sink, fake, lambda: list(stream(client)))
    assert "stream_options" not in fake.requests[0].body
    assert fake.requests[1].body["stream_options"] == {"include_usage": True}
    assert dumps(traced) == dumps(bare)
    assert len(sink.spans()) == 1


def test_stream_options_without_include_usage_gets_it(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    options = {"include_obfuscation": False}
    bare, traced = bare_and_traced(
        instrumentor, sink, fake, lambda: list(stream(client, stream_options=options))
    )
    assert options == {"include_obfuscation": False}  # the app's dict is not mutated
    assert fake.last.body["stream_options"] == {"include_obfuscation": False,
                                                 "include_usage": True}
    assert dumps(traced) == dumps(bare)
    assert SpanSink.attrs(sink.only())["gen_ai.usage.output_tokens"] == 6
    assert "honeyhive_metadata.usage_unknown" not in SpanSink.attrs(sink.only())


def test_explicit_include_usage_false_records_unknown_usage(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> list[Any]:
        return list(stream(client, stream_options={"include_usage": False}))

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert fake.last.body["stream_options"] == {"include_usage": False}
    assert dumps(traced) == dumps(bare)
    attrs = SpanSink.attrs(sink.only())
    assert not [k for k in attrs if "tokens" in k]
    assert attrs["honeyhive_metadata.usage_unknown"] is True
    assert attrs["honeyhive_outputs.content"] == TEXT


def test_caller_include_usage_true_passes_usage_chunk(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> list[Any]:
        return list(stream(client, stream_options={"include_usage": True}))

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert traced[-1].choices == [] and traced[-1].usage.completion_tokens == 6
    assert dumps(traced) == dumps(bare)
    assert SpanSink.attrs(sink.only())["gen_ai.usage.output_tokens"] == 6


@pytest.mark.parametrize("include", [True, False])
def test_stream_options_in_extra_body_are_the_callers(
    instrumentor: OpenAIInstrumentor,
    client: openai.OpenAI,
    fake: FakeOpenAI,
    sink: SpanSink,
    include: bool,
) -> None:
    # extra_body wins over the keyword in the SDK: the caller's choice stands,
    # its usage chunk (if it asked for one) reaches it, nothing is hidden.
    def run() -> list[Any]:
        extra = {"stream_options": {"include_usage": include}}
        return list(stream(client, extra_body=extra))

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert fake.last.body["stream_options"] == {"include_usage": include}
    assert dumps(traced) == dumps(bare)
    attrs = SpanSink.attrs(sink.only())
    if include:
        assert traced[-1].choices == []
        assert attrs["gen_ai.usage.output_tokens"] == 6
    else:
        assert "gen_ai.usage.output_tokens" not in attrs


def test_proxy_is_transparent(client: openai.OpenAI, sink: SpanSink) -> None:
    s = stream(client)
    assert isinstance(s, openai.Stream)
    assert s.response.status_code == 200
    with s as entered:
        assert entered is s
        next(iter(entered))
    assert len(sink.spans()) == 1


def test_break_and_close(client: openai.OpenAI, sink: SpanSink) -> None:
    s = stream(client)
    for chunk in s:
        if chunk.choices[0].delta.content:
            break
    assert sink.spans() == []  # still open: the app may resume
    s.close()
    s.close()
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_metadata.incomplete"] is True
    assert attrs["honeyhive_metadata.stream_end"] == "closed"
    assert attrs["honeyhive_outputs.content"] == "Hello "
    assert "gen_ai.usage.output_tokens" not in attrs


def test_context_manager_exit(client: openai.OpenAI, sink: SpanSink) -> None:
    with stream(client) as s:
        next(s)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_metadata.stream_end"] == "closed"


def test_exception_mid_stream(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    fake.script(stream_error_after=3)
    seen = []
    with pytest.raises(openai.APIError, match="stream interrupted"):
        for chunk in stream(client):
            seen.append(chunk)
    assert len(seen) == 3
    span = sink.only()
    attrs = SpanSink.attrs(span)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs["error.type"] == "APIError"
    assert attrs["honeyhive_outputs.content"] == "Hello from "
    assert attrs["honeyhive_metadata.stream_end"] == "error"


def test_abandoned_stream_ends_on_gc(client: openai.OpenAI, sink: SpanSink) -> None:
    s = stream(client)
    next(s)
    next(s)
    del s
    gc.collect()
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_metadata.incomplete"] is True
    assert attrs["honeyhive_metadata.stream_end"] == "garbage_collected"
    assert attrs["honeyhive_outputs.content"] == "Hello "


def test_streamed_tool_calls_reassembled(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    fake.script(
        tool_calls=[
            ToolCall("get_weather", '{"city": "Paris", "unit": "c"}', id="call_a"),
            ToolCall("get_time", '{"tz": "CET"}', id="call_b"),
        ]
    )
    list(stream(client))
    attrs = SpanSink.attrs(sink.only())
    assert json.loads(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_a", "name": "get_weather",
                 "arguments": {"city": "Paris", "unit": "c"}},
                {"type": "tool_call", "id": "call_b", "name": "get_time",
                 "arguments": {"tz": "CET"}},
            ],
            "finish_reason": "tool_calls",
        }
    ]
    assert attrs["honeyhive_outputs.tool_calls.1.arguments"] == '{"tz":"CET"}'


def test_streamed_n_choices(client: openai.OpenAI, sink: SpanSink) -> None:
    list(stream(client, n=2))
    attrs = SpanSink.attrs(sink.only())
    outputs = json.loads(attrs["gen_ai.output.messages"])
    assert [m["parts"][0]["content"] for m in outputs] == [f"{TEXT} (0)", f"{TEXT} (1)"]
    assert attrs["gen_ai.response.finish_reasons"] == ("stop", "stop")


def test_chat_stream_helper(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> tuple[list[Any], Any]:
        with chat_helper(client, "stream")(model="gpt-4o", messages=USER) as s:
            events = [e.type for e in s]
            return events, s.get_final_completion().model_dump()

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert traced == bare
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["gen_ai.usage.output_tokens"] == 6
    assert "honeyhive_metadata.incomplete" not in attrs


def test_chat_stream_helper_early_exit(client: openai.OpenAI, sink: SpanSink) -> None:
    with chat_helper(client, "stream")(model="gpt-4o", messages=USER) as s:
        for event in s:
            if event.type == "content.delta" and event.delta:
                break
        assert sink.spans() == []
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_metadata.stream_end"] == "closed"
    assert attrs["honeyhive_outputs.content"] == "Hello "


def test_completions_stream_hides_usage(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> list[Any]:
        return list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi",
                                              stream=True))

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert dumps(traced) == dumps(bare)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.operation.name"] == "text_completion"
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["gen_ai.usage.output_tokens"] == 6


# ---------------------------------------------------------------------- async


def astream(aclient: openai.AsyncOpenAI, **kwargs: Any) -> Any:
    return aclient.chat.completions.create(model="gpt-4o", messages=USER, stream=True, **kwargs)


async def test_async_exhausted(aclient: openai.AsyncOpenAI, sink: SpanSink) -> None:
    s = await astream(aclient)
    assert isinstance(s, openai.AsyncStream)
    chunks = [c async for c in s]
    assert all(c.choices for c in chunks)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["gen_ai.usage.output_tokens"] == 6


async def test_async_injection_invisible(
    instrumentor: OpenAIInstrumentor, aclient: openai.AsyncOpenAI, fake: FakeOpenAI,
    sink: SpanSink
) -> None:
    async def run() -> list[Any]:
        return [c async for c in await astream(aclient)]

    fake.fixed_ids = True
    instrumentor.uninstrument()
    bare = await run()
    instrumentor.instrument(tracer_provider=sink.provider)
    traced = await run()
    assert dumps(traced) == dumps(bare)
    assert len(sink.spans()) == 1


async def test_async_break_and_close(aclient: openai.AsyncOpenAI, sink: SpanSink) -> None:
    s = await astream(aclient)
    async for _ in s:
        break
    assert sink.spans() == []
    await s.close()
    assert SpanSink.attrs(sink.only())["honeyhive_metadata.stream_end"] == "closed"


async def test_async_context_manager(aclient: openai.AsyncOpenAI, sink: SpanSink) -> None:
    s = await astream(aclient)
    async with s as entered:
        assert entered is s
        await entered.__anext__()
    assert SpanSink.attrs(sink.only())["honeyhive_metadata.stream_end"] == "closed"


async def test_async_error_mid_stream(
    aclient: openai.AsyncOpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    fake.script(stream_error_after=2)
    with pytest.raises(openai.APIError):
        async for _ in await astream(aclient):
            pass
    span = sink.only()
    assert span.status.status_code is StatusCode.ERROR


async def test_async_abandoned(aclient: openai.AsyncOpenAI, sink: SpanSink) -> None:
    s = await astream(aclient)
    await s.__anext__()
    del s
    gc.collect()
    assert SpanSink.attrs(sink.only())["honeyhive_metadata.stream_end"] == "garbage_collected"


async def test_async_stream_helper(aclient: openai.AsyncOpenAI, sink: SpanSink) -> None:
    async with chat_helper(aclient, "stream")(model="gpt-4o", messages=USER) as s:
        final = await s.get_final_completion()
    assert final.choices[0].message.content == TEXT
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert "honeyhive_metadata.incomplete" not in attrs


async def test_async_stream_helper_early_exit(
    aclient: openai.AsyncOpenAI, sink: SpanSink
) -> None:
    async with chat_helper(aclient, "stream")(model="gpt-4o", messages=USER) as s:
        async for event in s:
            if event.type == "content.delta":
                break
    assert SpanSink.attrs(sink.only())["honeyhive_metadata.stream_end"] == "closed"


def test_server_refusing_stream_options_gets_the_app_request(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    fake.script(error=400, error_message="Unrecognized request argument supplied: stream_options")
    chunks = list(stream(client))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == TEXT
    assert [("stream_options" in r.body) for r in fake.requests] == [True, False]
    list(stream(client))  # this client is not sent the option again
    assert "stream_options" not in fake.last.body
    first, _ = (SpanSink.attrs(s) for s in sink.spans())
    assert first["honeyhive_outputs.content"] == TEXT
    assert "gen_ai.usage.output_tokens" not in first and "error.type" not in first


def test_other_400s_are_not_retried(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    fake.script(error=400, error_message="Invalid value for 'temperature'.")
    with pytest.raises(openai.BadRequestError):
        stream(client)
    assert len(fake.requests) == 1
    assert SpanSink.attrs(sink.only())["error.type"] == "BadRequestError"

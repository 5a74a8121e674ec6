"""Streams end their span exactly once, on every exit path, and stay transparent."""

from __future__ import annotations

import gc
import json
from typing import Any

import anthropic
import httpx
import pytest
from opentelemetry.trace import StatusCode

from tests.fakes.anthropic_server import FakeAnthropic, Reply, text, thinking, tool_use

from .conftest import MODEL, USER, MakeTraced, Traced

RICH = Reply(
    content=[thinking("Think first."), text("Hello, streaming world!"),
             tool_use("lookup", {"q": "x", "n": 3}, id="tu_s")],
    stop_reason="tool_use",
    usage={"input_tokens": 5, "output_tokens": 9, "cache_read_input_tokens": 3},
)
try:  # anthropic >= 1 uses httpx2; older releases use httpx
    import httpx2

    PROTOCOL_ERROR: tuple[type[BaseException], ...] = (
        httpx2.RemoteProtocolError, httpx.RemoteProtocolError
    )
except ImportError:  # pragma: no cover - depends on the SDK under test
    PROTOCOL_ERROR = (httpx.RemoteProtocolError,)


def dump(events: list[Any]) -> list[str]:
    return [e.model_dump_json() if hasattr(e, "model_dump_json") else repr(e) for e in events]


def assert_complete(attrs: dict[str, Any]) -> None:
    assert "honeyhive_metadata.incomplete" not in attrs
    assert attrs["honeyhive_outputs.content"] == "Hello, streaming world!"
    assert attrs["honeyhive_outputs.thinking"] == "Think first."
    assert attrs["honeyhive_outputs.tool_calls.0.name"] == "lookup"
    assert attrs["honeyhive_outputs.tool_calls.0.arguments"] == '{"q":"x","n":3}'
    assert attrs["honeyhive_outputs.finish_reason"] == "tool_use"
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert attrs["gen_ai.response.id"] == "msg_fake_0001"
    assert attrs["gen_ai.usage.input_tokens"] == 8
    assert attrs["gen_ai.usage.output_tokens"] == 9
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 3
    assert attrs["honeyhive_metrics.time_to_first_token_ms"] >= 0
    parts = json.loads(attrs["gen_ai.output.messages"])[0]["parts"]
    assert [p["type"] for p in parts] == ["reasoning", "text", "tool_call"]
    assert parts[2]["arguments"] == {"q": "x", "n": 3}


# ----------------------------------------------------------------- create(stream=True)
def test_exhausted_stream(traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic) -> None:
    fake.script(RICH)
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    assert isinstance(stream, anthropic.Stream)
    assert stream.response.status_code == 200
    assert traced.spans() == []  # open until the stream ends
    events = list(stream)
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    attrs = traced.attrs()
    assert attrs["honeyhive_config.stream"] is True
    assert_complete(attrs)


async def test_async_exhausted_stream(
    traced: Traced, aclient: anthropic.AsyncAnthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    stream = await aclient.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    assert isinstance(stream, anthropic.AsyncStream)
    events = [event async for event in stream]
    assert events[-1].type == "message_stop"
    assert_complete(traced.attrs())


def test_stream_chunks_identical_to_uninstrumented(
    make_traced: MakeTraced, fake: FakeAnthropic
) -> None:
    def run() -> list[str]:
        with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as c:
            fake.script(RICH)
            return dump(list(c.messages.create(
                model=MODEL, max_tokens=64, messages=USER, stream=True)))

    bare = run()
    traced = make_traced()
    assert run() == bare
    assert len(traced.spans()) == 1


def test_break_then_close(traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic) -> None:
    fake.script(RICH)
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    for event in stream:
        if event.type == "content_block_delta" and event.index == 1:
            break
    stream.close()
    stream.close()  # a second close changes nothing
    attrs = traced.attrs()
    assert attrs["honeyhive_metadata.incomplete"] is True
    assert attrs["honeyhive_metadata.stream_end"] == "closed"
    assert attrs["honeyhive_outputs.thinking"] == "Think first."
    assert attrs["honeyhive_outputs.content"] == "Hell"  # the partial text so far
    assert traced.only().status.status_code is StatusCode.UNSET
    # input counts come with message_start; output only with message_delta
    assert attrs["gen_ai.usage.input_tokens"] == 8
    assert "gen_ai.usage.output_tokens" not in attrs  # unknown, not the placeholder 1


def test_context_manager_exit(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    with client.messages.create(
        model=MODEL, max_tokens=64, messages=USER, stream=True
    ) as stream:
        first = next(iter(stream))
    assert first.type == "message_start"
    attrs = traced.attrs()
    assert attrs["honeyhive_metadata.stream_end"] == "closed"
    assert attrs["gen_ai.response.id"] == "msg_fake_0001"


async def test_async_context_manager_exit(
    traced: Traced, aclient: anthropic.AsyncAnthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    stream = await aclient.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    async with stream as entered:
        assert entered is stream
        async for _ in entered:
            break
    assert traced.attrs()["honeyhive_metadata.stream_end"] == "closed"


def test_error_event_mid_stream(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(Reply(content=[text("partial answer")], error_after=5))
    seen = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        for event in client.messages.create(model=MODEL, max_tokens=64, messages=USER,
                                            stream=True):
            seen.append(event.type)
    assert "overloaded_error" in str(raised.value)
    span = traced.only()
    attrs: dict[str, Any] = dict(span.attributes or {})
    assert span.status.status_code is StatusCode.ERROR
    assert attrs["error.type"] == type(raised.value).__name__
    assert attrs["honeyhive_metadata.incomplete"] is True
    assert attrs["honeyhive_metadata.stream_end"] == "error"
    assert "honeyhive_outputs.content" in attrs


def test_connection_cut_mid_stream(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(Reply(content=[text("partial answer")], drop_after=4))
    with pytest.raises(PROTOCOL_ERROR):
        list(client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True))
    span = traced.only()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "RemoteProtocolError"


def test_abandoned_stream_is_ended_by_gc(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    next(iter(stream))
    del stream
    gc.collect()
    attrs = traced.attrs()
    assert attrs["honeyhive_metadata.incomplete"] is True
    assert attrs["honeyhive_metadata.stream_end"] == "garbage_collected"
    assert attrs["gen_ai.response.id"] == "msg_fake_0001"


def test_unread_stream_abandoned_is_ended_by_gc(
    traced: Traced, client: anthropic.Anthropic
) -> None:
    client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    gc.collect()
    assert traced.attrs()["honeyhive_metadata.stream_end"] == "garbage_collected"


# ----------------------------------------------------------------- messages.stream(...)
def test_stream_helper_text_stream_and_final_message(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        assert type(stream).__name__ == "MessageStream"
        text_out = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text_out == "Hello, streaming world!"
    assert final.content[1].text == text_out  # type: ignore[union-attr]
    attrs = traced.attrs()
    assert attrs["honeyhive_event_name"] == "anthropic.chat"
    assert attrs["honeyhive_config.stream"] is True
    assert_complete(attrs)


def test_stream_helper_values_identical_to_uninstrumented(
    make_traced: MakeTraced, fake: FakeAnthropic
) -> None:
    def run() -> tuple[list[str], str, str]:
        with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as c:
            fake.script(RICH)
            with c.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
                events = dump(list(stream))
                final = stream.get_final_message().model_dump_json()
            fake.script(Reply(content=[text("only text")]))
            with c.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
                final_text = stream.get_final_text()
        return events, final, final_text

    bare = run()
    traced = make_traced()
    assert run() == bare
    assert len(traced.spans()) == 2


def test_stream_helper_until_done(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        stream.until_done()
        assert traced.spans() != []  # ended with the stream, before the block exits
    assert_complete(traced.attrs())


def test_stream_helper_early_exit(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        for event in stream:
            if event.type == "text":
                break
    attrs = traced.attrs()
    assert attrs["honeyhive_metadata.stream_end"] == "closed"
    assert attrs["honeyhive_outputs.thinking"] == "Think first."


def test_stream_helper_app_exception_passes_through(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    class AppError(Exception):
        pass

    fake.script(RICH)
    manager = client.messages.stream(model=MODEL, max_tokens=64, messages=USER)
    with pytest.raises(AppError), manager as stream:
        next(iter(stream))
        raise AppError
    assert traced.attrs()["honeyhive_metadata.stream_end"] == "closed"


def test_stream_helper_request_error(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    from tests.fakes.anthropic_server import ErrorReply

    fake.script(ErrorReply(429, "slow down"))
    manager = client.messages.stream(model=MODEL, max_tokens=64, messages=USER)
    with pytest.raises(anthropic.RateLimitError), manager:
        pass  # pragma: no cover - never entered
    span = traced.only()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["http.response.status_code"] == 429


def test_stream_helper_not_entered_makes_no_span(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    manager = client.messages.stream(model=MODEL, max_tokens=64, messages=USER)
    assert isinstance(manager, anthropic.MessageStreamManager)
    del manager
    gc.collect()
    assert traced.spans() == [] and fake.requests == []


def test_stream_helper_abandoned_is_ended_by_gc(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    stream = client.messages.stream(model=MODEL, max_tokens=64, messages=USER).__enter__()
    next(iter(stream))
    del stream
    gc.collect()
    assert traced.attrs()["honeyhive_metadata.stream_end"] == "garbage_collected"


async def test_async_stream_helper(
    traced: Traced, aclient: anthropic.AsyncAnthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    async with aclient.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        chunks = [t async for t in stream.text_stream]
        final = await stream.get_final_message()
    assert "".join(chunks) == "Hello, streaming world!"
    assert final.stop_reason == "tool_use"
    assert_complete(traced.attrs())


async def test_async_stream_helper_early_exit(
    traced: Traced, aclient: anthropic.AsyncAnthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    async with aclient.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        async for _ in stream:
            break
    assert traced.attrs()["honeyhive_metadata.stream_end"] == "closed"


async def test_async_abandoned_stream_is_ended_by_gc(
    traced: Traced, aclient: anthropic.AsyncAnthropic, fake: FakeAnthropic
) -> None:
    fake.script(RICH)
    stream = await aclient.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    await stream.__anext__()
    del stream
    gc.collect()
    attrs = traced.attrs()
    assert attrs["honeyhive_metadata.stream_end"] == "garbage_collected"
    assert attrs["gen_ai.response.id"] == "msg_fake_0001"


def test_stream_without_content_capture(
    make_traced: MakeTraced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    traced = make_traced(capture_content=False)
    fake.script(RICH)
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        stream.until_done()
    attrs = traced.attrs()
    assert attrs["gen_ai.usage.output_tokens"] == 9
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert not [k for k in attrs if k.startswith(("honeyhive_outputs", "honeyhive_inputs"))]
    assert "gen_ai.output.messages" not in attrs


def test_redacted_thinking_in_a_stream(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    from tests.fakes.anthropic_server import redacted_thinking

    fake.script(Reply(content=[redacted_thinking("opaque-bytes"), text("done")]))
    list(client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True))
    attrs = traced.attrs()
    assert attrs["honeyhive_outputs.thinking"] == "[redacted]"
    assert "opaque-bytes" not in attrs["gen_ai.output.messages"]
    assert attrs["honeyhive_outputs.content"] == "done"


def test_long_stream_is_reassembled_exactly(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    # More deltas than are queued between folds, in several blocks.
    long_text = "".join(f"{i % 10}" for i in range(1500))
    arguments = {"items": list(range(300))}
    fake.script(Reply(content=[thinking("t" * 700), text(long_text),
                               tool_use("f", arguments, id="tu_l")], chunk=1))
    received = "".join(
        event.delta.text
        for event in client.messages.create(model=MODEL, max_tokens=64, messages=USER,
                                            stream=True)
        if event.type == "content_block_delta" and event.delta.type == "text_delta"
    )
    attrs = traced.attrs()
    assert received == long_text == attrs["honeyhive_outputs.content"]
    assert attrs["honeyhive_outputs.thinking"] == "t" * 700
    assert json.loads(attrs["honeyhive_outputs.tool_calls.0.arguments"]) == arguments

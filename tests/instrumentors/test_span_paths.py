"""One LLM call, two ways of recording its span, the same span.

A call's span is normally handed complete to the processors
(``FinishedSpanEmitter``); when a processor acts at span start the SDK's own
``start_span``/``end`` is used. Both must export the same span. Also: the
stream proxy's tap over the SDK stream's generator, and its fallback for
streams of another shape.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from honeyhive_agent.tracer.emitter import FinishedSpanEmitter
from instrumentors._span import CallSpan
from instrumentors._stream import AsyncStreamProxy, StreamState, SyncStreamProxy
from instrumentors.anthropic import AnthropicInstrumentor
from instrumentors.openai import OpenAIInstrumentor
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI

from .conftest import SpanSink


class _StartHook(SpanProcessor):
    """Acts at start: forces the SDK path for every span after it is added."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.started.append(span.name)


def _shape(span: ReadableSpan) -> dict[str, Any]:
    return {
        "name": span.name,
        "kind": span.kind,
        "status": span.status.status_code,
        "attributes": {k: v for k, v in (span.attributes or {}).items()
                       if not k.endswith("time_to_first_token_ms")},
        "scope": span.instrumentation_scope.name if span.instrumentation_scope else None,
    }


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the spans the emitter recorded (it is spied on, not replaced)."""
    names: list[str] = []
    emit = FinishedSpanEmitter.emit

    def spy(self: FinishedSpanEmitter, name: str, *args: Any, **kwargs: Any) -> bool:
        done = emit(self, name, *args, **kwargs)
        if done:
            names.append(name)
        return done

    monkeypatch.setattr(FinishedSpanEmitter, "emit", spy)
    return names


def _both_paths(sink: SpanSink, call: Any) -> tuple[ReadableSpan, ReadableSpan, _StartHook]:
    call()
    hook = _StartHook()
    sink.provider.add_span_processor(hook)
    call()
    first, second = sink.spans()
    return first, second, hook


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.fixed_ids = True
        yield fake


@pytest.fixture
def openai_client(sink: SpanSink, fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:
    inst = OpenAIInstrumentor()
    inst.instrument(tracer_provider=sink.provider)
    with openai.OpenAI(base_url=fake_openai.base_url, api_key="x", max_retries=0) as client:
        yield client
    inst.uninstrument()


@pytest.fixture
def anthropic_client(sink: SpanSink) -> Iterator[anthropic.Anthropic]:
    inst = AnthropicInstrumentor()
    inst.instrument(tracer_provider=sink.provider)
    with FakeAnthropic() as fake, anthropic.Anthropic(
        base_url=fake.url, api_key="x", max_retries=0
    ) as client:
        yield client
    inst.uninstrument()


USER: Any = [{"role": "user", "content": "Say hello"}]


def test_openai_call_spans_match_on_both_paths(
    sink: SpanSink, openai_client: openai.OpenAI
, emitted: list[str]) -> None:
    first, second, hook = _both_paths(sink, lambda: openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, temperature=0.2, max_tokens=16))
    assert emitted == [first.name]  # the first was handed over complete,
    assert hook.started == [second.name]  # the second went through start_span
    assert _shape(first) == _shape(second)
    assert "gen_ai.usage.input_tokens" in (first.attributes or {})


def test_openai_stream_spans_match_on_both_paths(
    sink: SpanSink, openai_client: openai.OpenAI
, emitted: list[str]) -> None:
    def run() -> None:
        for _ in openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER,
                                                       stream=True):
            pass

    first, second, hook = _both_paths(sink, run)
    assert emitted == [first.name]
    assert hook.started == [second.name]
    assert _shape(first) == _shape(second)
    assert "honeyhive_metrics.time_to_first_token_ms" in (first.attributes or {})


def test_anthropic_call_spans_match_on_both_paths(
    sink: SpanSink, anthropic_client: anthropic.Anthropic
, emitted: list[str]) -> None:
    first, second, hook = _both_paths(sink, lambda: anthropic_client.messages.create(
        model="claude-test-1", max_tokens=64, messages=USER))
    assert emitted == [first.name]
    assert hook.started == [second.name]
    shape_first, shape_second = _shape(first), _shape(second)
    for shape in (shape_first, shape_second):  # the fake server numbers its messages
        shape["attributes"].pop("gen_ai.response.id", None)
        shape["attributes"].pop("honeyhive_metadata.response_id", None)
    assert shape_first == shape_second


def test_a_failed_call_goes_the_sdk_way_with_its_exception_event(
    sink: SpanSink, openai_client: openai.OpenAI, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(error=404)
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    span = sink.only()
    assert [e.name for e in span.events] == ["exception"]
    assert (span.attributes or {})["error.type"] == "NotFoundError"


def test_iterating_the_sdk_stream_does_not_need_the_proxy_alive(
    sink: SpanSink, openai_client: openai.OpenAI
) -> None:
    # `for chunk in create(...)` keeps only the SDK stream's own generator.
    count = 0
    for _ in openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER,
                                                   stream=True):
        gc.collect()
        count += 1
    attrs = sink.attrs(sink.only())
    assert count > 1
    assert "honeyhive_metadata.incomplete" not in attrs
    assert attrs["honeyhive_outputs.content"]


class _Recording(StreamState):
    __slots__ = ("seen",)

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def on_chunk(self, chunk: Any) -> bool:
        self.seen.append(chunk)
        return chunk != "hidden"

    def attributes(self, call: CallSpan) -> dict[str, Any]:
        return {"honeyhive_outputs.content": "".join(c for c in self.seen if c != "hidden")}


class _Chunks:
    """A stream of another shape: an iterator without an ``_iterator``."""

    def __init__(self, items: list[str]) -> None:
        self._items = iter(items)
        self.closed = False

    def __iter__(self) -> _Chunks:
        return self

    def __next__(self) -> str:
        return next(self._items)

    def close(self) -> None:
        self.closed = True


class _AsyncChunks:
    def __init__(self, items: list[str]) -> None:
        self._items = iter(items)

    def __aiter__(self) -> _AsyncChunks:
        return self

    async def __anext__(self) -> str:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None


def _call(sink: SpanSink) -> CallSpan:
    return CallSpan(sink.provider.get_tracer("t"), "chat m", {}, _serializer(), deferred=True)


def _serializer() -> Any:
    from honeyhive_agent.serializer import Serializer

    return Serializer()


def test_a_stream_without_an_sdk_generator_is_iterated_through_the_proxy(
    sink: SpanSink,
) -> None:
    wrapped = _Chunks(["a", "hidden", "b"])
    proxy = SyncStreamProxy(wrapped, _call(sink), _Recording())
    assert iter(proxy) is proxy
    assert list(proxy) == ["a", "b"]
    assert sink.attrs(sink.only())["honeyhive_outputs.content"] == "ab"
    proxy.close()
    assert wrapped.closed
    assert len(sink.spans()) == 1


async def test_an_async_stream_without_an_sdk_generator(sink: SpanSink) -> None:
    proxy = AsyncStreamProxy(_AsyncChunks(["x", "hidden", "y"]), _call(sink), _Recording())
    assert proxy.__aiter__() is proxy
    assert [c async for c in proxy] == ["x", "y"]
    assert sink.attrs(sink.only())["honeyhive_outputs.content"] == "xy"


def test_a_dropped_stream_of_another_shape_ends_on_collection(sink: SpanSink) -> None:
    proxy = SyncStreamProxy(_Chunks(["a", "b"]), _call(sink), _Recording())
    assert next(proxy) == "a"
    del proxy
    gc.collect()
    attrs = sink.attrs(sink.only())
    assert attrs["honeyhive_metadata.stream_end"] == "garbage_collected"
    assert attrs["honeyhive_outputs.content"] == "a"


class _Failing(_Recording):
    __slots__ = ()

    def on_chunk(self, chunk: Any) -> bool:
        if chunk == "boom":
            raise RuntimeError("agent bug")
        return super().on_chunk(chunk)


class _Broken(_Chunks):
    """Raises, as an SDK stream does on a dropped connection, after its items."""

    def __next__(self) -> str:
        try:
            return super().__next__()
        except StopIteration:
            raise ConnectionError("connection cut") from None


def test_a_failing_state_never_costs_the_app_a_chunk_and_sdk_errors_still_reach_it(
    sink: SpanSink,
) -> None:
    proxy = SyncStreamProxy(_Broken(["a", "boom", "b"]), _call(sink), _Failing())
    got = []
    with pytest.raises(ConnectionError, match="connection cut"):
        for chunk in proxy:
            got.append(chunk)
    assert got == ["a", "boom", "b"]
    span = sink.only()
    assert span.status.status_code.name == "ERROR"
    attrs = sink.attrs(span)
    assert attrs["error.type"] == "ConnectionError"
    assert attrs["honeyhive_outputs.content"] == "ab"  # the state went on after its failure


async def test_the_async_tap_tells_its_own_failures_from_the_sdks(sink: SpanSink) -> None:
    class Broken(_AsyncChunks):
        async def __anext__(self) -> str:
            try:
                return await super().__anext__()
            except StopAsyncIteration:
                raise ConnectionError("connection cut") from None

    proxy = AsyncStreamProxy(Broken(["a", "boom", "b"]), _call(sink), _Failing())
    got = []
    with pytest.raises(ConnectionError):
        async for chunk in proxy:
            got.append(chunk)
    assert got == ["a", "boom", "b"]
    assert sink.attrs(sink.only())["error.type"] == "ConnectionError"

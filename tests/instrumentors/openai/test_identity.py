"""The app gets exactly what it gets without the agent, on every endpoint; concurrency."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from instrumentors.openai import OpenAIInstrumentor
from tests.fakes.openai_server import FakeOpenAI, ToolCall

from ..conftest import SpanSink
from .conftest import HAS_RESPONSES, USER, chat_helper


class City(BaseModel):
    name: str


def _calls() -> dict[str, Callable[[openai.OpenAI, FakeOpenAI], Any]]:
    def chat(c: openai.OpenAI, f: FakeOpenAI) -> Any:
        return c.chat.completions.create(model="gpt-4o", messages=USER, n=2, seed=1)

    def tools(c: openai.OpenAI, f: FakeOpenAI) -> Any:
        f.script(tool_calls=[ToolCall("lookup", '{"q": 1}', id="call_x")])
        return c.chat.completions.create(model="gpt-4o", messages=USER)

    def parse(c: openai.OpenAI, f: FakeOpenAI) -> Any:
        f.script(text='{"name":"Paris"}')
        return chat_helper(c, "parse")(model="gpt-4o", messages=USER, response_format=City)

    def completion(c: openai.OpenAI, f: FakeOpenAI) -> Any:
        return c.completions.create(model="gpt-3.5-turbo-instruct", prompt=["a", "b"])

    def embeddings(c: openai.OpenAI, f: FakeOpenAI) -> Any:
        return c.embeddings.create(model="text-embedding-3-small", input=["a", "b"])

    def responses(c: openai.OpenAI, f: FakeOpenAI) -> Any:
        return c.responses.create(model="gpt-4o", input="hi", instructions="x")

    def responses_parse(c: openai.OpenAI, f: FakeOpenAI) -> Any:
        f.script(text='{"name":"Paris"}')
        return c.responses.parse(model="gpt-4o", input="hi", text_format=City)

    calls: dict[str, Callable[[openai.OpenAI, FakeOpenAI], Any]] = {
        "chat": chat, "tools": tools, "parse": parse, "completion": completion,
        "embeddings": embeddings,
    }
    if HAS_RESPONSES:
        calls.update(responses=responses, responses_parse=responses_parse)
    return calls


CALLS = _calls()


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.filterwarnings("ignore::UserWarning:pydantic")  # the SDK's parsed field, both runs
def test_results_identical_to_uninstrumented(
    name: str, fake: FakeOpenAI, sink: SpanSink, instrumentor: OpenAIInstrumentor
) -> None:
    fake.fixed_ids = True

    def run() -> Any:
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        result = CALLS[name](client, fake)
        return type(result), result.model_dump(), result.to_json(), getattr(result, "_request_id",
                                                                              None) is not None

    instrumentor.uninstrument()
    bare = run()
    instrumentor.instrument(tracer_provider=sink.provider)
    traced = run()
    assert traced == bare
    assert len(sink.spans()) == 1
    assert [r.body for r in fake.requests[:1]] == [r.body for r in fake.requests[1:]]


def test_threads(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    def ask(i: int) -> str:
        messages: Any = [{"role": "user", "content": f"question {i}"}]
        if i % 2:
            stream = client.chat.completions.create(model=f"m{i}", messages=messages,
                                                    stream=True)
            return "".join(c.choices[0].delta.content or "" for c in stream)
        return client.chat.completions.create(model=f"m{i}", messages=messages).choices[
            0].message.content or ""

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(16)))
    assert len(set(answers)) == 1
    spans = sink.spans()
    assert len(spans) == 16
    for span in spans:
        attrs = SpanSink.attrs(span)
        i = int(attrs["gen_ai.request.model"][1:])
        assert attrs["honeyhive_inputs.chat_history.0.content"] == f"question {i}"
        assert attrs["honeyhive_outputs.content"] == answers[0]
        assert attrs["gen_ai.usage.output_tokens"] == 6


async def test_concurrent_async_streams_keep_their_parents(
    aclient: openai.AsyncOpenAI, sink: SpanSink, fake: FakeOpenAI
) -> None:
    tracer = sink.provider.get_tracer("test")

    async def task(i: int) -> tuple[int, str]:
        with tracer.start_as_current_span(f"task {i}") as parent:
            stream = await aclient.chat.completions.create(
                model=f"m{i}", messages=USER, stream=True
            )
            await asyncio.sleep(0)
            text = "".join([c.choices[0].delta.content or "" async for c in stream])
            return parent.get_span_context().span_id, text

    results = await asyncio.gather(*(task(i) for i in range(6)))
    parents = {span_id for span_id, _ in results}
    llm = [s for s in sink.spans() if s.name.startswith("chat ")]
    assert len(llm) == 6
    for span in llm:
        assert span.parent is not None and span.parent.span_id in parents
        i = int(SpanSink.attrs(span)["gen_ai.request.model"][1:])
        task_span = next(s for s in sink.spans() if s.name == f"task {i}")
        assert span.parent.span_id == task_span.context.span_id
    assert json.loads(SpanSink.attrs(llm[0])["gen_ai.output.messages"])[0]["parts"]

"""Completions, embeddings, Azure clients and the raw / streaming response forms."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from instrumentors.openai import OpenAIInstrumentor
from tests.fakes.openai_server import FakeOpenAI

from ..conftest import SpanSink
from .conftest import HAS_RESPONSES, USER
from .test_streams import TEXT, bare_and_traced, dumps


def test_text_completion(client: openai.OpenAI, sink: SpanSink) -> None:
    result = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say hello", max_tokens=5, stop="."
    )
    span = sink.only()
    attrs = SpanSink.attrs(span)
    assert span.name == "text_completion gpt-3.5-turbo-instruct"
    assert attrs["gen_ai.operation.name"] == "text_completion"
    assert attrs["gen_ai.request.max_tokens"] == 5
    assert attrs["gen_ai.request.stop_sequences"] == (".",)
    assert attrs["gen_ai.response.id"] == result.id
    assert attrs["gen_ai.usage.input_tokens"] == 2
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello"}]}
    ]
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["honeyhive_outputs.finish_reason"] == "stop"


@pytest.mark.parametrize("encoding", [None, "float"])
def test_embeddings(
    client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink, encoding: str | None
) -> None:
    kwargs: Any = {"encoding_format": encoding} if encoding else {}
    result = client.embeddings.create(
        model="text-embedding-3-small", input=["first text", "second"], dimensions=4, **kwargs
    )
    assert len(result.data) == 2 and len(result.data[0].embedding) == 4
    span = sink.only()
    attrs = SpanSink.attrs(span)
    assert span.name == "embeddings text-embedding-3-small"
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.usage.input_tokens"] == 3
    assert attrs["gen_ai.embeddings.dimension.count"] == 4
    assert attrs["honeyhive_config.dimensions"] == 4
    assert attrs["honeyhive_inputs.input.0"] == "first text"
    assert attrs["honeyhive_outputs.embedding_count"] == 2
    assert "gen_ai.usage.output_tokens" not in attrs
    assert not [k for k in attrs if "embedding" in k and isinstance(attrs[k], str)
                and len(attrs[k]) > 100]


def test_azure_client(fake: FakeOpenAI, sink: SpanSink, instrumentor: OpenAIInstrumentor) -> None:
    azure = openai.AzureOpenAI(
        azure_endpoint=fake.url, api_key="x", api_version="2024-10-21", max_retries=0
    )
    chunks = list(azure.chat.completions.create(model="my-deployment", messages=USER,
                                                stream=True))
    azure.embeddings.create(model="embed-deployment", input="x")
    assert fake.requests[0].path == "/openai/deployments/my-deployment/chat/completions"
    assert fake.requests[0].query == {"api-version": ["2024-10-21"]}
    assert fake.requests[0].body["stream_options"] == {"include_usage": True}
    assert all(c.choices for c in chunks)
    chat, embed = (SpanSink.attrs(s) for s in sink.spans())
    assert chat["gen_ai.provider.name"] == "azure.ai.openai"
    assert chat["server.address"] == "127.0.0.1"
    assert chat["server.port"] == fake.port
    assert chat["gen_ai.request.model"] == "my-deployment"
    assert chat["gen_ai.usage.output_tokens"] == 6
    assert embed["gen_ai.provider.name"] == "azure.ai.openai"


def test_azure_stream_opening_filter_chunk(
    fake: FakeOpenAI, sink: SpanSink, instrumentor: OpenAIInstrumentor
) -> None:
    # Azure streams open with a prompt_filter_results chunk: no choices, and
    # empty id and model. It reaches the app as is (no "usage" marked set by
    # the include_usage we add) and the span takes id and model from the rest.
    azure = openai.AzureOpenAI(
        azure_endpoint=fake.url, api_key="x", api_version="2024-10-21", max_retries=0
    )

    def run() -> list[Any]:
        fake.script(prompt_filter=True)
        return list(azure.chat.completions.create(model="dep", messages=USER, stream=True))

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert traced[0].choices == [] and traced[0].id == ""
    assert dumps(traced) == dumps(bare)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["gen_ai.response.id"] == traced[1].id != ""
    assert attrs["gen_ai.response.model"] == "dep-2025-01-01"
    assert attrs["gen_ai.usage.output_tokens"] == 6


def test_old_azure_api_version_is_not_sent_stream_options(
    fake: FakeOpenAI, sink: SpanSink, instrumentor: OpenAIInstrumentor
) -> None:
    azure = openai.AzureOpenAI(
        azure_endpoint=fake.url, api_key="x", api_version="2024-02-01", max_retries=0
    )
    list(azure.chat.completions.create(model="d", messages=USER, stream=True))
    assert "stream_options" not in fake.last.body
    attrs = SpanSink.attrs(sink.only())
    assert "gen_ai.usage.output_tokens" not in attrs  # unknown, not 0


async def test_async_azure(
    fake: FakeOpenAI, sink: SpanSink, instrumentor: OpenAIInstrumentor
) -> None:
    azure = openai.AsyncAzureOpenAI(
        azure_endpoint=fake.url, api_key="x", api_version="2024-10-21", max_retries=0
    )
    await azure.chat.completions.create(model="dep", messages=USER)
    assert SpanSink.attrs(sink.only())["gen_ai.provider.name"] == "azure.ai.openai"


# ---------------------------------------------------------------------- raw forms


def fresh(fake: FakeOpenAI) -> openai.OpenAI:
    # with_raw_response caches the bound methods it wraps: a client used while
    # uninstrumented keeps calling the originals, so each run gets its own.
    return openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)


def test_with_raw_response(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> tuple[Any, Any, Any]:
        raw = fresh(fake).chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
        parsed = raw.parse()
        assert raw.parse() is parsed
        return type(raw), raw.headers.get("content-type"), parsed.model_dump()

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert traced == bare
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["gen_ai.usage.output_tokens"] == 6


def test_with_raw_response_stream(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> list[Any]:
        raw = fresh(fake).chat.completions.with_raw_response.create(
            model="gpt-4o", messages=USER, stream=True
        )
        return list(raw.parse())

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert dumps(traced) == dumps(bare)
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_outputs.content"] == TEXT
    assert attrs["gen_ai.usage.output_tokens"] == 6


def test_with_streaming_response(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> Any:
        with fresh(fake).chat.completions.with_streaming_response.create(
            model="gpt-4o", messages=USER
        ) as response:
            assert response.http_response.status_code == 200
            return response.parse().model_dump()

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert traced == bare
    assert SpanSink.attrs(sink.only())["honeyhive_outputs.content"] == TEXT


def test_with_streaming_response_read_as_lines(
    instrumentor: OpenAIInstrumentor, client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink
) -> None:
    def run() -> list[str]:
        with fresh(fake).chat.completions.with_streaming_response.create(
            model="gpt-4o", messages=USER, stream=True
        ) as response:
            return [line for line in response.iter_lines() if line]

    bare, traced = bare_and_traced(instrumentor, sink, fake, run)
    assert traced == bare  # the very SSE lines: no stream_options added, no usage chunk
    assert traced[-1] == "data: [DONE]"
    assert "stream_options" not in fake.last.body
    span = sink.only()  # ended by the with block, even though nothing was parsed
    assert SpanSink.attrs(span)["gen_ai.request.model"] == "gpt-4o"


def test_with_streaming_response_stream_early_exit(client: openai.OpenAI, sink: SpanSink) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=USER, stream=True
    ) as response:
        for _ in response.parse():
            break
        assert sink.spans() == []
    attrs = SpanSink.attrs(sink.only())
    assert attrs["honeyhive_metadata.stream_end"] == "closed"


async def test_async_raw_forms(aclient: openai.AsyncOpenAI, sink: SpanSink) -> None:
    raw = await aclient.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
    assert raw.parse().choices[0].message.content == TEXT
    async with aclient.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=USER, stream=True
    ) as response:
        stream = await response.parse()
        chunks = [c async for c in stream]
    assert all(c.choices for c in chunks)
    raw_span, stream_span = (SpanSink.attrs(s) for s in sink.spans())
    assert raw_span["honeyhive_outputs.content"] == TEXT
    assert stream_span["honeyhive_outputs.content"] == TEXT
    # with_streaming_response gets the body it asked for: usage unknown, not 0
    assert "gen_ai.usage.output_tokens" not in stream_span


def test_raw_response_error(client: openai.OpenAI, fake: FakeOpenAI, sink: SpanSink) -> None:
    fake.script(error=500)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
    assert SpanSink.attrs(sink.only())["http.response.status_code"] == 500


def test_raw_forms_on_other_endpoints(client: openai.OpenAI, sink: SpanSink) -> None:
    raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input="x")
    assert len(raw.parse().data) == 1
    if HAS_RESPONSES:
        with client.responses.with_streaming_response.create(
            model="gpt-4o", input="hi", stream=True
        ) as response:
            events = [e.type for e in response.parse()]
        assert events[-1] == "response.completed"
    spans = [SpanSink.attrs(s) for s in sink.spans()]
    assert spans[0]["gen_ai.operation.name"] == "embeddings"
    assert spans[0]["honeyhive_outputs.embedding_count"] == 1
    if HAS_RESPONSES:
        assert spans[1]["honeyhive_outputs.content"] == TEXT
        assert spans[1]["gen_ai.usage.output_tokens"] == 6
    assert len(spans) == (2 if HAS_RESPONSES else 1)


def test_plain_client_on_an_azure_host_is_azure() -> None:
    from instrumentors.openai._common import ClientInfo

    client = openai.OpenAI(base_url="https://my-res.openai.azure.com/openai/v1/", api_key="x")
    info = ClientInfo(client)
    assert (info.provider, info.address, info.port, info.usage_ok) == (
        "azure.ai.openai", "my-res.openai.azure.com", None, True
    )
    assert ClientInfo(openai.OpenAI(api_key="x")).provider == "openai"

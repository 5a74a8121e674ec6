"""Beta messages, count_tokens, raw responses and the Bedrock / Vertex clients."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
import wrapt

from tests.fakes.anthropic_server import FakeAnthropic, Reply, text

from .conftest import MODEL, USER, Traced

VERTEX_MODEL = "claude-vertex@2025"


@pytest.fixture
def vertex(fake: FakeAnthropic) -> Iterator[Any]:
    cls = getattr(anthropic, "AnthropicVertex", None)
    if cls is None:
        pytest.skip("no AnthropicVertex in this SDK")
    client = cls(region="us-east5", project_id="proj", access_token="tok",
                 base_url=f"{fake.url}/v1", max_retries=0)
    yield client
    client.close()


@pytest.fixture
def bedrock(fake: FakeAnthropic) -> Iterator[Any]:
    cls = getattr(anthropic, "AnthropicBedrock", None)
    if cls is None:
        pytest.skip("no AnthropicBedrock in this SDK")
    try:
        client = cls(api_key="k", aws_region="us-east-1", base_url=fake.url, max_retries=0)
    except TypeError:
        pytest.skip("this SDK's Bedrock client needs AWS credentials (botocore)")
    yield client
    client.close()


def test_beta_messages_create(traced: Traced, client: anthropic.Anthropic) -> None:
    client.beta.messages.create(
        model=MODEL, max_tokens=8, messages=USER, betas=["fancy-2099-01-01"]
    )
    attrs = traced.attrs()
    assert attrs["honeyhive_event_name"] == "anthropic.chat"
    assert attrs["honeyhive_config.betas.0"] == "fancy-2099-01-01"
    assert attrs["honeyhive_outputs.content"] == "Hello there!"


def test_beta_messages_stream(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    if not hasattr(client.beta.messages, "stream"):
        pytest.skip("no beta.messages.stream in this SDK")
    fake.script(Reply(content=[text("beta streaming")]))
    with client.beta.messages.stream(model=MODEL, max_tokens=8, messages=USER) as stream:
        assert stream.get_final_text() == "beta streaming"
    attrs = traced.attrs()
    assert attrs["honeyhive_event_name"] == "anthropic.chat"
    assert attrs["honeyhive_outputs.content"] == "beta streaming"
    assert "honeyhive_metadata.incomplete" not in attrs


async def test_async_beta_create(traced: Traced, aclient: anthropic.AsyncAnthropic) -> None:
    await aclient.beta.messages.create(model=MODEL, max_tokens=8, messages=USER)
    assert traced.attrs()["honeyhive_event_name"] == "anthropic.chat"


def test_count_tokens(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    resource = client.messages if hasattr(client.messages, "count_tokens") else None
    if resource is None:
        pytest.skip("no messages.count_tokens in this SDK")
    result = resource.count_tokens(model=MODEL, messages=USER)
    assert result.input_tokens == fake.count_tokens
    span = traced.only()
    attrs: dict[str, Any] = dict(span.attributes or {})
    assert span.name == f"count_tokens {MODEL}"
    assert attrs["gen_ai.operation.name"] == "count_tokens"
    assert attrs["honeyhive_event_name"] == "anthropic.count_tokens"
    assert attrs["honeyhive_outputs.input_tokens"] == fake.count_tokens
    assert "gen_ai.usage.input_tokens" not in attrs  # counting consumes no tokens


def test_with_raw_response(traced: Traced, client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=8, messages=USER)
    assert raw.headers["request-id"].startswith("req_fake_")
    message = raw.parse()
    assert message.content[0].text == "Hello there!"  # type: ignore[union-attr]
    attrs = traced.attrs()
    assert attrs["honeyhive_outputs.content"] == "Hello there!"
    assert attrs["gen_ai.usage.output_tokens"] == 7


def test_with_raw_response_stream(
    traced: Traced, client: anthropic.Anthropic, fake: FakeAnthropic
) -> None:
    fake.script(Reply(content=[text("raw stream")]))
    raw = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=8, messages=USER, stream=True
    )
    events = list(raw.parse())
    assert events[-1].type == "message_stop"
    attrs = traced.attrs()
    assert attrs["honeyhive_outputs.content"] == "raw stream"
    assert "honeyhive_metadata.incomplete" not in attrs


def test_with_streaming_response(traced: Traced, client: anthropic.Anthropic) -> None:
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=8, messages=USER
    ) as response:
        assert traced.spans() == []  # body not read yet
        message = response.parse()
    assert message.id == "msg_fake_0001"
    assert traced.attrs()["honeyhive_outputs.content"] == "Hello there!"


def test_vertex_create_and_stream(
    traced: Traced, vertex: Any, fake: FakeAnthropic
) -> None:
    vertex.messages.create(model=VERTEX_MODEL, max_tokens=8, messages=USER)
    assert fake.last.path.endswith(f"/models/{VERTEX_MODEL}:rawPredict")
    attrs = traced.attrs()
    assert attrs["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert attrs["gen_ai.request.model"] == VERTEX_MODEL
    assert attrs["gen_ai.response.model"] == VERTEX_MODEL
    traced.clear()

    fake.script(Reply(content=[text("vertex streaming")]))
    with vertex.messages.stream(model=VERTEX_MODEL, max_tokens=8, messages=USER) as stream:
        assert stream.get_final_text() == "vertex streaming"
    assert fake.last.path.endswith(":streamRawPredict")
    assert traced.attrs()["honeyhive_outputs.content"] == "vertex streaming"


def test_vertex_beta_methods_copied_at_definition_are_patched(
    traced: Traced, vertex: Any, fake: FakeAnthropic
) -> None:
    if not hasattr(vertex.beta.messages, "stream"):
        pytest.skip("no beta.messages.stream in this SDK")
    vertex.beta.messages.create(model=VERTEX_MODEL, max_tokens=8, messages=USER)
    fake.script(Reply(content=[text("beta vertex")]))
    with vertex.beta.messages.stream(model=VERTEX_MODEL, max_tokens=8, messages=USER) as s:
        s.until_done()
    spans = traced.spans()
    assert len(spans) == 2  # one each: copied methods are wrapped exactly once
    for cls in (type(vertex.beta.messages), type(vertex.messages), type(client_beta())):
        for method in ("create", "stream"):
            wrapper = cls.__dict__.get(method)
            assert isinstance(wrapper, wrapt.FunctionWrapper), (cls, method)
            assert not isinstance(wrapper.__wrapped__, wrapt.FunctionWrapper)
    assert all(dict(s.attributes or {})["gen_ai.provider.name"] == "gcp.vertex_ai"
               for s in spans)


def client_beta() -> Any:
    return anthropic.Anthropic(api_key="x").beta.messages


def test_bedrock_invoke(traced: Traced, bedrock: Any, fake: FakeAnthropic) -> None:
    model = "anthropic.claude-test-v1:0"
    message = bedrock.messages.create(model=model, max_tokens=8, messages=USER)
    assert fake.last.path == f"/model/{model}/invoke"
    assert message.model == model
    attrs = traced.attrs()
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"
    assert attrs["honeyhive_config.provider"] == "aws.bedrock"
    assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"][0]["content"] == (
        "Hello there!"
    )


def test_bedrock_beta_create(traced: Traced, bedrock: Any) -> None:
    bedrock.beta.messages.create(model="anthropic.claude-x", max_tokens=8, messages=USER)
    attrs = traced.attrs()
    assert attrs["honeyhive_event_name"] == "anthropic.chat"
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"


async def test_async_raw_and_streaming_response(
    traced: Traced, aclient: anthropic.AsyncAnthropic, fake: FakeAnthropic
) -> None:
    raw = await aclient.messages.with_raw_response.create(model=MODEL, max_tokens=8,
                                                          messages=USER)
    parsed = raw.parse()
    message: Any = await parsed if inspect.isawaitable(parsed) else parsed
    assert message.content[0].text == "Hello there!"
    fake.script(Reply(content=[text("async streamed body")]))
    async with aclient.messages.with_streaming_response.create(
        model=MODEL, max_tokens=8, messages=USER, stream=True
    ) as response:
        events = [event async for event in await response.parse()]
    assert events[-1].type == "message_stop"
    first, second = traced.spans()
    assert dict(first.attributes or {})["honeyhive_outputs.content"] == "Hello there!"
    assert dict(second.attributes or {})["honeyhive_outputs.content"] == "async streamed body"


def test_bedrock_stream(traced: Traced, bedrock: Any, fake: FakeAnthropic) -> None:
    # Bedrock frames its stream in AWS event-stream binary, which the SDK decodes with
    # botocore (not a dependency here). The stream class and our proxy are the same as
    # first-party: swap in the plain SSE decoder and let the fake serve SSE.
    decoder = getattr(anthropic._streaming, "SSEDecoder", None)  # type: ignore[attr-defined]
    if decoder is None:
        pytest.skip("no SSEDecoder in this SDK")
    bedrock._make_sse_decoder = decoder
    model = "anthropic.claude-test-v1:0"
    fake.script(Reply(content=[text("bedrock streaming")]))
    with bedrock.messages.stream(model=model, max_tokens=8, messages=USER) as stream:
        assert stream.get_final_text() == "bedrock streaming"
    assert fake.last.path == f"/model/{model}/invoke-with-response-stream"
    fake.script(Reply(content=[text("raw events")]))
    events = list(bedrock.messages.create(model=model, max_tokens=8, messages=USER,
                                          stream=True))
    assert events[-1].type == "message_stop"
    first, second = traced.spans()
    for span, content in ((first, "bedrock streaming"), (second, "raw events")):
        attrs = dict(span.attributes or {})
        assert attrs["gen_ai.provider.name"] == "aws.bedrock"
        assert attrs["honeyhive_outputs.content"] == content
        assert "honeyhive_metadata.incomplete" not in attrs

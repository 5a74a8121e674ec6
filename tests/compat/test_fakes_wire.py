"""The fake API servers speak a wire format the installed SDK release accepts.

These run uninstrumented, in every environment of the compatibility matrix
(``tests/compat/run.sh``), so a failure in an instrumentor suite on an old SDK
can be told apart from a fake server that this SDK release cannot parse.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
fake_anthropic = pytest.importorskip("tests.fakes.anthropic_server")


@pytest.fixture
def anthropic_fake() -> Iterator[Any]:
    with fake_anthropic.FakeAnthropic() as fake:
        yield fake


def _anthropic_client(fake: Any) -> Any:
    return anthropic.Anthropic(base_url=fake.url, api_key="sk-ant-test", max_retries=0)


def test_anthropic_message_json(anthropic_fake: Any) -> None:
    client = _anthropic_client(anthropic_fake)
    msg = client.messages.create(
        model="claude-test", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
    )
    assert msg.content[0].text == "Hello there!"
    assert msg.usage.input_tokens == 12
    assert msg.stop_reason == "end_turn"


def test_anthropic_message_stream_events(anthropic_fake: Any) -> None:
    client = _anthropic_client(anthropic_fake)
    stream = client.messages.create(
        model="claude-test",
        max_tokens=16,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
    )
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == "Hello there!"


def test_anthropic_stream_helper(anthropic_fake: Any) -> None:
    client = _anthropic_client(anthropic_fake)
    with client.messages.stream(
        model="claude-test", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello there!"
    assert final.usage.output_tokens == 7


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (429, "RateLimitError"),
        (500, "InternalServerError"),
    ],
)
def test_anthropic_errors(anthropic_fake: Any, status: int, exc: str) -> None:
    anthropic_fake.script(fake_anthropic.ErrorReply(status))
    client = _anthropic_client(anthropic_fake)
    with pytest.raises(getattr(anthropic, exc)) as info:
        client.messages.create(
            model="claude-test", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.status_code == status


# --- OpenAI -----------------------------------------------------------------

openai = pytest.importorskip("openai")


@pytest.fixture
def openai_fake() -> Iterator[Any]:
    fake_openai = pytest.importorskip("tests.fakes.openai_server")
    with fake_openai.FakeOpenAI() as fake:
        yield fake


def _openai_client(fake: Any) -> Any:
    return openai.OpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0)


def test_openai_chat_json(openai_fake: Any) -> None:
    reply = _openai_client(openai_fake).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Hello from the fake OpenAI server."
    assert reply.usage.total_tokens > 0


def test_openai_chat_stream_with_usage(openai_fake: Any) -> None:
    chunks = list(
        _openai_client(openai_fake).chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the fake OpenAI server."
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_openai_embeddings(openai_fake: Any) -> None:
    reply = _openai_client(openai_fake).embeddings.create(
        model="text-embedding-3-small", input=["a", "b"]
    )
    assert len(reply.data) == 2 and len(reply.data[0].embedding) > 0


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (429, "RateLimitError"),
        (500, "InternalServerError"),
    ],
)
def test_openai_errors(openai_fake: Any, status: int, exc: str) -> None:
    openai_fake.script(error=status)
    with pytest.raises(getattr(openai, exc)) as info:
        _openai_client(openai_fake).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.status_code == status


def test_openai_responses(openai_fake: Any) -> None:
    client = _openai_client(openai_fake)
    if not hasattr(client, "responses"):
        pytest.skip(f"openai {openai.__version__} has no Responses API")
    reply = client.responses.create(model="gpt-4o-mini", input="hi")
    assert reply.output_text == "Hello from the fake OpenAI server."

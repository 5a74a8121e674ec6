"""Fixtures: a fake OpenAI server, real SDK clients, the instrumentor on an in-memory sink."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from instrumentors.openai import OpenAIInstrumentor
from tests.fakes.openai_server import FakeOpenAI

from ..conftest import SpanSink


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def instrumentor(sink: SpanSink) -> Iterator[OpenAIInstrumentor]:
    inst = OpenAIInstrumentor()
    inst.instrument(tracer_provider=sink.provider)
    yield inst
    inst.uninstrument()


@pytest.fixture
def client(fake: FakeOpenAI, instrumentor: OpenAIInstrumentor) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(
    fake: FakeOpenAI, instrumentor: OpenAIInstrumentor
) -> Any:
    async with openai.AsyncOpenAI(base_url=fake.base_url, api_key="x", max_retries=0) as c:
        yield c


HAS_RESPONSES = hasattr(openai.OpenAI, "responses")
needs_responses = pytest.mark.skipif(not HAS_RESPONSES, reason="no Responses API in this openai")


def chat_helper(client: Any, name: str) -> Any:
    """``chat.completions.parse`` / ``.stream``: top-level in newer SDKs, beta before."""
    method = getattr(client.chat.completions, name, None)
    return method if method is not None else getattr(client.beta.chat.completions, name)


USER: Any = [{"role": "user", "content": "Say hello"}]
"""A one-message conversation (typed Any: the SDK's TypedDicts are not the point here)."""

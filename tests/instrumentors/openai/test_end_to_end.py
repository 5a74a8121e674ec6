"""Through a real HoneyHiveTracer and the real OTLP exporter to a loopback receiver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from honeyhive_agent.config.model import OtlpConfig, TracerConfig
from honeyhive_agent.decorators import trace
from honeyhive_agent.tracer import HoneyHiveTracer
from instrumentors.openai import OpenAIInstrumentor
from tests.fakes.openai_server import FakeOpenAI
from tests.support.otlp_receiver import OtlpReceiver

from .conftest import USER
from .test_streams import TEXT


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rx:
        yield rx


@pytest.fixture
def hh(receiver: OtlpReceiver) -> Iterator[HoneyHiveTracer]:
    tracer = HoneyHiveTracer(
        TracerConfig(
            project="proj",
            exporters=("otlp",),
            otlp=OtlpConfig(traces_endpoint=receiver.traces_url),
        )
    )
    yield tracer
    tracer.shutdown()


def test_spans_reach_an_otlp_backend(
    fake: FakeOpenAI, receiver: OtlpReceiver, hh: HoneyHiveTracer
) -> None:
    inst = OpenAIInstrumentor()
    inst.instrument(hh_tracer=lambda: hh)
    try:
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)

        @trace(event_type="chain", tracer=hh)
        def answer(question: str) -> str:
            result = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": question}],
                temperature=0,
            )
            stream = client.chat.completions.create(model="gpt-4o-mini", messages=USER,
                                                    stream=True)
            text = "".join(c.choices[0].delta.content or "" for c in stream)
            return (result.choices[0].message.content or "") + text

        assert answer("Say hello") == TEXT * 2
        assert hh.force_flush(5000)
        spans = receiver.wait_for_spans(3)
    finally:
        inst.uninstrument()
    by_name: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_name.setdefault(span["name"], []).append(span)
    (chain,) = by_name["test_spans_reach_an_otlp_backend.<locals>.answer"]
    calls = by_name["chat gpt-4o-mini"]
    assert len(calls) == 2
    for call in calls:
        attrs = call["attributes"]
        assert call["kind"] == "CLIENT"
        assert call["parent_span_id"] == chain["span_id"]
        assert call["trace_id"] == chain["trace_id"]
        assert call["scope"] == "honeyhive_agent.instrumentors.openai"
        assert attrs["honeyhive_event_type"] == "model"
        assert attrs["honeyhive.session_id"] == hh.session_id
        assert attrs["honeyhive.project"] == "proj"
        assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
        assert attrs["gen_ai.usage.output_tokens"] == 6
        assert attrs["honeyhive_outputs.content"] == TEXT
        assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"][0]["content"] == TEXT
    assert calls[0]["attributes"]["gen_ai.request.temperature"] == 0
    assert "honeyhive_metrics.time_to_first_token_ms" in calls[1]["attributes"]


def test_registry_default_tracer_is_used_lazily(
    fake: FakeOpenAI, receiver: OtlpReceiver, hh: HoneyHiveTracer
) -> None:
    from honeyhive_agent.tracer import registry

    resolved: list[Any] = []

    def resolve() -> Any:
        tracer = registry.get("default")
        resolved.append(tracer)
        return tracer

    inst = OpenAIInstrumentor()
    inst.instrument(hh_tracer=resolve)
    try:
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        client.embeddings.create(model="text-embedding-3-small", input="x")
        assert hh.force_flush(5000)
        (span,) = receiver.wait_for_spans(1)
    finally:
        inst.uninstrument()
    assert resolved == [hh]
    assert span["attributes"]["honeyhive.session_id"] == hh.session_id


EXIT_APP = """
import asyncio, sys
import openai

hi = [{"role": "user", "content": "hi"}]
client = openai.OpenAI(base_url=sys.argv[1], api_key="x", max_retries=0)
stream = client.chat.completions.create(model="gpt-sync", messages=hi, stream=True)
print(next(x for x in stream if x.choices[0].delta.content).choices[0].delta.content)


async def main():
    aclient = openai.AsyncOpenAI(base_url=sys.argv[1], api_key="x", max_retries=0)
    astream = await aclient.chat.completions.create(model="gpt-async", messages=hi, stream=True)
    async for _ in astream:
        break
    return astream

kept = asyncio.run(main())
raw = client.chat.completions.with_streaming_response.create(model="gpt-raw", messages=hi)
response = raw.__enter__()  # never closed

import os
pid = os.fork()
if pid == 0:  # a forked child that exits normally: the open streams are not its own
    del stream
    import gc
    gc.collect()
    sys.exit(0)
os.waitpid(pid, 0)
"""


def test_streams_still_open_at_exit_end_their_span(
    fake: FakeOpenAI, receiver: OtlpReceiver, tmp_path: Path
) -> None:
    # Module-level streams are never garbage collected before the tracers'
    # exit flush: an exit hook ends their spans, partial output included.
    app = tmp_path / "app.py"
    app.write_text(EXIT_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HH_", "OTEL_"))}
    env.update(HH_EXPORTERS="otlp", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=receiver.traces_url)
    runner = Path(sys.executable).parent / "honeyhive-run"
    done = subprocess.run([str(runner), sys.executable, str(app), fake.base_url], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "Hello \n"), done.stderr
    received = receiver.wait_for_spans(3)
    spans = {s["name"]: s["attributes"] for s in received}
    assert sorted(spans) == ["chat gpt-async", "chat gpt-raw", "chat gpt-sync"]
    assert len(received) == 3  # once each: not again from the forked child
    sync = spans["chat gpt-sync"]
    assert sync["honeyhive_metadata.incomplete"] is True
    assert sync["honeyhive_metadata.stream_end"] == "exit"
    assert sync["honeyhive_outputs.content"] == "Hello "
    assert spans["chat gpt-async"]["honeyhive_metadata.stream_end"] == "exit"

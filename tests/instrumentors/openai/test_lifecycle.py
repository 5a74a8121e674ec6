"""Lazy patching, uninstrument, per-call switches, and the never-break-the-app guarantees."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry import context as otel_context

from instrumentors import _stream
from instrumentors.openai import OpenAIInstrumentor, _chat
from tests.fakes.openai_server import FakeOpenAI

from ..conftest import SpanSink
from .conftest import HAS_RESPONSES, USER
from .test_streams import TEXT

ROOT = Path(__file__).resolve().parents[3]


def run_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_instrumenting_imports_no_sdk_and_patches_on_use() -> None:
    out = run_python(
        """
        import sys
        from opentelemetry.sdk.trace import TracerProvider
        from instrumentors.openai import OpenAIInstrumentor
        inst = OpenAIInstrumentor()
        inst.instrument(tracer_provider=TracerProvider())
        print("openai" in sys.modules, inst.patched_targets)
        import openai
        client = openai.OpenAI(api_key="x")
        client.chat.completions, client.embeddings, client.completions
        if hasattr(client, "responses"):
            client.responses
        print(sorted(inst.patched_targets))
        """
    )
    first, second = out.strip().splitlines()
    assert first == "False []"
    targets = eval(second)  # a printed list of str
    chat_creates = [t for t in targets if t.endswith(":Completions.create") and ".chat." in t]
    assert len(chat_creates) == 1  # one class, however many module paths export it
    assert len([t for t in targets if t.endswith(":AsyncCompletions.create")
                and ".chat." in t]) == 1
    assert "openai.resources.embeddings:AsyncEmbeddings.create" in targets
    assert "openai.resources.completions:Completions.create" in targets
    if HAS_RESPONSES:
        assert "openai.resources.responses.responses:Responses.create" in targets


def test_uninstrument_restores_the_sdk(fake: FakeOpenAI, sink: SpanSink) -> None:
    cls = type(openai.OpenAI(api_key="x").chat.completions)
    original = cls.__dict__["create"]
    inst = OpenAIInstrumentor()
    inst.instrument(tracer_provider=sink.provider)
    assert cls.__dict__["create"] is not original
    assert inst.patched_targets
    inst.uninstrument()
    assert cls.__dict__["create"] is original
    assert inst.patched_targets == []
    client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=USER)
    assert sink.spans() == []


def test_suppressed_context_and_calls_disabled(
    client: openai.OpenAI, instrumentor: OpenAIInstrumentor, sink: SpanSink, fake: FakeOpenAI
) -> None:
    token = otel_context.attach(
        otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
    )
    try:
        list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
    finally:
        otel_context.detach(token)
    assert "stream_options" not in fake.last.body  # untouched request
    instrumentor.calls_disabled = True
    try:
        client.chat.completions.create(model="gpt-4o", messages=USER)
    finally:
        instrumentor.calls_disabled = False
    assert sink.spans() == []


def test_errors_reach_the_app_unchanged(
    instrumentor: OpenAIInstrumentor, sink: SpanSink, fake: FakeOpenAI
) -> None:
    def failure() -> Any:
        fake.script(error=429, error_message="slow down")
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        exc = caught.value
        return type(exc), str(exc), exc.status_code, exc.body, exc.code, exc.type

    instrumentor.uninstrument()
    bare = failure()
    instrumentor.instrument(tracer_provider=sink.provider)
    assert failure() == bare
    assert len(sink.spans()) == 1


def test_internal_failure_at_start_never_breaks_the_call(
    client: openai.OpenAI, sink: SpanSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("agent bug")

    monkeypatch.setattr(_chat, "input_messages", explode)
    result = client.chat.completions.create(model="gpt-4o", messages=USER)
    assert result.choices[0].message.content == TEXT
    assert sink.spans() == []


@pytest.mark.parametrize("reader", ["on_data", "on_chunk"])
def test_internal_failure_in_chunks_never_breaks_the_stream(
    client: openai.OpenAI, sink: SpanSink, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    calls: list[Any] = []

    def explode(self: Any, chunk: Any) -> bool:
        calls.append(chunk)
        raise RuntimeError("agent bug")

    monkeypatch.setattr(_chat.ChatStreamState, reader, explode)
    if reader == "on_chunk":  # the path of streams whose events cannot be read as JSON
        monkeypatch.setattr(_stream, "install", lambda *args: False)
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
    assert calls  # the failing reader really was the one used
    # Our state could not decide to hide the usage chunk: the app sees it, and
    # every content chunk arrives; the span still ends.
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert len(sink.spans()) == 1


def test_internal_failure_in_results_never_breaks_the_call(
    client: openai.OpenAI, sink: SpanSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("agent bug")

    monkeypatch.setattr(_chat, "usage_attributes", explode)
    result = client.chat.completions.create(model="gpt-4o", messages=USER)
    assert result.choices[0].message.content == TEXT
    assert len(sink.spans()) == 1  # ended, without the response attributes


def test_agent_writes_nothing_to_stdout() -> None:
    out = run_python(
        """
        from opentelemetry.sdk.trace import TracerProvider
        from instrumentors.openai import OpenAIInstrumentor, _chat
        OpenAIInstrumentor().instrument(tracer_provider=TracerProvider())
        def explode(*a, **k):
            raise RuntimeError("agent bug")
        _chat.input_messages = explode
        import openai
        client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="x", max_retries=0)
        try:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        except openai.APIConnectionError:
            print("app saw APIConnectionError")
        """
    )
    assert out == "app saw APIConnectionError\n"


def test_plain_opentelemetry_instrument_uses_the_global_provider(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent(
        """
        from tests.fakes.openai_server import FakeOpenAI
        import openai
        with FakeOpenAI() as fake:
            client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
            reply = client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        print("APP:", reply.choices[0].message.content)
        """
    ))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OTEL_PYTHON_DISTRO": "distro",
        "OTEL_PYTHON_CONFIGURATOR": "configurator",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "opentelemetry-instrument"), sys.executable, str(app)],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "APP: " + TEXT in done.stdout
    assert '"name": "chat gpt-4o"' in done.stdout
    assert '"honeyhive_outputs.content": "' + TEXT + '"' in done.stdout

"""End to end over OTLP, parentage, lazy patching, uninstrument, suppression."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import anthropic
import pytest
import wrapt
from opentelemetry import context as otel_context

import honeyhive_agent
from honeyhive_agent.tracer import registry
from instrumentors.anthropic import AnthropicInstrumentor
from tests.fakes.anthropic_server import FakeAnthropic, Reply, text, tool_use
from tests.support.otlp_receiver import OtlpReceiver

from .conftest import MODEL, USER, MakeTraced, Traced

REPO = Path(__file__).resolve().parents[3]
MESSAGES = anthropic.resources.messages.Messages  # type: ignore[attr-defined]


def test_spans_arrive_over_otlp_under_a_traced_function(
    monkeypatch: pytest.MonkeyPatch, fake: FakeAnthropic
) -> None:
    with OtlpReceiver() as rx:
        monkeypatch.setenv("HH_EXPORTERS", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rx.url)
        monkeypatch.setenv("HH_PROJECT", "anthropic-e2e")
        instrumentor = AnthropicInstrumentor()
        instrumentor.instrument(hh_tracer=lambda: registry.get_or_create("default"))
        try:
            fake.script(
                Reply(content=[text("Let me check."), tool_use("lookup", {"q": 1}, id="tu_1")],
                      stop_reason="tool_use"),
                Reply(content=[text("Streamed.")]),
            )

            @honeyhive_agent.trace(event_type="chain")
            def agent() -> str:
                with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as c:
                    c.messages.create(model=MODEL, max_tokens=16, system="sys", messages=USER)
                    with c.messages.stream(model=MODEL, max_tokens=16, messages=USER) as s:
                        return s.get_final_text()

            assert agent() == "Streamed."
            tracer = registry.get("default")
            assert tracer is not None and tracer.force_flush(5000)
            spans = rx.wait_for_spans(3)
        finally:
            instrumentor.uninstrument()

    assert len(spans) == 3
    root = next(s for s in spans if s["name"].endswith("agent"))
    llm = [s for s in spans if s is not root]
    assert all(s["parent_span_id"] == root["span_id"] for s in llm)
    assert {s["trace_id"] for s in spans} == {root["trace_id"]}
    first, second = sorted(llm, key=lambda s: s["start_ns"])
    a = first["attributes"]
    assert first["name"] == f"chat {MODEL}" and first["kind"] == "CLIENT"
    assert a["gen_ai.provider.name"] == "anthropic"
    assert a["gen_ai.response.finish_reasons"] == ["tool_use"]
    assert a["honeyhive_inputs.chat_history.0.role"] == "system"
    assert a["honeyhive_outputs.tool_calls.0.name"] == "lookup"
    assert a["honeyhive.project"] == "anthropic-e2e"
    assert a["honeyhive.session_id"] == tracer.session_id
    assert json.loads(a["gen_ai.output.messages"])[0]["parts"][0]["content"] == "Let me check."
    b = second["attributes"]
    assert b["honeyhive_event_name"] == "anthropic.chat"
    assert b["honeyhive_outputs.content"] == "Streamed."
    assert b["honeyhive_metrics.time_to_first_token_ms"] >= 0


def test_uninstrument_restores_the_sdk(
    traced: Traced, client: anthropic.Anthropic
) -> None:
    assert isinstance(MESSAGES.__dict__["create"], wrapt.FunctionWrapper)
    traced.instrumentor.uninstrument()
    assert not isinstance(MESSAGES.__dict__["create"], wrapt.FunctionWrapper)
    assert not isinstance(MESSAGES.__dict__["stream"], wrapt.FunctionWrapper)
    client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    with client.messages.stream(model=MODEL, max_tokens=8, messages=USER) as stream:
        stream.until_done()
    assert traced.spans() == []


def test_instrument_twice_still_one_span(
    make_traced: MakeTraced, client: anthropic.Anthropic
) -> None:
    traced = make_traced()
    AnthropicInstrumentor().instrument(hh_tracer=traced.tracer)
    client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    assert len(traced.spans()) == 1


def test_suppressed_instrumentation_makes_no_span(
    traced: Traced, client: anthropic.Anthropic
) -> None:
    token = otel_context.attach(
        otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
    )
    try:
        client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    finally:
        otel_context.detach(token)
    assert traced.spans() == []


def test_patching_is_lazy_and_happens_on_import(fake: FakeAnthropic, tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from instrumentors.anthropic import AnthropicInstrumentor

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        AnthropicInstrumentor().instrument(tracer_provider=provider)
        print("imported before:", "anthropic" in sys.modules)

        import anthropic
        client = anthropic.Anthropic(base_url={fake.url!r}, api_key="x", max_retries=0)
        message = client.messages.create(model="m", max_tokens=8,
                                         messages=[{{"role": "user", "content": "hi"}}])
        print(message.content[0].text)
        print("spans:", len(exporter.get_finished_spans()))
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, timeout=60, check=True)
    assert out.stdout.splitlines() == ["imported before: False", "Hello there!", "spans: 1"]
    assert out.stderr == ""


def test_agent_failure_never_reaches_the_app(
    traced: Traced, client: anthropic.Anthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from instrumentors.anthropic import _attributes

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("agent bug")

    monkeypatch.setattr(_attributes, "add_messages", broken)
    message = client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    assert message.content[0].text == "Hello there!"  # type: ignore[union-attr]
    with client.messages.stream(model=MODEL, max_tokens=8, messages=USER) as stream:
        assert stream.get_final_text() == "Hello there!"

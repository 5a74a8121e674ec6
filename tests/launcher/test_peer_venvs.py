"""Peers from other projects (OpenLLMetry, OpenInference, the official genai-*).

They cannot share the project's venv, so this uses the benchmark venvs
(``python benchmarks/peers.py setup``) and is skipped where they are absent.
Each peer instruments first and then the agent starts (the order where the
peer must be switched off): exactly one span per call, ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI
from tests.launcher.conftest import agent_env, agent_lines, run, write
from tests.support.otlp_receiver import OtlpReceiver

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / "benchmarks" / ".venvs"
PEERS = {
    "openllmetry": {
        "openai": "opentelemetry.instrumentation.openai:OpenAIInstrumentor",
        "anthropic": "opentelemetry.instrumentation.anthropic:AnthropicInstrumentor",
    },
    "openinference": {
        "openai": "openinference.instrumentation.openai:OpenAIInstrumentor",
        "anthropic": "openinference.instrumentation.anthropic:AnthropicInstrumentor",
    },
    "official": {
        "openai": "opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor",
        "anthropic": "opentelemetry.instrumentation.genai.anthropic:AnthropicInstrumentor",
    },
}
CASES = [(venv, lib, spec) for venv, libs in PEERS.items() for lib, spec in libs.items()
         if (VENVS / venv / ".ok").exists()]

APP = """
    import importlib, os, sys
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    lib, spec = sys.argv[1], sys.argv[2]
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=os.environ["APP_OTLP"])))
    trace.set_tracer_provider(provider)
    module, _, cls = spec.partition(":")
    getattr(importlib.import_module(module), cls)().instrument(tracer_provider=provider)
    import honeyhive_agent.auto  # noqa: F401  (after the peer)
    if lib == "openai":
        import openai
        openai.OpenAI().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    else:
        import anthropic
        anthropic.Anthropic(max_retries=0).messages.create(
            model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    print("done")
"""


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeOpenAI, FakeAnthropic]]:
    with FakeOpenAI() as fake_openai, FakeAnthropic() as fake_anthropic:
        yield fake_openai, fake_anthropic


@pytest.mark.skipif(not CASES, reason="no benchmark peer venvs (benchmarks/peers.py setup)")
@pytest.mark.parametrize(("venv", "lib", "spec"), CASES or [("", "", "")])
def test_active_peer_is_switched_off(
    tmp_path: Path, receiver: OtlpReceiver, fakes: tuple[FakeOpenAI, FakeAnthropic],
    venv: str, lib: str, spec: str,
) -> None:
    fake_openai, fake_anthropic = fakes
    write(tmp_path / "app.py", APP)
    env = agent_env({
        "PYTHONPATH": str(ROOT),  # the peer venvs do not install the agent
        "OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": "sk-test",
        "ANTHROPIC_BASE_URL": fake_anthropic.url, "ANTHROPIC_API_KEY": "sk-ant-test",
        "HH_EXPORTERS": "console",  # the peer venvs have no httpx for our OTLP exporter
        "APP_OTLP": receiver.traces_url,
    })
    done = run([str(VENVS / venv / "bin" / "python"), "app.py", lib, spec], env, cwd=tmp_path)
    assert done.stdout == "done\n", done.stderr
    ours = [line for line in done.stderr.splitlines() if line.startswith("[honeyhive] chat")]
    assert len(ours) == 1, done.stderr
    assert receiver.spans == []  # the peer recorded nothing
    assert any("on_conflict: honeyhive" in line for line in agent_lines(done.stderr))

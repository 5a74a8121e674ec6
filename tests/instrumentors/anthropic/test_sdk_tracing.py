"""The SDK's own OpenTelemetry spans (anthropic >= 2): exactly one span per call.

With a global tracer provider registered (as the distro does) the SDK would
trace every call itself; while our instrumentor is active it is switched off
for clients whose user did not configure it, and left alone otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from instrumentors.anthropic import AnthropicInstrumentor
from tests.fakes.anthropic_server import FakeAnthropic

from .conftest import MODEL, USER, Traced

pytestmark = pytest.mark.skipif(
    not hasattr(anthropic, "_tracing"), reason="this anthropic has no tracing of its own"
)
SDK_SCOPE = "com.anthropic.sdk.python"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def global_spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """A global tracer provider (what the distro or the app registers)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(otel_trace, "_TRACER_PROVIDER", provider)
    yield exporter
    provider.shutdown()


def _call(client: anthropic.Anthropic) -> None:
    client.messages.create(model=MODEL, max_tokens=8, messages=USER)


def _scopes(exporter: InMemorySpanExporter) -> list[str]:
    return [s.instrumentation_scope.name for s in exporter.get_finished_spans()
            if s.instrumentation_scope is not None]


def test_sdk_traces_itself_without_us(
    global_spans: InMemorySpanExporter, fake: FakeAnthropic
) -> None:
    # The premise: without the agent, the SDK makes its own span.
    with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as client:
        _call(client)
    assert _scopes(global_spans) == [SDK_SCOPE]


def test_one_span_per_call_with_a_global_provider(
    global_spans: InMemorySpanExporter, traced: Traced, fake: FakeAnthropic
) -> None:
    with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as client:
        _call(client)
        with client.messages.stream(model=MODEL, max_tokens=8, messages=USER) as stream:
            stream.until_done()
        copy = client.with_options(timeout=5)
        _call(copy)
        # What the app can read back is unchanged.
        assert client.open_telemetry["traces"]["enabled"] is True
    assert _scopes(global_spans) == []
    assert len(traced.spans()) == 3
    assert "traceparent" not in fake.last.headers


def test_one_span_when_we_export_to_the_global_provider(
    global_spans: InMemorySpanExporter, fake: FakeAnthropic
) -> None:
    # Plain opentelemetry-instrument / the distro: our spans go to the global provider too.
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument()
    try:
        with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as client:
            _call(client)
    finally:
        instrumentor.uninstrument()
    spans = global_spans.get_finished_spans()
    assert len(spans) == 1
    assert dict(spans[0].attributes or {})["honeyhive_event_type"] == "model"


def test_explicit_option_keeps_the_sdk_spans(
    global_spans: InMemorySpanExporter, traced: Traced, fake: FakeAnthropic
) -> None:
    parent_tracer = otel_trace.get_tracer("app")
    with anthropic.Anthropic(
        base_url=fake.url, api_key="x", max_retries=0, open_telemetry={}
    ) as client, parent_tracer.start_as_current_span("app.step") as parent:
        _call(client)
        _call(client.with_options(timeout=5))  # a copy keeps the user's choice
    sdk_spans = [s for s in global_spans.get_finished_spans() if s.name != "app.step"]
    ours = traced.spans()
    assert len(sdk_spans) == 2 and len(ours) == 2
    # Both under the app's span: ours is created when the call ends (deferred),
    # so the SDK's span is its sibling.
    parent_id = parent.get_span_context().span_id
    for span in (*sdk_spans, *ours):
        assert span.parent is not None and span.parent.span_id == parent_id
    assert "traceparent" in fake.last.headers


def test_explicit_false_is_respected(
    global_spans: InMemorySpanExporter, traced: Traced, fake: FakeAnthropic
) -> None:
    with anthropic.Anthropic(
        base_url=fake.url, api_key="x", max_retries=0, open_telemetry=False
    ) as client:
        _call(client)
    assert _scopes(global_spans) == [] and len(traced.spans()) == 1


def test_environment_choice_is_respected(
    global_spans: InMemorySpanExporter,
    traced: Traced,
    fake: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE", "content")
    with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as client:
        _call(client)
    assert _scopes(global_spans) == [SDK_SCOPE] and len(traced.spans()) == 1


def test_uninstrument_gives_new_clients_their_sdk_spans_back(
    global_spans: InMemorySpanExporter, traced: Traced, fake: FakeAnthropic
) -> None:
    traced.instrumentor.uninstrument()
    with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as client:
        _call(client)
    assert _scopes(global_spans) == [SDK_SCOPE] and traced.spans() == []


def test_distro_style_process_exports_one_span(fake: FakeAnthropic, tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(f"""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from instrumentors.anthropic import AnthropicInstrumentor

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        AnthropicInstrumentor().instrument()

        import anthropic  # patched on import
        client = anthropic.Anthropic(base_url={fake.url!r}, api_key="x", max_retries=0)
        client.messages.create(model="m", max_tokens=8, messages=[{{"role": "user",
                                                                    "content": "hi"}}])
        print([s.instrumentation_scope.name for s in exporter.get_finished_spans()])
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, timeout=60, check=True)
    assert out.stdout.strip() == "['honeyhive_agent.instrumentors.anthropic']"

"""An unchanged OpenAI app (the real SDK against the loopback fake) under the agent.

Also: the OpenTelemetry distro path, and a peer instrumentor
(``opentelemetry-instrumentation-openai-v2``) active at the same time:
whatever the order, one LLM call gives exactly one span, and the policy
``instrumentors.openai.on_conflict`` decides whose.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.launcher.conftest import agent_env, agent_lines, run, run_both, session_ids, write
from tests.support.otlp_receiver import OtlpReceiver


def _needs_peer() -> None:
    pytest.importorskip("opentelemetry.instrumentation.openai_v2")

OUR_SCOPE = "honeyhive_agent.instrumentors.openai"

APP = """
    import os, sys
    mode = sys.argv[1] if len(sys.argv) > 1 else "plain"

    if mode.startswith("peer"):
        # The app's own global provider, exporting to the same receiver, so a
        # second span per call would be seen.
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        provider = TracerProvider()
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=os.environ["APP_OTLP"])))
        trace.set_tracer_provider(provider)
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
        if mode == "peer-then-auto":
            import honeyhive_agent.auto  # noqa: F401

    import openai

    client = openai.OpenAI()
    if mode == "distro":
        from opentelemetry import trace

        with trace.get_tracer("app").start_as_current_span("handle-request"):
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    else:
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    print(reply.choices[0].message.content)
"""


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def app_env(fake_openai: FakeOpenAI, receiver: OtlpReceiver, tmp_path: Path) -> dict[str, str]:
    write(tmp_path / "app.py", APP)
    return agent_env({
        "OPENAI_BASE_URL": fake_openai.base_url,
        "OPENAI_API_KEY": "sk-test",
        "HH_EXPORTERS": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.traces_url,
        "APP_OTLP": receiver.traces_url,
    })


def _llm_spans(receiver: OtlpReceiver) -> list[dict[str, object]]:
    return [s for s in receiver.spans if str(s["name"]).startswith("chat")]


def test_unchanged_openai_app(tmp_path: Path, receiver: OtlpReceiver,
                              app_env: dict[str, str]) -> None:
    _bare, traced = run_both(["python", "app.py"], app_env, cwd=tmp_path)
    assert traced.stdout.strip() != ""
    assert traced.stderr == ""
    (span,) = receiver.wait_for_spans(1)
    assert span["name"] == "chat gpt-4o-mini"
    assert span["scope"] == OUR_SCOPE
    attrs = span["attributes"]
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["honeyhive.session_name"] == "app.py"
    assert attrs["honeyhive_event_type"] == "model"


def test_distro_global_provider_joins_traces(
    tmp_path: Path, receiver: OtlpReceiver, app_env: dict[str, str]
) -> None:
    env = {**app_env, "OTEL_PYTHON_DISTRO": "honeyhive"}
    _bare, traced = run_both(["python", "app.py", "distro"], env, cwd=tmp_path,
                             launcher=["opentelemetry-instrument"])
    if importlib.util.find_spec("opentelemetry.instrumentation.openai_v2") is None:
        assert traced.stderr == ""
    else:
        # The installed peer (openai-v2) loads through its entry point: one line says who wins.
        (warning,) = traced.stderr.splitlines()
        assert "opentelemetry-instrumentation-openai-v2" in warning and "honeyhive" in warning
    spans = receiver.wait_for_spans(2)
    assert sorted(s["name"] for s in spans) == ["chat gpt-4o-mini", "handle-request"]
    llm = next(s for s in spans if s["name"] == "chat gpt-4o-mini")
    outer = next(s for s in spans if s["name"] == "handle-request")
    assert llm["scope"] == OUR_SCOPE  # the openai-v2 entry point was skipped
    assert llm["parent_span_id"] == outer["span_id"]
    assert len(session_ids(spans)) == 1 and "None" not in session_ids(spans)


@pytest.mark.parametrize("mode", ["peer", "peer-then-auto"])
@pytest.mark.parametrize("policy", ["honeyhive", "peer"])
def test_peer_instrumentor_one_span_per_call(
    tmp_path: Path, receiver: OtlpReceiver, app_env: dict[str, str], mode: str, policy: str
) -> None:
    _needs_peer()
    write(tmp_path / "honeyhive.yaml", f"instrumentors:\n  openai:\n    on_conflict: {policy}\n")
    launcher = ["honeyhive-run"] if mode == "peer" else []
    done = run([*launcher, "python", "app.py", mode], app_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    receiver.wait_for_spans(1)
    import time

    time.sleep(0.3)  # a second span, if any, is exported at exit: it has arrived
    spans = _llm_spans(receiver)
    assert len(spans) == 1, [(s["name"], s["scope"]) for s in spans]
    assert (spans[0]["scope"] == OUR_SCOPE) == (policy == "honeyhive"), spans[0]["scope"]
    (warning,) = agent_lines(done.stderr)
    assert "opentelemetry-instrumentation-openai-v2" in warning
    assert f"on_conflict: {policy}" in warning


def test_plain_opentelemetry_instrument(
    tmp_path: Path, receiver: OtlpReceiver, app_env: dict[str, str]
) -> None:
    env = {k: v for k, v in app_env.items() if not k.startswith("HH_")}
    done = run(["opentelemetry-instrument", "python", "app.py"], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    spans = receiver.wait_for_spans(1)
    assert [(s["name"], s["scope"]) for s in spans] == [("chat gpt-4o-mini", OUR_SCOPE)]
    assert not (tmp_path / ".honeyhive").exists()  # the stock SDK pipeline, not ours


@pytest.mark.parametrize("switch", [
    {"HH_INSTRUMENTORS_DISABLED": "openai"},
    {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai"},
    {"yaml": "instrumentors:\n  openai:\n    enabled: false\n"},
])
def test_switches_leave_openai_unpatched(
    tmp_path: Path, receiver: OtlpReceiver, app_env: dict[str, str], switch: dict[str, str]
) -> None:
    if "yaml" in switch:
        write(tmp_path / "honeyhive.yaml", switch.pop("yaml"))
    env = {**app_env, **switch}
    probe = "import sys; print('instrumentors.openai' in sys.modules)"
    write(tmp_path / "check.py", f"import runpy; runpy.run_path('app.py'); {probe}\n")
    _bare, traced = run_both(["python", "check.py"], env, cwd=tmp_path)
    assert traced.stdout.endswith("False\n")
    assert traced.stderr == ""
    assert receiver.spans == []


def test_unknown_wrapper_is_reported_once(
    tmp_path: Path, receiver: OtlpReceiver, app_env: dict[str, str]
) -> None:
    write(tmp_path / "mywrap.py", """
        import wrapt
        import openai.resources.chat.completions.completions as mod

        def passthrough(wrapped, instance, args, kwargs):
            return wrapped(*args, **kwargs)

        wrapt.wrap_function_wrapper(mod, "Completions.create", passthrough)
    """)
    write(tmp_path / "wrapped_app.py", "import mywrap\nimport honeyhive_agent.auto\n"
          "import runpy\nrunpy.run_path('app.py')\n")
    done = run(["python", "wrapped_app.py"], app_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (warning,) = agent_lines(done.stderr)
    assert "mywrap" in warning and "Completions.create" in warning
    assert [s["name"] for s in receiver.wait_for_spans(1)] == ["chat gpt-4o-mini"]


def test_stock_distro_with_a_peer_still_one_span(
    tmp_path: Path, receiver: OtlpReceiver, app_env: dict[str, str]
) -> None:
    _needs_peer()
    env = {k: v for k, v in app_env.items() if not k.startswith("HH_")}
    env.update(OTEL_PYTHON_DISTRO="distro", OTEL_PYTHON_CONFIGURATOR="configurator",
               OTEL_TRACES_EXPORTER="otlp", OTEL_METRICS_EXPORTER="none",
               OTEL_LOGS_EXPORTER="none", OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    done = run(["opentelemetry-instrument", "python", "app.py"], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    receiver.wait_for_spans(1)
    import time

    time.sleep(0.3)
    assert [(s["name"], s["scope"]) for s in _llm_spans(receiver)] == [
        ("chat gpt-4o-mini", OUR_SCOPE)]

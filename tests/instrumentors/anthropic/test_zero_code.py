"""An unchanged anthropic app under honeyhive-run and under the distro: one span per call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.otlp_receiver import OtlpReceiver

BIN = Path(sys.executable).parent
APP = textwrap.dedent("""
    import sys
    import anthropic

    client = anthropic.Anthropic(base_url=sys.argv[1], api_key="x", max_retries=0)
    hi = [{"role": "user", "content": "hi"}]
    message = client.messages.create(model="claude-z", max_tokens=8, messages=hi)
    print(message.content[0].text)
    with client.messages.stream(model="claude-z", max_tokens=8, messages=hi) as stream:
        print(stream.get_final_text())
""")


@pytest.mark.parametrize(
    "launcher",
    [["honeyhive-run"], ["opentelemetry-instrument"]],
    ids=["honeyhive-run", "distro"],
)
def test_unchanged_app(launcher: list[str], fake: FakeAnthropic, tmp_path: Path) -> None:
    runner = BIN / launcher[0]
    if not runner.exists():
        pytest.skip(f"{launcher[0]} is not installed")
    app = tmp_path / "app.py"
    app.write_text(APP)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("HH_", "OTEL_", "ANTHROPIC_"))}
    bare = subprocess.run([sys.executable, str(app), fake.url], capture_output=True,
                          text=True, env=base, cwd=tmp_path, timeout=60)
    with OtlpReceiver() as rx:
        env = {**base, "HH_EXPORTERS": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": rx.url}
        if launcher[0] == "opentelemetry-instrument":
            # The distro registers the default tracer's provider as the global one,
            # which is when anthropic 2.x would add spans of its own.
            env["OTEL_PYTHON_DISTRO"] = "honeyhive"
        run = subprocess.run([str(runner), sys.executable, str(app), fake.url],
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
        assert (run.stdout, run.returncode) == (bare.stdout, bare.returncode) == (
            "Hello there!\nHello there!\n", 0)
        # The app has exited (its exit flush is done): every span has arrived.
        spans = rx.wait_for_spans(2)
    assert [s["name"] for s in spans] == ["chat claude-z", "chat claude-z"]  # exactly two
    assert {s["scope"] for s in spans} == {"honeyhive_agent.instrumentors.anthropic"}
    assert all(s["attributes"]["honeyhive_outputs.content"] == "Hello there!" for s in spans)
    assert len({s["attributes"]["honeyhive.session_id"] for s in spans}) == 1

"""Per-library tracer routing, and a bootstrap that fails without hurting the app."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI
from tests.launcher.conftest import agent_env, agent_lines, run_both, write
from tests.support.otlp_receiver import OtlpReceiver

APP = """
    import anthropic, openai

    oa = openai.OpenAI().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    an = anthropic.Anthropic(max_retries=0).messages.create(
        model="claude-sonnet-4-5", max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    print(oa.choices[0].message.content)
    print(an.content[0].text)
"""


def test_each_library_goes_to_its_tracer(tmp_path: Path, receiver: OtlpReceiver) -> None:
    write(tmp_path / "app.py", APP)
    write(tmp_path / "honeyhive.yaml", f"""
        project: main-project
        exporters: [otlp]
        otlp: {{traces_endpoint: "{receiver.traces_url}"}}
        tracers:
          default: {{}}
          research:
            project: research-project
        instrumentors:
          anthropic: {{tracer: research}}
    """)
    with FakeOpenAI() as fake_openai, FakeAnthropic() as fake_anthropic:
        env = agent_env({
            "OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": "sk-test",
            "ANTHROPIC_BASE_URL": fake_anthropic.url, "ANTHROPIC_API_KEY": "sk-ant-test",
        })
        _bare, traced = run_both(["python", "app.py"], env, cwd=tmp_path)
    assert traced.stderr == ""
    spans = receiver.wait_for_spans(2)
    projects = {s["attributes"]["gen_ai.provider.name"]: s["attributes"]["honeyhive.project"]
                for s in spans}
    assert projects == {"openai": "main-project", "anthropic": "research-project"}


def test_broken_bootstrap_warns_once_and_the_app_runs(tmp_path: Path) -> None:
    # A stray `instrumentors` package on PYTHONPATH shadows ours: start-up
    # cannot find the instrumentor table.
    write(tmp_path / "shadow" / "instrumentors" / "__init__.py", "")
    write(tmp_path / "app.py", "import sys; print('app ran'); sys.exit(7)\n")
    env = agent_env({"PYTHONPATH": str(tmp_path / "shadow")})
    _bare, traced = run_both(["python", "app.py"], env, cwd=tmp_path)
    assert traced.returncode == 7
    (warning,) = agent_lines(traced.stderr)
    assert "WARNING" in warning and "KNOWN" in warning
    assert traced.stderr.strip() == warning

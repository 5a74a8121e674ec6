"""The agent's background threads must not race the app's own imports.

openai 3.x (on ``httpx2``) looks up ``sys.modules["httpx"]`` on every request
to accept legacy ``httpx`` objects.  If an agent thread is importing ``httpx``
at that moment (a lazy import in the exporter's worker), the app's thread sees
a partially initialised module and the request raises ``AttributeError`` in
user code.  This drives an instrumented app with a short batch delay in a
fresh interpreter, where ``httpx`` is not imported yet.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

APP = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {benchmarks!r})
    import _overhead_worker as w
    from honeyhive_agent.config.loader import load_config
    from honeyhive_agent.tracer import HoneyHiveTracer
    from instrumentors.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(hh_tracer=HoneyHiveTracer(load_config().tracers["default"]))
    import anthropic, openai

    calls = w.build_workloads(w.Canned(w.http_module(openai)), w.Canned(w.http_module(anthropic)))
    call = calls["openai.call"]()
    end = time.monotonic() + 1.5
    n = 0
    while time.monotonic() < end:
        call()
        n += 1
    print("calls", n)
    """
)


def test_requests_keep_working_while_the_exporter_starts(tmp_path: Path) -> None:
    openai = pytest.importorskip("openai")
    if not hasattr(pytest.importorskip("instrumentors.openai"), "OpenAIInstrumentor"):
        pytest.skip("instrumentors.openai.OpenAIInstrumentor is not there yet")
    base_client = importlib.import_module("openai._base_client")
    if getattr(base_client, "httpx2", None) is None:
        pytest.skip(f"openai {openai.__version__} is built on httpx itself: no lookup to race")
    (tmp_path / "honeyhive.yaml").write_text(
        "exporters: [otlp]\n"
        "otlp: {endpoint: 'http://127.0.0.1:9'}\n"
        "batch: {schedule_delay_ms: 50}\n"
        "shutdown_timeout_ms: 500\n"
    )
    script = tmp_path / "app.py"
    script.write_text(APP.format(benchmarks=str(BENCHMARKS)))
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert "partially initialized module" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("calls ")

"""The atexit flush: delivers what is pending, and is bounded with a bad backend.

Each test runs a real app in a subprocess. The app prints a line as its last
statement; the time from that line to the process's exit is the exit flush
(plus interpreter teardown), which must stay within ``shutdown_timeout_ms``
and a margin even when the backend is dead or hangs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.fake_honeyhive import FakeHoneyHive
from tests.support.otlp_receiver import closed_url

SHUTDOWN_TIMEOUT_MS = 1000
# Interpreter teardown on a loaded 2-core machine; generous on purpose.
MARGIN_S = 1.5

APP = """
import sys
from honeyhive_agent.tracer import HoneyHiveTracer

tracer = HoneyHiveTracer(
    shutdown_timeout_ms={timeout},
    # A long delay: only the exit flush can send the spans.
    batch={{"schedule_delay_ms": 60000, "export_timeout_ms": 30000}},
)
with tracer.get_otel_tracer().start_as_current_span("work"):
    tracer.enrich_session(metadata={{"done": True}})
print("END", flush=True)
"""


def _exit_time(
    tmp_path: Path, server_url: str, timeout_ms: int = SHUTDOWN_TIMEOUT_MS
) -> tuple[float, str]:
    """Seconds from the app's last line to its exit, and its stderr."""
    (tmp_path / "app.py").write_text(APP.format(timeout=timeout_ms))
    env = {**os.environ, "HH_API_KEY": "hh-key-for-exit-tests", "HH_API_URL": server_url}
    proc = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        ended = time.monotonic()
        assert line.strip() == "END"
        proc.wait(timeout=30)
        exited = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate()
    assert proc.returncode == 0, stderr
    return exited - ended, stderr


def test_exit_flush_delivers_pending_spans_and_updates(tmp_path: Path) -> None:
    with FakeHoneyHive() as hh:
        _, stderr = _exit_time(tmp_path, hh.url)
        (span,) = hh.wait_for_spans(1)
        (session,) = hh.wait_for_sessions(1)
        (event,) = hh.wait_for_events(1)
    sid = session["session"]["session_id"]
    assert span["attributes"]["honeyhive.session_id"] == sid
    assert event == {"event_id": sid, "metadata": {"done": True}}
    assert stderr == ""


@pytest.mark.parametrize("backend", ["dead", "slow"])
def test_exit_is_bounded_when_the_backend_is_dead_or_slow(backend: str, tmp_path: Path) -> None:
    with FakeHoneyHive() as hh:
        hh.delay_s = 20.0  # every route hangs far beyond the bound
        url = closed_url("") if backend == "dead" else hh.url
        took, stderr = _exit_time(tmp_path, url)
    assert took < SHUTDOWN_TIMEOUT_MS / 1000 + MARGIN_S, (took, stderr)
    assert "hh-key-for-exit-tests" not in stderr
    assert "Traceback" not in stderr


def test_shutdown_timeout_zero_skips_the_exit_flush(tmp_path: Path) -> None:
    # 0 is a bound like any other ("0 skips the flush"), not "use the default".
    with FakeHoneyHive() as hh:
        hh.delay_s = 20.0
        took, stderr = _exit_time(tmp_path, hh.url, timeout_ms=0)
    assert took < MARGIN_S, (took, stderr)
    assert "Traceback" not in stderr


CTRL_C_APP = """
import os, signal, time
from honeyhive_agent.tracer import HoneyHiveTracer

tracer = HoneyHiveTracer(exporters=["local"], batch={"schedule_delay_ms": 60000})
with tracer.get_otel_tracer().start_as_current_span("work"):
    pass
os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: the exit flush does the first export
time.sleep(30)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_still_exits_by_sigint_after_the_exit_flush(tmp_path: Path) -> None:
    # The flush's lazy imports run exec() (dataclasses), which clears the
    # interpreter's "ended by KeyboardInterrupt" flag: exit status 1, not SIGINT.
    (tmp_path / "app.py").write_text(CTRL_C_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HH_", "OTEL_"))}
    proc = subprocess.run(
        [sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )
    assert proc.returncode == -2, proc.stderr
    assert proc.stderr.rstrip().endswith("KeyboardInterrupt")
    assert (tmp_path / ".honeyhive" / "traces.db").exists()


def test_a_ctrl_c_shown_by_an_interactive_console_keeps_a_normal_exit(tmp_path: Path) -> None:
    # code.InteractiveConsole (like IPython) sets sys.last_value for the
    # interrupt it handled; the program then ends normally, with status 0.
    app = (
        "import code\nfrom honeyhive_agent.tracer import HoneyHiveTracer\n"
        "tracer = HoneyHiveTracer(exporters=['local'])\n"
        "code.InteractiveConsole().runsource('raise KeyboardInterrupt')\n"
    )
    (tmp_path / "app.py").write_text(app)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HH_", "OTEL_"))}
    proc = subprocess.run(
        [sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )
    assert proc.returncode == 0, proc.stderr

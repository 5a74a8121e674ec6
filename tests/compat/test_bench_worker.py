"""The overhead benchmark's worker drives the installed SDK releases.

Its mock transport is built from whichever httpx module the SDK uses
(``httpx2`` for openai 3.x / anthropic 2.x, ``httpx`` before), so this runs in
every environment of the compatibility matrix as well as in ``make test``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._util import otlp_sink

WORKER = Path(__file__).resolve().parents[2] / "benchmarks" / "_overhead_worker.py"
WORKLOADS = (
    "openai.call",
    "openai.stream.short",
    "openai.stream.long",
    "anthropic.call",
    "anthropic.stream.short",
    "anthropic.stream.long",
)


def _run(
    script: Path, args: list[str], tmp_path: Path, stdin: str = ""
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run a benchmark ``script`` (``{sink}`` in ``args``: a loopback OTLP sink's
    URL); its process and how many export requests reached the sink."""
    with otlp_sink() as sink:
        proc = subprocess.run(
            [sys.executable, str(script), *(a.format(sink=sink.url) for a in args)],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        return proc, sink.requests


def _drive(mode: str, tmp_path: Path) -> list[str]:
    script = "".join(f"run {w} 2\n" for w in WORKLOADS) + "quit\n"
    proc, exported = _run(WORKER, ["--mode", mode, "--sink", "{sink}"], tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    # The traced modes really export (bare has nothing to send).
    assert (exported > 0) == (mode != "bare"), f"{mode}: {exported} export requests"
    return [ln for ln in proc.stdout.splitlines() if ln.startswith(("READY", "RESULT"))]


def test_bare_worker_runs_every_workload(tmp_path: Path) -> None:
    lines = _drive("bare", tmp_path)
    assert lines[0].startswith("READY ")
    results = [json.loads(ln.split(" ", 1)[1]) for ln in lines[1:]]
    assert len(results) == len(WORKLOADS)
    assert all(r["median"] > 0 and r["mean"] > 0 for r in results)


def test_honeyhive_worker_runs_every_workload(tmp_path: Path) -> None:
    for name, cls in (("openai", "OpenAIInstrumentor"), ("anthropic", "AnthropicInstrumentor")):
        if not hasattr(pytest.importorskip(f"instrumentors.{name}"), cls):
            pytest.skip(f"instrumentors.{name}.{cls} is not there yet")
    lines = _drive("honeyhive", tmp_path)
    assert len(lines) == 1 + len(WORKLOADS)


@pytest.mark.parametrize(
    ("mode", "sdk"),
    [("honeyhive", "openai"), ("honeyhive", "anthropic"), ("honeyhive-sdk-checks", "openai")],
)
def test_same_process_script_has_a_bare_twin_of_our_patch(
    mode: str, sdk: str, tmp_path: Path
) -> None:
    """``instructions.py`` counts ``_same_process.py`` under callgrind; here it
    runs plainly: our patch is on the SDK method itself (exit 3 if not), and
    the traced streams export."""
    script = WORKER.with_name("_same_process.py")
    proc, exported = _run(script, [mode, "{sink}", sdk, "1"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert exported > 0

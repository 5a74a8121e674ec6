"""End-to-end helpers: run real programs with and without the agent and compare.

Every test here starts real subprocesses (``honeyhive-run``, ``python``,
``opentelemetry-instrument``) from the venv running pytest, with the
suite's clean environment plus what the test adds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.otlp_receiver import OtlpReceiver

VENV_BIN = Path(sys.executable).parent
TIMEOUT_S = 60


def agent_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The suite's environment with the venv first on PATH, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("HH_", "HONEYHIVE_", "OTEL_", "PYTHONPATH"))
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', os.defpath)}"
    env.pop("PYTHONSTARTUP", None)
    env.update(extra or {})
    return env


def run(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    input: str | None = None,
    timeout: float = TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        env=dict(env) if env is not None else agent_env(),
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_both(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    input: str | None = None,
    launcher: Sequence[str] = ("honeyhive-run",),
    between: Any = None,
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """Run ``cmd`` bare and under the agent; assert same stdout and exit code.

    ``between`` is called after the bare run (e.g. to forget what it exported).
    """
    env = dict(env) if env is not None else agent_env()
    bare = run(cmd, env, cwd=cwd, input=input)
    if between is not None:
        between()
    traced = run([*launcher, *cmd], env, cwd=cwd, input=input)
    assert traced.stdout == bare.stdout, (bare.stderr, traced.stderr)
    assert traced.returncode == bare.returncode, (bare.stderr, traced.stderr)
    return bare, traced


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def agent_lines(stderr: str) -> list[str]:
    """The lines the agent wrote to stderr."""
    return [line for line in stderr.splitlines() if line.startswith("honeyhive-agent")]


def session_ids(spans: Sequence[Mapping[str, Any]]) -> set[str]:
    return {str(s["attributes"].get("honeyhive.session_id")) for s in spans}


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rx:
        yield rx


@pytest.fixture
def otlp_env(receiver: OtlpReceiver) -> dict[str, str]:
    """Agent env exporting to the loopback receiver only."""
    return agent_env({
        "HH_EXPORTERS": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.traces_url,
    })


TRACED_APP = """
    import sys
    from honeyhive_agent import trace

    @trace
    def double(x):
        return x * 2

    print("result", double(21))
    print("args", sys.argv[1:])
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""

"""Suite-wide isolation: no agent env leaks in, no files land in the repo."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_AGENT_ENV_PREFIXES = ("HH_", "HONEYHIVE_", "OTEL_", "ANTHROPIC_OPEN_TELEMETRY")


@pytest.fixture(autouse=True)
def _isolated_agent_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith(_AGENT_ENV_PREFIXES):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    registry = sys.modules.get("honeyhive_agent.tracer.registry")
    reset = getattr(registry, "reset", None)
    if callable(reset):
        reset()

"""Whatever the file or arguments hold, the loader raises only ConfigurationError."""

from __future__ import annotations

import contextlib
import random
import re
from pathlib import Path

import pytest

from honeyhive_agent.config.loader import load_config, tracer_config
from honeyhive_agent.config.model import AgentConfig, TracerConfig
from honeyhive_agent.errors import ConfigurationError

EXAMPLE = Path(__file__).resolve().parents[2] / "honeyhive.yaml.example"
_SETTING = re.compile(r"^(\s*)#(?=[^\s#])", re.MULTILINE)
_NOISE = ":{}[]-#&*!|>'\"$%,\t\n ?@`~\\x0é"


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(4)
        if op == 0 and text:
            start = rng.randrange(len(text))
            text = text[:start] + text[start + rng.randint(1, 8) :]
        elif op == 1:
            at = rng.randrange(len(text) + 1)
            noise = "".join(rng.choice(_NOISE) for _ in range(rng.randint(1, 4)))
            text = text[:at] + noise + text[at:]
        elif op == 2 and lines:
            lines = text.splitlines(keepends=True)
            line = rng.choice(lines)
            text = text.replace(line, line + line, 1)
        elif lines:
            lines = text.splitlines(keepends=True)
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
    return text


@pytest.mark.parametrize("seed", range(8))
def test_mutated_example_never_raises_anything_else(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    base = _SETTING.sub(r"\1", EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "fuzz.yaml"
    outcomes = {"ok": 0, "error": 0}
    for _ in range(60):
        path.write_text(_mutate(base, rng), encoding="utf-8")
        try:
            result = load_config(path, env={})
        except ConfigurationError as exc:
            assert exc.file == str(path)
            outcomes["error"] += 1
        else:
            assert isinstance(result, AgentConfig)
            outcomes["ok"] += 1
    assert outcomes["error"] > 0


_VALUES: list[object] = [
    None, "", "x", "http://127.0.0.1:1", 0, -1, 7, 1.5, True, False, [], ["otlp"], ["x"], {},
    {"a": 1}, {"name": "n"}, {"max_queue_size": 3}, object(), b"bytes", ("console",),
]
_KEYS = [
    "api_key", "server_url", "project", "source", "capture_content", "session", "exporters",
    "otlp", "honeyhive_protocol", "batch", "shutdown_timeout_ms", "redact",
    "max_attribute_length", "local", "session_name", "session_id", "service_name",
    "resource_attributes", "tracers", "instrumentors", "disabled", "log_level", "bogus",
]


@pytest.mark.parametrize("key", _KEYS)
def test_any_override_value_gives_config_or_configuration_error(key: str) -> None:
    for value in _VALUES:
        try:
            load_config(env={}, overrides={key: value})
        except ConfigurationError as exc:
            assert exc.file is None
        with contextlib.suppress(ConfigurationError):
            tracer_config(TracerConfig(), **{key: value})

"""honeyhive.yaml.example loads as shipped, uncommented, and documents every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from honeyhive_agent.config._schema import AGENT_KEYS, INSTRUMENTOR_KEYS, TRACER_KEYS
from honeyhive_agent.config.loader import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "honeyhive.yaml.example"
# "#key: value" (no space after '#') is a commented-out setting; "# text" is prose.
_SETTING = re.compile(r"^(\s*)#(?=[^\s#])", re.MULTILINE)


def test_example_loads_as_shipped_without_env() -> None:
    config = load_config(EXAMPLE, env={})
    t = config.default_tracer
    assert list(config.tracers) == ["default"]
    assert t.api_key is None  # ${HH_API_KEY} unset -> local store
    assert t.effective_exporters == ("local",)
    assert t.server_url == "https://api.honeyhive.ai"
    assert t.source == "dev"
    assert t.capture_content is True
    assert config.disabled is False


def test_example_loads_with_its_env_placeholders() -> None:
    config = load_config(EXAMPLE, env={"HH_API_KEY": "hh-0123456789abcdef"})
    assert config.default_tracer.effective_exporters == ("honeyhive",)


def test_example_with_every_setting_uncommented_loads(tmp_path: Path) -> None:
    full = _SETTING.sub(r"\1", EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "full.yaml"
    path.write_text(full, encoding="utf-8")
    config = load_config(path, env={"OTLP_TOKEN": "t"})
    assert list(config.tracers) == ["default", "research"]
    research = config.tracers["research"]
    assert research.project == "research-lab"
    assert research.batch.max_queue_size == 512
    assert config.tracers["default"].project == "my-project"
    assert config.instrumentor("anthropic").tracer == "research"
    assert config.default_tracer.redact
    assert config.default_tracer.otlp.headers["Authorization"] == "Bearer t"


@pytest.mark.parametrize(
    "key",
    [
        *TRACER_KEYS,
        *(f"{k}.{s}" for k, v in TRACER_KEYS.items() if isinstance(v, dict) for s in v),
        *AGENT_KEYS,
        "tracers",
        "instrumentors",
        *(f"instrumentors.{k}" for k in INSTRUMENTOR_KEYS),
    ],
)
def test_example_documents_every_key(key: str) -> None:
    text = _SETTING.sub(r"\1", EXAMPLE.read_text(encoding="utf-8"))
    *parents, leaf = key.split(".")
    assert re.search(rf"^\s*{re.escape(leaf)}:", text, re.MULTILINE), key
    for parent in parents:
        assert re.search(rf"^\s*{re.escape(parent)}:", text, re.MULTILINE), key

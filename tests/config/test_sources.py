"""Where configuration comes from, and which source wins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from honeyhive_agent.config.loader import find_config_file, load_config
from honeyhive_agent.config.model import DEFAULT_SERVER_URL, TracerConfig
from honeyhive_agent.errors import ConfigurationError
from tests.config.conftest import WriteYaml


def test_defaults_without_file_or_env() -> None:
    config = load_config(env={})
    assert config.source_file is None
    assert list(config.tracers) == ["default"]
    tracer = config.default_tracer
    assert tracer == TracerConfig(name="default")
    assert tracer.server_url == DEFAULT_SERVER_URL == "https://api.honeyhive.ai"
    assert tracer.source == "dev"
    assert tracer.capture_content is True
    assert tracer.session.per == "process"
    assert tracer.shutdown_timeout_ms == 5000
    assert tracer.effective_exporters == ("local",)
    assert config.disabled is False
    assert config.log_level == "WARNING"
    assert {n: i.enabled for n, i in config.instrumentors.items()} == {
        "openai": True,
        "anthropic": True,
    }


def test_api_key_selects_honeyhive_exporter() -> None:
    config = load_config(env={"HH_API_KEY": "hh-test-key-0123456789"})
    assert config.default_tracer.effective_exporters == ("honeyhive",)


def test_yaml_file_values(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        project: demo
        source: staging
        capture_content: false
        session: {name: nightly, per: trace}
        exporters: [otlp, console]
        otlp:
          endpoint: http://127.0.0.1:4318/
          headers: {x-team: llm}
          protocol: http/json
          timeout_ms: 2500
        honeyhive_protocol: http/json
        batch: {max_queue_size: 100, schedule_delay_ms: 50, max_export_batch_size: 10,
                export_timeout_ms: 700}
        shutdown_timeout_ms: 0
        redact: ['sk-\\w+', 'secret']
        max_attribute_length: 99
        local: {path: traces/x.db}
        disabled: true
        log_level: debug
        """
    )
    config = load_config(path, env={})
    t = config.default_tracer
    assert config.source_file == str(path)
    assert (t.project, t.source, t.capture_content) == ("demo", "staging", False)
    assert (t.session.name, t.session.per) == ("nightly", "trace")
    assert t.exporters == ("otlp", "console")
    assert t.otlp.endpoint == "http://127.0.0.1:4318"
    assert t.otlp.resolved_url() == "http://127.0.0.1:4318/v1/traces"
    assert dict(t.otlp.headers) == {"x-team": "llm"}
    assert (t.otlp.protocol, t.otlp.timeout_ms) == ("http/json", 2500)
    assert t.honeyhive_protocol == "http/json"
    assert (t.batch.max_queue_size, t.batch.schedule_delay_ms) == (100, 50)
    assert (t.batch.max_export_batch_size, t.batch.export_timeout_ms) == (10, 700)
    assert t.shutdown_timeout_ms == 0
    assert t.redact == ("sk-\\w+", "secret")
    assert t.max_attribute_length == 99
    assert t.local.path == "traces/x.db"
    assert config.disabled is True
    assert config.log_level == "DEBUG"


def test_single_exporter_string_and_comma_list(write_yaml: WriteYaml) -> None:
    assert load_config(write_yaml("exporters: console\n"), env={}).default_tracer.exporters == (
        "console",
    )
    path = write_yaml("exporters: 'otlp, local'\n")
    assert load_config(path, env={}).default_tracer.exporters == ("otlp", "local")
    none = load_config(write_yaml("exporters: [none]\n"), env={}).default_tracer
    assert none.exporters == ("none",)
    assert none.effective_exporters == ()


def test_empty_file_means_defaults(write_yaml: WriteYaml) -> None:
    path = write_yaml("# nothing here\n")
    config = load_config(path, env={})
    assert config.source_file == str(path)
    assert config.default_tracer == TracerConfig(name="default")


def test_precedence_defaults_yaml_env_overrides(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        project: from-yaml
        source: yaml-source
        server_url: http://127.0.0.1:1/yaml
        capture_content: true
        """
    )
    env = {"HH_PROJECT": "from-env", "HH_SOURCE": "env-source"}
    config = load_config(path, env=env, overrides={"project": "from-arg"})
    t = config.default_tracer
    assert t.project == "from-arg"  # argument > env > yaml
    assert t.source == "env-source"  # env > yaml
    assert t.server_url == "http://127.0.0.1:1/yaml"  # yaml > default
    assert t.max_attribute_length == 16_384  # default


def test_overrides_none_means_not_given(write_yaml: WriteYaml) -> None:
    path = write_yaml("project: keep\n")
    config = load_config(path, env={}, overrides={"project": None, "api_key": None})
    assert config.default_tracer.project == "keep"


def test_overrides_accept_yaml_schema_and_aliases() -> None:
    config = load_config(
        env={},
        overrides={
            "session_name": "run-1",
            "session_id": "0f0e",
            "batch": {"max_queue_size": 10, "max_export_batch_size": 5},
            "exporters": ["console"],
            "disabled": False,
            "log_level": "info",
            "service_name": "svc",
            "resource_attributes": {"team": "llm"},
            "instrumentors": {"openai": {"enabled": False}},
        },
    )
    t = config.default_tracer
    assert (t.session.name, t.session.id) == ("run-1", "0f0e")
    assert (t.batch.max_queue_size, t.batch.max_export_batch_size) == (10, 5)
    assert t.exporters == ("console",)
    assert (t.service_name, dict(t.resource_attributes)) == ("svc", {"team": "llm"})
    assert config.log_level == "INFO"
    assert config.instrumentor("openai").enabled is False


def test_bad_override_is_reported_with_key_and_no_file() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env={}, overrides={"batch": {"max_queue_size": -1}})
    err = info.value
    assert (err.file, err.line, err.key) == (None, None, "batch.max_queue_size")
    assert err.expected == "a positive integer"


def test_explicit_path_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigurationError) as info:
        load_config(missing, env={})
    assert info.value.file == str(missing)
    assert "does not exist" in str(info.value)


def test_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(tmp_path, env={})
    assert "is not a file" in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        load_config(env={"HONEYHIVE_CONFIG": str(tmp_path)})
    assert info.value.key == "HONEYHIVE_CONFIG"
    assert "is not a file" in str(info.value)


def test_explicit_relative_path_uses_cwd(tmp_path: Path, write_yaml: WriteYaml) -> None:
    write_yaml("project: rel\n", name="sub/conf.yaml")
    config = load_config("conf.yaml", env={}, cwd=tmp_path / "sub")
    assert config.default_tracer.project == "rel"


def test_discovers_honeyhive_yaml_in_cwd(write_yaml: WriteYaml, tmp_path: Path) -> None:
    path = write_yaml("project: found\n")
    assert find_config_file(env={}, cwd=tmp_path) == path
    assert find_config_file(env={}) == Path.cwd() / "honeyhive.yaml"
    assert load_config(env={}).default_tracer.project == "found"


def test_discovers_honeyhive_yml(write_yaml: WriteYaml, tmp_path: Path) -> None:
    path = write_yaml("project: yml\n", name="honeyhive.yml")
    assert find_config_file(env={}, cwd=tmp_path) == path
    assert load_config(env={}, cwd=tmp_path).default_tracer.project == "yml"


def test_yaml_preferred_over_yml(write_yaml: WriteYaml, tmp_path: Path) -> None:
    write_yaml("project: yml\n", name="honeyhive.yml")
    write_yaml("project: yaml\n")
    assert load_config(env={}).default_tracer.project == "yaml"


def test_no_file_found(tmp_path: Path) -> None:
    assert find_config_file(env={}, cwd=tmp_path) is None


def test_honeyhive_config_env_wins_over_cwd(write_yaml: WriteYaml, tmp_path: Path) -> None:
    write_yaml("project: cwd\n")
    other = write_yaml("project: named\n", name="conf/agent.yaml")
    env = {"HONEYHIVE_CONFIG": str(other)}
    assert find_config_file(env=env) == other
    config = load_config(env=env)
    assert config.default_tracer.project == "named"
    assert config.source_file == str(other)


def test_honeyhive_config_relative_to_cwd(write_yaml: WriteYaml, tmp_path: Path) -> None:
    write_yaml("project: relative\n", name="conf/agent.yaml")
    env = {"HONEYHIVE_CONFIG": "conf/agent.yaml"}
    assert load_config(env=env, cwd=tmp_path).default_tracer.project == "relative"


def test_honeyhive_config_missing_file_is_an_error(tmp_path: Path) -> None:
    env = {"HONEYHIVE_CONFIG": str(tmp_path / "missing.yaml")}
    with pytest.raises(ConfigurationError) as info:
        load_config(env=env)
    assert info.value.key == "HONEYHIVE_CONFIG"
    assert info.value.file == str(tmp_path / "missing.yaml")


def test_explicit_path_beats_honeyhive_config(write_yaml: WriteYaml) -> None:
    named = write_yaml("project: named\n", name="a.yaml")
    explicit = write_yaml("project: explicit\n", name="b.yaml")
    config = load_config(explicit, env={"HONEYHIVE_CONFIG": str(named)})
    assert config.default_tracer.project == "explicit"


def test_env_defaults_to_os_environ(
    monkeypatch: pytest.MonkeyPatch, write_yaml: WriteYaml
) -> None:
    monkeypatch.setenv("HH_PROJECT", "process-env")
    assert load_config().default_tracer.project == "process-env"
    monkeypatch.setenv("HONEYHIVE_CONFIG", str(write_yaml("source: s\n", name="x.yaml")))
    assert load_config().default_tracer.source == "s"


def _imports_yaml(cwd: Path) -> bool:
    code = (
        "import sys\n"
        "from honeyhive_agent.config.loader import load_config\n"
        "load_config()\n"
        "print('yaml' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HH_", "HONEYHIVE_"))}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip() == "True"


def test_yaml_is_imported_only_when_a_file_exists(tmp_path: Path, write_yaml: WriteYaml) -> None:
    assert _imports_yaml(tmp_path) is False
    write_yaml("project: p\n")
    assert _imports_yaml(tmp_path) is True

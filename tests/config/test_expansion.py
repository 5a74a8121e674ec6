"""``${VAR}`` / ``${VAR:-default}`` / ``$$`` inside YAML values."""

from __future__ import annotations

import pytest

from honeyhive_agent.config._expand import expand
from honeyhive_agent.config.loader import load_config
from honeyhive_agent.errors import ConfigurationError
from tests.config.conftest import WriteYaml


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${A}", "alpha"),
        ("x-${A}-y", "x-alpha-y"),
        ("${MISSING}", ""),
        ("${MISSING:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${A:-fallback}", "alpha"),
        ("${MISSING:-}", ""),
        ("$${A}", "${A}"),
        ("cost: $$5", "cost: $5"),
        ("a lone $ stays", "a lone $ stays"),
        ("${A}${B}", "alphabeta"),
        ("${MISSING:-http://h:1/p}", "http://h:1/p"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(text, {"A": "alpha", "B": "beta", "EMPTY": ""}) == expected


def test_expansion_in_yaml_values(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        project: ${PROJECT}
        source: "${STAGE:-dev}-eu"
        session:
          name: "run $$1 ${RUN}"
        otlp:
          endpoint: ${COLLECTOR:-http://127.0.0.1:4318}
          headers:
            Authorization: "Bearer ${TOKEN}"
        """
    )
    env = {"PROJECT": "p1", "RUN": "42", "TOKEN": "tok-secret-value-xyz"}
    t = load_config(path, env=env).default_tracer
    assert t.project == "p1"
    assert t.source == "dev-eu"
    assert t.session.name == "run $1 42"
    assert t.otlp.endpoint == "http://127.0.0.1:4318"
    assert t.otlp.headers["Authorization"] == "Bearer tok-secret-value-xyz"


def test_unset_api_key_falls_back_to_local_exporter(write_yaml: WriteYaml) -> None:
    path = write_yaml("api_key: ${HH_API_KEY}\nproject: ${NOPE}\n")
    t = load_config(path, env={}).default_tracer
    assert t.api_key is None
    assert t.project is None
    assert t.effective_exporters == ("local",)
    with_key = load_config(path, env={"HH_API_KEY": "hh-0123456789abcdef"}).default_tracer
    assert with_key.api_key == "hh-0123456789abcdef"
    assert with_key.effective_exporters == ("honeyhive",)


def test_empty_value_falls_back_to_lower_source(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        source: ${NOPE}
        server_url: ''
        batch: {max_queue_size: "${NOPE}"}
        """
    )
    t = load_config(path, env={"HH_SOURCE": ""}).default_tracer
    assert t.source == "dev"
    assert t.server_url == "https://api.honeyhive.ai"
    assert t.batch.max_queue_size == 2048


def test_expanded_text_fills_booleans_and_integers(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        capture_content: ${CAPTURE:-false}
        shutdown_timeout_ms: ${STM}
        batch:
          max_queue_size: ${QUEUE:-64}
        exporters: ${EXPORTERS:-console}
        """
    )
    t = load_config(path, env={"STM": "1500", "EXPORTERS": "otlp,console"}).default_tracer
    assert t.capture_content is False
    assert t.shutdown_timeout_ms == 1500
    assert t.batch.max_queue_size == 64
    assert t.exporters == ("otlp", "console")


def test_expanded_value_is_validated(write_yaml: WriteYaml) -> None:
    path = write_yaml("project: p\nbatch:\n  max_queue_size: ${QUEUE}\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={"QUEUE": "lots"})
    err = info.value
    assert (err.file, err.line, err.key) == (str(path), 3, "batch.max_queue_size")
    assert err.expected == "a positive integer"


def test_api_key_from_expansion_is_kept_verbatim(write_yaml: WriteYaml) -> None:
    # Text that looks like a number or a boolean must not be reinterpreted.
    path = write_yaml("api_key: ${KEY}\n")
    for key in ("0x1F", "1e5", "true", "00012"):
        assert load_config(path, env={"KEY": key}).default_tracer.api_key == key


def test_quoted_and_literal_values_are_not_expanded_twice(write_yaml: WriteYaml) -> None:
    path = write_yaml("project: ${A}\n")
    assert load_config(path, env={"A": "${B}", "B": "no"}).default_tracer.project == "${B}"


def test_malformed_reference_names_line(write_yaml: WriteYaml) -> None:
    path = write_yaml("project: ok\nsource: ${UNCLOSED\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={})
    err = info.value
    assert (err.file, err.line) == (str(path), 2)
    assert "${NAME}" in str(err)


def test_keys_are_not_expanded(write_yaml: WriteYaml) -> None:
    path = write_yaml("${KEY}: x\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={"KEY": "project"})
    assert info.value.key == "${KEY}"

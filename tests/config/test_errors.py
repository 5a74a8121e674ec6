"""Every configuration error names file, line, key and what was expected."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from honeyhive_agent.config.loader import load_config
from honeyhive_agent.errors import ConfigurationError
from tests.config.conftest import WriteYaml


@dataclass(frozen=True)
class Case:
    yaml: str
    line: int
    key: str | None
    expected: str
    reason: str = ""
    """A fragment the message must contain (e.g. the did-you-mean hint)."""


CASES: dict[str, Case] = {
    "unknown top-level key": Case(
        "project: p\nprojcet: q\n", 2, "projcet", "one of api_key", "did you mean 'project'?"
    ),
    "unknown nested key": Case(
        "session:\n  per: trace\n  nmae: x\n", 3, "session.nmae", "one of name, per",
        "did you mean 'name'?",
    ),
    "unknown key inside a tracer section": Case(
        "tracers:\n  research:\n    batch:\n      max_queue_sze: 5\n",
        4,
        "tracers.research.batch.max_queue_sze",
        "one of max_queue_size",
        "did you mean 'max_queue_size'?",
    ),
    "unknown key inside a tracer": Case(
        "tracers:\n  research:\n    projekt: r\n", 3, "tracers.research.projekt", "one of",
        "did you mean 'project'?",
    ),
    "top-level-only key inside a tracer": Case(
        "tracers:\n  research:\n    log_level: DEBUG\n", 3, "tracers.research.log_level",
        "per-tracer keys", "only allowed at the top level",
    ),
    "boolean as a string": Case(
        "capture_content: 'yes'\n", 1, "capture_content", "true or false"
    ),
    "boolean in quotes": Case(
        'capture_content: "false"\n', 1, "capture_content", "without quotes",
        "wrong type: got a string 'false'",
    ),
    "boolean as a number": Case("capture_content: 1\n", 1, "capture_content", "true or false"),
    "disabled not a boolean": Case("disabled: maybe\n", 1, "disabled", "true or false"),
    "zero queue size": Case(
        "batch:\n  max_queue_size: 0\n", 2, "batch.max_queue_size", "a positive integer"
    ),
    "negative timeout": Case(
        "project: p\nshutdown_timeout_ms: -1\n", 2, "shutdown_timeout_ms", "an integer >= 0"
    ),
    "integer as text": Case(
        "max_attribute_length: lots\n", 1, "max_attribute_length", "a positive integer"
    ),
    "integer as float": Case(
        "otlp:\n  timeout_ms: 1.5\n", 2, "otlp.timeout_ms", "a positive integer"
    ),
    "integer as boolean": Case(
        "batch: {schedule_delay_ms: true}\n", 1, "batch.schedule_delay_ms", "a positive integer"
    ),
    "tracer-specific bad value": Case(
        "tracers:\n  default: {}\n  research:\n    batch:\n      max_queue_size: -5\n",
        5,
        "tracers.research.batch.max_queue_size",
        "a positive integer",
    ),
    "bad session.per": Case(
        "session:\n  per: proces\n", 2, "session.per", "one of 'process', 'trace'",
        "did you mean 'process'?",
    ),
    "bad otlp protocol": Case(
        "otlp:\n  protocol: grpc\n", 2, "otlp.protocol", "one of 'http/protobuf', 'http/json'"
    ),
    "bad honeyhive protocol": Case(
        "honeyhive_protocol: http/jsn\n", 1, "honeyhive_protocol", "'http/json'",
        "did you mean 'http/json'?",
    ),
    "unknown exporter": Case(
        "exporters:\n  - otlp\n  - honeyhve\n", 3, "exporters", "a list of exporters",
        "did you mean 'honeyhive'?",
    ),
    "none combined with an exporter": Case(
        "exporters: [none, otlp]\n", 1, "exporters", "either 'none' alone"
    ),
    "exporters of wrong type": Case("exporters: {a: 1}\n", 1, "exporters", "a list of exporters"),
    "server_url not http": Case(
        "server_url: ftp://example.invalid\n", 1, "server_url", "an http:// or https:// URL"
    ),
    "otlp endpoint without scheme": Case(
        "otlp:\n  endpoint: 127.0.0.1:4318\n", 2, "otlp.endpoint", "an http:// or https:// URL"
    ),
    "project of wrong type": Case("project: [a, b]\n", 1, "project", "a string"),
    "section that is not a mapping": Case(
        "batch: 100\n", 1, "batch", "a mapping with keys max_queue_size"
    ),
    "headers not a mapping": Case(
        "otlp:\n  headers: [a]\n", 2, "otlp.headers", "a mapping of names to strings"
    ),
    "header value of wrong type": Case(
        "otlp:\n  headers:\n    x-a: ok\n    x-b: [1]\n", 4, "otlp.headers.x-b", "a string"
    ),
    "invalid redact regex": Case(
        "redact:\n  - ok\n  - 'sk-[a-z'\n", 3, "redact", "valid regular expressions", "item 2"
    ),
    "redact with global flag": Case(
        "redact:\n  - x(?i)y\n", 2, "redact", "valid regular expressions", "global flags"
    ),
    "redact of wrong type": Case(
        "redact:\n  - {a: 1}\n", 2, "redact", "valid regular expressions"
    ),
    "bad log level": Case(
        "log_level: LOUD\n", 1, "log_level", "one of 'DEBUG', 'INFO', 'WARNING'"
    ),
    "unknown instrumentor": Case(
        "instrumentors:\n  opnai:\n    enabled: false\n", 2, "instrumentors.opnai",
        "one of openai, anthropic", "did you mean 'openai'?",
    ),
    "unknown instrumentor key": Case(
        "instrumentors:\n  openai:\n    enable: false\n", 3, "instrumentors.openai.enable",
        "one of enabled, tracer, on_conflict", "did you mean 'enabled'?",
    ),
    "instrumentor enabled not boolean": Case(
        "instrumentors:\n  openai: {enabled: 'off'}\n", 2, "instrumentors.openai.enabled",
        "true or false",
    ),
    "bad on_conflict": Case(
        "instrumentors:\n  anthropic:\n    on_conflict: mine\n",
        3,
        "instrumentors.anthropic.on_conflict",
        "one of 'honeyhive', 'peer'",
    ),
    "instrumentor routed to undefined tracer": Case(
        "tracers:\n  main: {}\ninstrumentors:\n  anthropic:\n    tracer: research\n",
        5,
        "instrumentors.anthropic.tracer",
        "one of 'main'",
        "no tracer named 'research'",
    ),
    "instrumentor routed without tracers section": Case(
        "instrumentors:\n  openai: {tracer: research}\n", 2, "instrumentors.openai.tracer",
        "one of 'default'",
    ),
    "tracers not a mapping": Case("tracers: [a]\n", 1, "tracers", "a mapping of tracer names"),
    "tracer body not a mapping": Case(
        "tracers:\n  research: 5\n", 2, "tracers.research", "a mapping of per-tracer keys"
    ),
    "bad tracer name": Case(
        "tracers:\n  'my tracer': {}\n", 2, "tracers.my tracer", "a name of letters"
    ),
    "duplicate key": Case(
        "project: a\nsource: s\nproject: b\n", 3, "project", "each key at most once",
        "first set on line 1",
    ),
    "batch size larger than queue": Case(
        "batch:\n  max_queue_size: 10\n  max_export_batch_size: 20\n",
        3,
        "batch.max_export_batch_size",
        "an integer <= batch.max_queue_size (10)",
    ),
    "batch clash across inheritance": Case(
        "batch: {max_export_batch_size: 100}\ntracers:\n  small:\n    batch:\n"
        "      max_queue_size: 50\n",
        1,
        "batch.max_export_batch_size",
        "an integer <= batch.max_queue_size (50)",
    ),
    "malformed expansion": Case("project: ${}\n", 1, "project", "${NAME} or ${NAME:-default}"),
    "malformed expansion, nested": Case(
        "otlp:\n  endpoint: http://h\n  headers:\n    x-token: ${TOKEN\n",
        4,
        "otlp.headers.x-token",
        "${NAME} or ${NAME:-default}",
    ),
    "malformed expansion in a list": Case(
        "redact:\n  - ok\n  - ${\n", 3, "redact", "${NAME} or ${NAME:-default}"
    ),
    "recursive alias": Case("project: p\nx: &a [*a]\n", 2, None, "a finite value"),
    "top level is a list": Case("- a\n- b\n", 1, None, "a mapping of configuration keys"),
    "syntax error": Case("project: p\nsession:\n  name: [unclosed\n", 4, None, "valid YAML"),
    "bad indentation": Case("project: p\n  source: s\n", 2, None, "valid YAML"),
    "tab indentation": Case("session:\n\tper: trace\n", 2, None, "valid YAML"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_yaml_error(name: str, write_yaml: WriteYaml) -> None:
    case = CASES[name]
    path = write_yaml(case.yaml)
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={})
    err = info.value
    message = str(err)
    assert err.file == str(path)
    assert err.line == case.line, message
    assert err.key == case.key, message
    assert err.expected is not None and case.expected in err.expected, message
    assert message.startswith(f"{path}:{case.line}: "), message
    if case.key:
        assert f"key '{case.key}'" in message
    assert f"(expected {err.expected})" in message
    assert case.reason in message


def test_syntax_error_message_is_specific(write_yaml: WriteYaml) -> None:
    path = write_yaml("project: p\nsession: {name: x\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={})
    assert "invalid YAML:" in str(info.value)
    assert info.value.line is not None


def test_multiple_documents_are_rejected(write_yaml: WriteYaml) -> None:
    path = write_yaml("project: a\n---\nproject: b\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={})
    assert (info.value.file, info.value.line) == (str(path), 2)


def test_unreadable_file(write_yaml: WriteYaml) -> None:
    path = write_yaml("")
    path.write_bytes(b"project: \xff\xfe\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={})
    assert info.value.file == str(path)


def test_merge_keys_and_anchors(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        x-common: &common
          project: shared
          batch: {max_queue_size: 64}
        """
    )
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={})
    assert info.value.key == "x-common"
    path = write_yaml(
        """
        tracers:
          a: &base
            project: shared
            source: s1
          b:
            <<: *base
            source: s2
        """
    )
    config = load_config(path, env={})
    assert (config.tracers["b"].project, config.tracers["b"].source) == ("shared", "s2")


def test_unknown_key_without_close_match_has_no_suggestion(write_yaml: WriteYaml) -> None:
    path = write_yaml("zzzzzz: 1\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={})
    assert "did you mean" not in str(info.value)
    assert "unknown key 'zzzzzz'" in str(info.value)

"""HH_* and standard OTEL_* environment variables."""

from __future__ import annotations

import pytest

from honeyhive_agent.config.loader import load_config
from honeyhive_agent.errors import ConfigurationError
from tests.config.conftest import WriteYaml


def test_hh_variables() -> None:
    env = {
        "HH_API_KEY": "hh-key-0123456789abcdef",
        "HH_API_URL": "http://127.0.0.1:8080/",
        "HH_PROJECT": "proj",
        "HH_SOURCE": "prod",
        "HH_SESSION_NAME": "nightly",
        "HH_SESSION_PER": "trace",
        "HH_SESSION_ID": "3b1c6c1e-0000-4000-8000-000000000001",
        "HH_CAPTURE_CONTENT": "off",
        "HH_EXPORTERS": "otlp, console",
        "HH_SHUTDOWN_TIMEOUT_MS": "250",
        "HH_LOG_LEVEL": "debug",
    }
    config = load_config(env=env)
    t = config.default_tracer
    assert t.api_key == "hh-key-0123456789abcdef"
    assert t.server_url == "http://127.0.0.1:8080"
    assert (t.project, t.source) == ("proj", "prod")
    assert (t.session.name, t.session.per) == ("nightly", "trace")
    assert t.session.id == "3b1c6c1e-0000-4000-8000-000000000001"
    assert t.capture_content is False
    assert t.exporters == ("otlp", "console")
    assert t.shutdown_timeout_ms == 250
    assert config.log_level == "DEBUG"
    assert config.disabled is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True), ("1", True), ("YES", True), ("on", True),
        ("false", False), ("0", False), ("no", False), ("Off", False), ("", False),
    ],
)
def test_hh_disabled_values(raw: str, expected: bool) -> None:
    assert load_config(env={"HH_DISABLED": raw}).disabled is expected


def test_otel_sdk_disabled_turns_agent_off() -> None:
    assert load_config(env={"OTEL_SDK_DISABLED": "true"}).disabled is True
    assert load_config(env={"OTEL_SDK_DISABLED": "true", "HH_DISABLED": "0"}).disabled is False


def test_hh_disabled_overrides_yaml(write_yaml: WriteYaml) -> None:
    path = write_yaml("disabled: false\nlog_level: ERROR\n")
    config = load_config(path, env={"HH_DISABLED": "1", "HH_LOG_LEVEL": "info"})
    assert config.disabled is True
    assert config.log_level == "INFO"


def test_empty_env_values_are_unset(write_yaml: WriteYaml) -> None:
    path = write_yaml("project: yaml\ncapture_content: false\n")
    env = {"HH_PROJECT": "", "HH_CAPTURE_CONTENT": " ", "HH_EXPORTERS": ""}
    t = load_config(path, env=env).default_tracer
    assert (t.project, t.capture_content, t.exporters) == ("yaml", False, ())


def test_otlp_endpoints_headers_protocol_timeout() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=abc%20def,x-team = llm ",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "3000",
    }
    o = load_config(env=env).default_tracer.otlp
    assert o.endpoint == "http://127.0.0.1:4318"
    assert o.resolved_url() == "http://127.0.0.1:4318/v1/traces"
    assert dict(o.headers) == {"api-key": "abc def", "x-team": "llm"}
    assert (o.protocol, o.timeout_ms) == ("http/json", 3000)


def test_traces_specific_otlp_variables_win() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9999/custom",
        "OTEL_EXPORTER_OTLP_HEADERS": "a=1",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "b=2",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2000",
    }
    o = load_config(env=env).default_tracer.otlp
    assert o.resolved_url() == "http://127.0.0.1:9999/custom"
    assert dict(o.headers) == {"b": "2"}
    assert (o.protocol, o.timeout_ms) == ("http/json", 2000)


def test_otel_env_overrides_yaml_otlp_key_by_key(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        otlp:
          endpoint: http://127.0.0.1:1111
          headers: {from-yaml: y}
          timeout_ms: 500
        """
    )
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:2222"}
    o = load_config(path, env=env).default_tracer.otlp
    assert o.endpoint == "http://127.0.0.1:2222"
    assert dict(o.headers) == {"from-yaml": "y"}
    assert o.timeout_ms == 500


def test_grpc_protocol_falls_back_to_http() -> None:
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    assert load_config(env=env).default_tracer.otlp.protocol == "http/protobuf"


def test_service_name_and_resource_attributes() -> None:
    env = {
        "OTEL_SERVICE_NAME": "checkout",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,team=a%2Cb,,",
    }
    t = load_config(env=env).default_tracer
    assert t.service_name == "checkout"
    assert dict(t.resource_attributes) == {"deployment.environment": "prod", "team": "a,b"}


def test_disabled_instrumentors_from_env() -> None:
    config = load_config(env={"HH_INSTRUMENTORS_DISABLED": "openai, Anthropic"})
    assert not config.instrumentor("openai").enabled
    assert not config.instrumentor("anthropic").enabled


@pytest.mark.parametrize(
    ("value", "disabled"),
    [
        ("openai", {"openai"}),
        ("honeyhive_anthropic", {"anthropic"}),
        ("requests, honeyhive_openai,flask", {"openai"}),
        ("openai_v2,sqlalchemy", set()),
    ],
)
def test_otel_python_disabled_instrumentations(value: str, disabled: set[str]) -> None:
    config = load_config(env={"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": value})
    off = {name for name, inst in config.instrumentors.items() if not inst.enabled}
    assert off == disabled


def test_env_disables_instrumentor_enabled_in_yaml(write_yaml: WriteYaml) -> None:
    path = write_yaml("instrumentors:\n  openai: {enabled: true, on_conflict: peer}\n")
    inst = load_config(path, env={"HH_INSTRUMENTORS_DISABLED": "openai"}).instrumentor("openai")
    assert (inst.enabled, inst.on_conflict) == (False, "peer")


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("HH_CAPTURE_CONTENT", "maybe", "true or false"),
        ("HH_DISABLED", "perhaps", "true or false"),
        ("HH_SESSION_PER", "request", "one of 'process', 'trace'"),
        ("HH_EXPORTERS", "otlp,jaeger", "a list of exporters"),
        ("HH_EXPORTERS", "none,otlp", "either 'none' alone"),
        ("HH_SHUTDOWN_TIMEOUT_MS", "-1", "an integer >= 0"),
        ("HH_SHUTDOWN_TIMEOUT_MS", "5s", "an integer >= 0"),
        ("HH_API_URL", "api.honeyhive.ai", "an http:// or https:// URL"),
        ("HH_LOG_LEVEL", "loud", "one of 'DEBUG'"),
        ("HH_INSTRUMENTORS_DISABLED", "opnai", "a comma-separated list of openai"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", "an http:// or https:// URL"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces", "an http:// or https:// URL"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml", "one of 'http/protobuf', 'http/json'"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0", "a positive integer"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "ten", "a positive integer"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "novalue", "key=value pairs"),
        ("OTEL_RESOURCE_ATTRIBUTES", "=x", "key=value pairs"),
    ],
)
def test_bad_env_value(var: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env={var: value})
    err = info.value
    assert (err.key, err.file, err.line) == (var, None, None)
    assert err.expected is not None and expected in err.expected
    assert str(err).startswith(f"key '{var}': ")


def test_bad_env_reported_even_with_valid_yaml(write_yaml: WriteYaml) -> None:
    path = write_yaml("capture_content: true\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={"HH_CAPTURE_CONTENT": "sometimes"})
    assert (info.value.key, info.value.file) == ("HH_CAPTURE_CONTENT", None)

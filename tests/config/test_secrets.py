"""Secrets (api_key, OTLP header values) never appear in errors or reprs."""

from __future__ import annotations

import logging

import pytest

from honeyhive_agent.config.loader import load_config, tracer_config
from honeyhive_agent.errors import ConfigurationError
from tests.config.conftest import WriteYaml

SECRET = "sk-SUPERSECRET-0123456789"
TOKEN = "tok-HEADERSECRET-987654321"


def _error_text(err: ConfigurationError) -> str:
    return f"{err}\n{err!r}\n{err.reason}\n{err.expected}\n{err.key}\n{err.args}"


def test_repr_of_loaded_config_hides_secrets(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        f"""
        api_key: {SECRET}
        otlp:
          endpoint: http://127.0.0.1:4318
          headers:
            Authorization: "Bearer ${{TOKEN}}"
        tracers:
          a: {{}}
          b: {{api_key: {SECRET}-b}}
        """
    )
    config = load_config(path, env={"TOKEN": TOKEN, "OTEL_EXPORTER_OTLP_HEADERS": ""})
    text = f"{config!r}\n{config}\n{config.tracers!r}\n{config.default_tracer.otlp!r}"
    assert config.tracers["b"].api_key == f"{SECRET}-b"
    assert SECRET not in text
    assert TOKEN not in text
    assert "Authorization" in text  # header names are fine


def test_env_secrets_hidden_in_repr() -> None:
    env = {"HH_API_KEY": SECRET, "OTEL_EXPORTER_OTLP_HEADERS": f"api-key={TOKEN}"}
    config = load_config(env=env)
    assert config.default_tracer.otlp.headers == {"api-key": TOKEN}
    assert SECRET not in repr(config) and TOKEN not in repr(config)


@pytest.mark.parametrize(
    "yaml",
    [
        f"api_key: [{SECRET}]\n",
        f"api_key: {{k: {SECRET}}}\n",
        f"otlp:\n  headers:\n    Authorization: [{TOKEN}]\n",
        f"otlp:\n  headers: [{TOKEN}]\n",
        f"otlp:\n  headers: {TOKEN}\n",
        f"api_key: '{SECRET}\n",  # unterminated quote: syntax error on that line
        f"api_key: {SECRET}\n  source: x\n",
        f"api_key: {SECRET}\napi_key: {SECRET}\n",
        f"api_key: ${{{SECRET}\n",
        f"tracers:\n  t:\n    api_key: [{SECRET}]\n",
    ],
)
def test_invalid_secret_values_not_in_error(yaml: str, write_yaml: WriteYaml) -> None:
    path = write_yaml(yaml)
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={})
    text = _error_text(info.value)
    assert SECRET not in text and TOKEN not in text
    assert info.value.file == str(path)


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_EXPORTER_OTLP_HEADERS": f"{TOKEN}"},
        {"OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"a=b,{TOKEN}"},
        {"HH_API_KEY": SECRET, "HH_CAPTURE_CONTENT": "nope"},
    ],
)
def test_invalid_env_secrets_not_in_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env=env)
    text = _error_text(info.value)
    assert SECRET not in text and TOKEN not in text
    assert info.value.file is None


def test_invalid_secret_argument_not_in_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        tracer_config(None, api_key=[SECRET])
    assert SECRET not in _error_text(info.value)
    assert info.value.key == "api_key"
    with pytest.raises(ConfigurationError) as info:
        load_config(env={}, overrides={"otlp": {"headers": {"auth": [TOKEN]}}})
    assert TOKEN not in _error_text(info.value)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_secret_never_logged(write_yaml: WriteYaml) -> None:
    path = write_yaml(f"api_key: {SECRET}\notlp:\n  headers: {{a: '${{TOKEN}}'}}\n")
    logger = logging.getLogger("honeyhive_agent")
    handler = _Collect()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        load_config(path, env={"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "TOKEN": TOKEN})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    text = "\n".join(handler.lines)
    assert SECRET not in text and TOKEN not in text

"""The environment as a configuration source.

Values are validated by the same checks as YAML values, reported with the
variable name as the key (and no file). An empty variable counts as unset,
as in the OpenTelemetry specification.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from honeyhive_agent.config import _fields as f
from honeyhive_agent.config._expand import Expanded
from honeyhive_agent.config._fields import Validator, Where
from honeyhive_agent.config._node import Node
from honeyhive_agent.config._schema import (
    AGENT_KEYS,
    PROTOCOLS,
    Layer,
    Origin,
    Setting,
    known_instrumentors,
)
from honeyhive_agent.errors import ConfigurationError

_WHERE = Where(file=None)

# Variable -> (leaf path, check). Listed in priority order where two
# variables feed one leaf: the signal-specific OTEL_*_TRACES_* one first.
_TRACER_VARS: tuple[tuple[str, tuple[str, ...], Validator], ...] = (
    ("HH_API_KEY", ("api_key",), f.text(secret=True)),
    ("HH_API_URL", ("server_url",), f.url()),
    ("HH_PROJECT", ("project",), f.text()),
    ("HH_SOURCE", ("source",), f.text()),
    ("HH_SESSION_NAME", ("session", "name"), f.text()),
    ("HH_SESSION_PER", ("session", "per"), f.choice(("process", "trace"))),
    ("HH_SESSION_ID", ("session", "id"), f.text()),
    ("HH_CAPTURE_CONTENT", ("capture_content",), f.boolean()),
    ("HH_EXPORTERS", ("exporters",), f.exporters()),
    ("HH_SHUTDOWN_TIMEOUT_MS", ("shutdown_timeout_ms",), f.integer(minimum=0)),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", ("otlp", "endpoint"), f.url()),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ("otlp", "traces_endpoint"), f.url()),
    ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", ("otlp", "timeout_ms"), f.integer()),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", ("otlp", "timeout_ms"), f.integer()),
    ("OTEL_SERVICE_NAME", ("service_name",), f.text()),
)
_HEADER_VARS = ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
_PROTOCOL_VARS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")


def read_env(env: Mapping[str, str]) -> Layer:
    """Validate the agent's variables in ``env`` into a :class:`Layer`.

    Only ``top`` (inherited by every tracer), ``agent`` and
    ``instrumentors`` (``enabled: False`` entries) are filled.
    """
    layer = Layer()
    for var, path, check in _TRACER_VARS:
        if path not in layer.top:
            _set(layer.top, path, var, check, env)
    for var in _HEADER_VARS:
        if env.get(var, "").strip():
            layer.top[("otlp", "headers")] = Setting(_headers(var, env[var]), _origin(var))
            break
    _protocol(layer, env)
    attributes = env.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if attributes.strip():
        parsed = _pairs("OTEL_RESOURCE_ATTRIBUTES", attributes, secret=False)
        layer.top[("resource_attributes",)] = Setting(parsed, _origin("OTEL_RESOURCE_ATTRIBUTES"))
    _set(layer.agent, "disabled", "HH_DISABLED", AGENT_KEYS["disabled"], env)
    if "disabled" not in layer.agent and env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        # The standard OpenTelemetry kill switch turns the agent off too.
        layer.agent["disabled"] = Setting(True, _origin("OTEL_SDK_DISABLED"))
    _set(layer.agent, "log_level", "HH_LOG_LEVEL", AGENT_KEYS["log_level"], env)
    _disabled_instrumentors(layer, env)
    return layer


def _set(
    into: dict[tuple[str, ...], Setting] | dict[str, Setting],
    path: tuple[str, ...] | str,
    var: str,
    check: Validator,
    env: Mapping[str, str],
) -> None:
    raw = env.get(var)
    if raw is None:
        return
    value = check(Node(Expanded(raw)), _WHERE, var)
    if value is not f.UNSET:
        into[path] = Setting(value, _origin(var))  # type: ignore[index]


def _origin(var: str) -> Origin:
    return Origin(None, None, var)


def _protocol(layer: Layer, env: Mapping[str, str]) -> None:
    for var in _PROTOCOL_VARS:
        raw = env.get(var, "").strip()
        if not raw:
            continue
        if raw.lower() == "grpc":
            # Common in shared environments for other exporters: not a reason
            # to switch the whole agent off. We only speak OTLP over HTTP.
            from honeyhive_agent import _log

            _log.warn_once(
                "config.otlp.grpc",
                "%s=grpc is not supported by honeyhive-agent; using http/protobuf",
                var,
            )
            value: object = "http/protobuf"
        else:
            value = f.choice(PROTOCOLS)(Node(Expanded(raw)), _WHERE, var)
        layer.top[("otlp", "protocol")] = Setting(value, _origin(var))
        return


def _headers(var: str, raw: str) -> Mapping[str, str]:
    return _pairs(var, raw, secret=True)


def _pairs(var: str, raw: str, *, secret: bool) -> Mapping[str, str]:
    """Parse the W3C-baggage-like ``k=v,k2=v2`` list (percent-decoded)."""
    from urllib.parse import unquote  # deferred: only set variables need it

    out: dict[str, str] = {}
    for index, item in enumerate(raw.split(","), start=1):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = unquote(name).strip()
        if not sep or not name:
            shown = "" if secret else f" {f.show(item.strip())}"
            raise ConfigurationError(
                f"entry {index}{shown} is not of the form key=value",
                key=var,
                expected="a comma-separated list of key=value pairs",
            )
        out[name] = unquote(value).strip()
    return MappingProxyType(out)


def _disabled_instrumentors(layer: Layer, env: Mapping[str, str]) -> None:
    names = known_instrumentors()
    raw = env.get("HH_INSTRUMENTORS_DISABLED", "")
    for part in raw.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in names:
            raise ConfigurationError(
                f"unknown instrumentor {f.show(part.strip())}{f.suggest(name, names)}",
                key="HH_INSTRUMENTORS_DISABLED",
                expected="a comma-separated list of " + ", ".join(names),
            )
        _disable(layer, name, "HH_INSTRUMENTORS_DISABLED")
    # Shared with every other OpenTelemetry instrumentation: names that are
    # not ours belong to someone else and are ignored.
    for part in env.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(","):
        name = part.strip().lower()
        name = name.removeprefix("honeyhive_")
        if name in names:
            _disable(layer, name, "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS")


def _disable(layer: Layer, name: str, var: str) -> None:
    layer.instrumentors.setdefault(name, {})["enabled"] = Setting(False, _origin(var))

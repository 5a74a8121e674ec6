"""The configuration schema, and validation of one source into a :class:`Layer`.

A source (the YAML file, or explicit arguments) is checked key by key
against the tables below and flattened into *leaves*: ``("batch",
"max_queue_size") -> Setting(512, origin)``. Flat leaves make the documented
merge rules trivial: nested mappings such as ``batch`` or ``otlp`` merge key
by key across sources and from the top level into each tracer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NoReturn, Union

from honeyhive_agent.config import _fields as f
from honeyhive_agent.config._fields import Validator, Where
from honeyhive_agent.config._node import Node, Record

PROTOCOLS = ("http/protobuf", "http/json")
Section = dict[str, Validator]
Spec = Union[Validator, Section]

# Per-tracer keys, in documentation order. Valid at the top level (where
# they are the defaults every tracer inherits) and inside `tracers.NAME`.
TRACER_KEYS: dict[str, Spec] = {
    "api_key": f.text(secret=True),
    "server_url": f.url(),
    "project": f.text(),
    "source": f.text(),
    "capture_content": f.boolean(),
    "session": {"name": f.text(), "per": f.choice(("process", "trace"))},
    "exporters": f.exporters(),
    "otlp": {
        "endpoint": f.url(),
        "traces_endpoint": f.url(),
        "headers": f.string_map(),
        "protocol": f.choice(PROTOCOLS),
        "timeout_ms": f.integer(),
    },
    "honeyhive_protocol": f.choice(PROTOCOLS),
    "batch": {
        "max_queue_size": f.integer(),
        "schedule_delay_ms": f.integer(),
        "max_export_batch_size": f.integer(),
        "export_timeout_ms": f.integer(),
    },
    "shutdown_timeout_ms": f.integer(minimum=0),
    "redact": f.regex_list(),
    "max_attribute_length": f.integer(),
    "local": {"path": f.text()},
}

# Keys explicit arguments may also set (the environment sets them too, but
# a YAML file may not: a fixed session id or resource belongs to a run).
ARGUMENT_KEYS: dict[str, Spec] = {
    "service_name": f.text(),
    "resource_attributes": f.string_map(),
}
ARGUMENT_SECTION_KEYS: dict[str, Section] = {"session": {"id": f.text()}}
ARGUMENT_ALIASES: dict[str, tuple[str, str]] = {
    "session_name": ("session", "name"),
    "session_id": ("session", "id"),
}

AGENT_KEYS: dict[str, Validator] = {"disabled": f.boolean(), "log_level": f.log_level()}
INSTRUMENTOR_KEYS: dict[str, Validator] = {
    "enabled": f.boolean(),
    "tracer": f.text(),
    "on_conflict": f.choice(("honeyhive", "peer")),
}
TOP_ONLY = ("tracers", "instrumentors", *AGENT_KEYS)
_TRACER_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


class Origin(Record):
    """Where a value was set: for error messages about merged values."""

    __slots__ = ("file", "line", "key")  # noqa: RUF023 - field order (repr, ==)
    file: str | None
    line: int | None
    key: str

    def __init__(self, file: str | None, line: int | None, key: str) -> None:
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "key", key)


class Setting(Record):
    __slots__ = ("value", "origin")  # noqa: RUF023 - field order (repr, ==)
    value: object
    origin: Origin

    def __init__(self, value: object, origin: Origin) -> None:
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "origin", origin)


Leaves = dict[tuple[str, ...], Setting]


@dataclass
class Layer:
    """One validated source."""

    top: Leaves = field(default_factory=dict)
    tracers: dict[str, Leaves] | None = None
    """None when the source has no ``tracers:``; ordered as written."""
    tracer_origins: dict[str, Origin] = field(default_factory=dict)
    instrumentors: dict[str, dict[str, Setting]] = field(default_factory=dict)
    agent: dict[str, Setting] = field(default_factory=dict)


def known_instrumentors() -> tuple[str, ...]:
    """Instrumentor names from ``instrumentors.KNOWN`` (a cheap, SDK-free import)."""
    try:
        from instrumentors import KNOWN
    except ImportError:  # pragma: no cover - the package ships with the agent
        return ("openai", "anthropic")
    return tuple(KNOWN)


def validate_layer(root: Node, where: Where, *, arguments: bool = False) -> Layer:
    """Check a whole document (YAML file or explicit arguments) into a :class:`Layer`."""
    layer = Layer()
    entries = _mapping(root, where, key=None, expected="a mapping of configuration keys")
    tracer_keys = _tracer_keys(arguments)
    allowed = [*tracer_keys, *TOP_ONLY, *(ARGUMENT_ALIASES if arguments else ())]
    for key, node in entries.items():
        if key in AGENT_KEYS:
            value = AGENT_KEYS[key](node, where, key)
            if value is not f.UNSET:
                layer.agent[key] = Setting(value, Origin(where.file, node.line, key))
        elif key == "tracers":
            _tracers(node, where, layer, tracer_keys)
        elif key == "instrumentors":
            _instrumentors(node, where, layer)
        elif key in tracer_keys or (arguments and key in ARGUMENT_ALIASES):
            _tracer_key(key, node, where, "", layer.top, tracer_keys)
        else:
            _unknown(key, node, where, "", allowed)
    return layer


def validate_tracer(root: Node, where: Where, prefix: str = "") -> Leaves:
    """Check per-tracer keys only (explicit ``HoneyHiveTracer(...)`` arguments)."""
    leaves: Leaves = {}
    tracer_keys = _tracer_keys(True)
    allowed = [*tracer_keys, *ARGUMENT_ALIASES]
    for key, node in _mapping(root, where, key=None, expected="per-tracer keys").items():
        if key in tracer_keys or key in ARGUMENT_ALIASES:
            _tracer_key(key, node, where, prefix, leaves, tracer_keys)
        else:
            _unknown(key, node, where, prefix, allowed)
    return leaves


def _tracer_keys(arguments: bool) -> dict[str, Spec]:
    if not arguments:
        return TRACER_KEYS
    keys: dict[str, Spec] = {**TRACER_KEYS, **ARGUMENT_KEYS}
    for name, extra in ARGUMENT_SECTION_KEYS.items():
        base = keys[name]
        assert isinstance(base, dict)
        keys[name] = {**base, **extra}
    return keys


def _tracer_key(
    key: str, node: Node, where: Where, prefix: str, leaves: Leaves, keys: dict[str, Spec]
) -> None:
    if key in ARGUMENT_ALIASES:
        section, sub = ARGUMENT_ALIASES[key]
        spec_section = keys[section]
        assert isinstance(spec_section, dict)
        _leaf((section, sub), spec_section[sub], node, where, prefix + key, leaves)
        return
    spec = keys[key]
    path = prefix + key
    if not isinstance(spec, dict):
        _leaf((key,), spec, node, where, path, leaves)
        return
    entries = _mapping(
        node, where, key=path, expected="a mapping with keys " + ", ".join(spec), optional=True
    )
    for sub, sub_node in entries.items():
        if sub in spec:
            _leaf((key, sub), spec[sub], sub_node, where, f"{path}.{sub}", leaves)
        else:
            _unknown(sub, sub_node, where, path + ".", list(spec))


def _leaf(
    path: tuple[str, ...], check: Validator, node: Node, where: Where, key: str, leaves: Leaves
) -> None:
    value = check(node, where, key)
    if value is not f.UNSET:
        leaves[path] = Setting(value, Origin(where.file, node.line, key))


def _tracers(node: Node, where: Where, layer: Layer, keys: dict[str, Spec]) -> None:
    entries = _mapping(
        node, where, key="tracers", expected="a mapping of tracer names", optional=True
    )
    if not entries:
        return
    layer.tracers = {}
    for name, body in entries.items():
        if not _TRACER_NAME.match(name):
            where.fail(
                f"invalid tracer name {f.show(name)}",
                key=f"tracers.{name}",
                line=body.key_line,
                expected="a name of letters, digits, '_', '-' or '.'",
            )
        prefix = f"tracers.{name}."
        leaves: Leaves = {}
        body_entries = _mapping(
            body, where, key=f"tracers.{name}", expected="a mapping of per-tracer keys",
            optional=True,
        )
        for key, sub in body_entries.items():
            if key in TOP_ONLY:
                where.fail(
                    f"'{key}' is only allowed at the top level, not inside a tracer",
                    key=prefix + key,
                    line=sub.key_line,
                    expected="per-tracer keys: " + ", ".join(keys),
                )
            if key in keys:
                _tracer_key(key, sub, where, prefix, leaves, keys)
            else:
                _unknown(key, sub, where, prefix, list(keys))
        layer.tracers[name] = leaves
        layer.tracer_origins[name] = Origin(where.file, body.key_line, f"tracers.{name}")


def _instrumentors(node: Node, where: Where, layer: Layer) -> None:
    names = known_instrumentors()
    entries = _mapping(
        node, where, key="instrumentors", expected="a mapping of instrumentor names",
        optional=True,
    )
    for name, body in entries.items():
        path = f"instrumentors.{name}"
        if name not in names:
            where.fail(
                f"unknown instrumentor '{name}'{f.suggest(name, names)}",
                key=path,
                line=body.key_line,
                expected="one of " + ", ".join(names),
            )
        settings = layer.instrumentors.setdefault(name, {})
        expected = "a mapping with keys " + ", ".join(INSTRUMENTOR_KEYS)
        for key, sub in _mapping(body, where, key=path, expected=expected, optional=True).items():
            check = INSTRUMENTOR_KEYS.get(key)
            if check is None:
                _unknown(key, sub, where, path + ".", list(INSTRUMENTOR_KEYS))
            value = check(sub, where, f"{path}.{key}")
            if value is not f.UNSET:
                settings[key] = Setting(value, Origin(where.file, sub.line, f"{path}.{key}"))


def _mapping(
    node: Node, where: Where, *, key: str | None, expected: str, optional: bool = False
) -> dict[str, Node]:
    if optional and (node.value is None or node.value == ""):
        return {}
    if not isinstance(node.value, dict):
        where.fail(
            f"wrong type: got {f.type_name(node.value)}",
            key=key,
            line=node.line,
            expected=expected,
        )
    return node.value


def _unknown(
    key: str, node: Node, where: Where, prefix: str, allowed: list[str]
) -> NoReturn:
    where.fail(
        f"unknown key '{key}'{f.suggest(key, allowed)}",
        key=prefix + key,
        line=node.key_line if node.key_line is not None else node.line,
        expected="one of " + ", ".join(allowed),
    )

"""Build the agent's configuration from its sources.

Precedence, lowest to highest: built-in defaults < YAML file < environment <
explicit arguments. Per tracer, values resolve in this order (later wins)::

    defaults
    < top-level YAML keys           (the defaults every tracer inherits)
    < environment (HH_*, OTEL_*)    (overrides the inherited values ...)
    < tracers.NAME in YAML          (... but a tracer's own keys are more specific)
    < explicit arguments            (``overrides``: top level, then ``tracers.NAME``)

Nested mappings (``session``, ``otlp``, ``batch``, ``local``) merge key by
key; lists and ``otlp.headers`` are replaced as a whole. An empty string or
null value means "not set here", so ``api_key: ${HH_API_KEY}`` without the
variable falls back to the next source (and finally to the local exporter).

The YAML file is, in order: the ``path`` argument (it must exist), the file
named by ``HONEYHIVE_CONFIG`` (it must exist), ``./honeyhive.yaml`` or
``./honeyhive.yml``. Without one, only the environment and defaults apply,
and PyYAML is never imported.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

from honeyhive_agent.config._fields import Where
from honeyhive_agent.config._node import from_python
from honeyhive_agent.config._schema import (
    Layer,
    Leaves,
    Origin,
    Setting,
    known_instrumentors,
    validate_layer,
    validate_tracer,
)
from honeyhive_agent.config.model import (
    DEFAULT_TRACER,
    AgentConfig,
    BatchConfig,
    InstrumentorConfig,
    LocalConfig,
    OtlpConfig,
    SessionConfig,
    TracerConfig,
)
from honeyhive_agent.errors import ConfigurationError

if TYPE_CHECKING:
    # pathlib is imported only once there is a file to name (it costs
    # start-up time, and most runs have no config file).
    from pathlib import Path

__all__ = ["CONFIG_ENV", "CONFIG_NAMES", "find_config_file", "load_config", "tracer_config"]

CONFIG_ENV = "HONEYHIVE_CONFIG"
CONFIG_NAMES = ("honeyhive.yaml", "honeyhive.yml")

_SECTIONS: dict[str, type[Any]] = {
    "session": SessionConfig,
    "otlp": OtlpConfig,
    "batch": BatchConfig,
    "local": LocalConfig,
}
_ARGUMENTS = Where(file=None)


def find_config_file(
    env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None
) -> Path | None:
    """Return the YAML file the agent would read, or None.

    ``HONEYHIVE_CONFIG`` (relative paths are taken from ``cwd``) wins over
    ``./honeyhive.yaml`` and ``./honeyhive.yml``. A ``HONEYHIVE_CONFIG`` that
    names a missing file raises :class:`ConfigurationError`: silently running
    without the configuration the user asked for would be worse.
    """
    env = os.environ if env is None else env
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        from pathlib import Path

        base = Path.cwd() if cwd is None else Path(cwd)
        path = base / Path(named).expanduser()
        _require_file(path, key=CONFIG_ENV)
        return path
    folder = os.getcwd() if cwd is None else os.fspath(cwd)
    for name in CONFIG_NAMES:
        if _is_file(os.path.join(folder, name)):
            from pathlib import Path

            return Path(folder) / name
    return None


def _is_file(path: str) -> bool:
    """``Path(path).is_file()`` without pathlib (same errors ignored, others raised)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
        return False
    except ValueError:
        return False


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> AgentConfig:
    """Read, merge and validate every configuration source.

    ``path`` names the YAML file explicitly (a missing file is an error);
    otherwise :func:`find_config_file` looks for one. ``env`` defaults to
    ``os.environ``; ``cwd`` (for finding files) to the current directory.
    ``overrides`` holds explicit arguments with the YAML schema (top-level
    keys, ``tracers``, ``instrumentors``), plus ``session_name``,
    ``session_id``, ``service_name`` and ``resource_attributes``; ``None``
    values mean "not given".

    Raises :class:`ConfigurationError` naming the file, line, key and what
    was expected (for the environment: the variable name).
    """
    env = os.environ if env is None else env
    file_layer, source_file = _read_file(path, env, cwd)
    env_layer = _env_layer(env)
    arg_layer = Layer()
    if overrides:
        arg_layer = validate_layer(from_python(overrides), _ARGUMENTS, arguments=True)
    return _build_agent((file_layer, env_layer, arg_layer), source_file)


def tracer_config(base: TracerConfig | None = None, **overrides: Any) -> TracerConfig:
    """Apply explicit constructor arguments to a tracer's configuration.

    ``HoneyHiveTracer(api_key=..., project=..., exporters=[...])`` lands here:
    the keyword arguments are the per-tracer YAML keys (``session`` or
    ``batch`` as mappings or as their config objects) plus ``name``,
    ``session_name``, ``session_id``, ``service_name`` and
    ``resource_attributes``, validated exactly like the file. ``None`` means
    "not given". Without ``base`` the tracer's configuration is loaded from
    the usual sources (:func:`load_config`), using the tracer named ``name``
    when it is defined there and the default tracer otherwise.
    """
    name = overrides.pop("name", None)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ConfigurationError(
            "invalid tracer name", key="name", expected="a non-empty string"
        )
    if base is None:
        agent = load_config()
        base = agent.tracers.get(name) if name else None
        base = base or agent.default_tracer
    leaves = _leaves_of(base)
    leaves.update(validate_tracer(from_python(overrides), _ARGUMENTS))
    return _build_tracer(name or base.name, leaves)


def _read_file(
    path: str | os.PathLike[str] | None,
    env: Mapping[str, str],
    cwd: str | os.PathLike[str] | None,
) -> tuple[Layer, str | None]:
    if path is not None:
        from pathlib import Path

        found = Path(path).expanduser()
        if cwd is not None and not found.is_absolute():
            found = Path(cwd) / found
        _require_file(found, key=None)
    else:
        found_or_none = find_config_file(env, cwd)
        if found_or_none is None:
            return Layer(), None
        found = found_or_none
    # Deferred: PyYAML costs start-up time and is only needed with a file.
    from honeyhive_agent.config._yaml import read_file

    file = str(found)
    root = read_file(found, file, env)
    if root is None:
        return Layer(), file
    return validate_layer(root, Where(file=file)), file


def _require_file(path: Path, *, key: str | None) -> None:
    if path.is_file():
        return
    problem = "is not a file" if path.exists() else "does not exist"
    raise ConfigurationError(
        f"config file {str(path)!r} {problem}",
        file=str(path),
        key=key,
        expected="the path of a YAML config file",
    )


def _env_layer(env: Mapping[str, str]) -> Layer:
    from honeyhive_agent.config._env import read_env

    return read_env(env)


def _build_agent(layers: tuple[Layer, Layer, Layer], source_file: str | None) -> AgentConfig:
    file_layer, env_layer, arg_layer = layers
    tracers: dict[str, TracerConfig] = {}
    for name in _tracer_names(file_layer, arg_layer):
        leaves: Leaves = {}
        for part in (
            file_layer.top,
            env_layer.top,
            (file_layer.tracers or {}).get(name, {}),
            arg_layer.top,
            (arg_layer.tracers or {}).get(name, {}),
        ):
            leaves.update(part)
        tracers[name] = _build_tracer(name, leaves)
    default = tracers.get(DEFAULT_TRACER) or next(iter(tracers.values()))

    agent: dict[str, Setting] = {}
    instrumentors: dict[str, dict[str, Setting]] = {}
    for layer in layers:
        agent.update(layer.agent)
        for inst, settings in layer.instrumentors.items():
            instrumentors.setdefault(inst, {}).update(settings)
    return AgentConfig(
        tracers=MappingProxyType(tracers),
        instrumentors=MappingProxyType(_instrumentors(instrumentors, tracers, default.name)),
        disabled=bool(agent["disabled"].value) if "disabled" in agent else False,
        log_level=str(agent["log_level"].value) if "log_level" in agent else "WARNING",
        source_file=source_file,
    )


def _tracer_names(file_layer: Layer, arg_layer: Layer) -> list[str]:
    names: list[str] = []
    for layer in (file_layer, arg_layer):
        for name in layer.tracers or {}:
            if name not in names:
                names.append(name)
    return names or [DEFAULT_TRACER]


def _instrumentors(
    settings: dict[str, dict[str, Setting]], tracers: Mapping[str, TracerConfig], default: str
) -> dict[str, InstrumentorConfig]:
    out: dict[str, InstrumentorConfig] = {}
    for name in known_instrumentors():
        given = settings.get(name, {})
        tracer = given.get("tracer")
        if tracer is not None and tracer.value not in tracers:
            _fail_at(
                tracer.origin,
                f"no tracer named {str(tracer.value)!r} is defined",
                "one of " + ", ".join(f"'{t}'" for t in tracers),
            )
        values: dict[str, Any] = {key: setting.value for key, setting in given.items()}
        values.setdefault("tracer", default)
        out[name] = InstrumentorConfig(**values)
    return out


def _build_tracer(name: str, leaves: Leaves) -> TracerConfig:
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    _check_batch(leaves)
    for path, setting in leaves.items():
        if len(path) == 1:
            top[path[0]] = setting.value
        else:
            sections.setdefault(path[0], {})[path[1]] = setting.value
    for section, values in sections.items():
        top[section] = _SECTIONS[section](**values)
    return TracerConfig(name=name, **top)


def _check_batch(leaves: Leaves) -> None:
    # The OpenTelemetry batch processor refuses a batch larger than its queue
    # at start-up. A small queue alone is fine: the default batch size
    # shrinks to fit. Two explicit values that clash are reported against
    # the batch size the user wrote.
    size = leaves.get(("batch", "max_export_batch_size"))
    queue = leaves.get(("batch", "max_queue_size"))
    queue_value = queue.value if queue else BatchConfig.max_queue_size
    assert isinstance(queue_value, int)
    if size is None:
        if queue is not None and queue_value < BatchConfig.max_export_batch_size:
            leaves[("batch", "max_export_batch_size")] = Setting(queue_value, queue.origin)
        return
    assert isinstance(size.value, int)
    if size.value > queue_value:
        _fail_at(
            size.origin,
            f"max_export_batch_size ({size.value}) is larger than "
            f"batch.max_queue_size ({queue_value})",
            f"an integer <= batch.max_queue_size ({queue_value})",
        )


def _fail_at(origin: Origin, reason: str, expected: str) -> NoReturn:
    raise ConfigurationError(
        reason, file=origin.file, line=origin.line, key=origin.key, expected=expected
    )


def _leaves_of(config: TracerConfig) -> Leaves:
    """Flatten a built config back into leaves (for :func:`tracer_config`).

    Values equal to the built-in default are left out, so they count as
    "not set" (e.g. the batch size may still shrink to a smaller queue).
    """
    origin = Origin(None, None, config.name)
    leaves: Leaves = {}
    defaults = TracerConfig()
    for item in fields(config):
        if item.name == "name":
            continue
        value = getattr(config, item.name)
        default = getattr(defaults, item.name)
        if is_dataclass(value) and not isinstance(value, type):
            for sub in fields(value):
                sub_value = getattr(value, sub.name)
                if sub_value != getattr(default, sub.name):
                    leaves[(item.name, sub.name)] = Setting(sub_value, origin)
        elif value != default:
            leaves[(item.name,)] = Setting(value, origin)
    return leaves

"""Tracers, sessions and the tracer registry.

Each :class:`HoneyHiveTracer` is an independent OpenTelemetry pipeline
(provider, processors, exporters) with its HoneyHive session. The functions
here are conveniences over :mod:`honeyhive_agent.tracer.registry`::

    import honeyhive_agent

    tracer = honeyhive_agent.init(project="my-project")   # every configured tracer
    research = honeyhive_agent.get_tracer("research")
    honeyhive_agent.flush()
"""

from __future__ import annotations

from typing import Any

from honeyhive_agent.config.model import AgentConfig, TracerConfig
from honeyhive_agent.tracer import registry
from honeyhive_agent.tracer.core import HoneyHiveTracer

__all__ = ["HoneyHiveTracer", "flush", "get_tracer", "init", "shutdown"]


def init(config: AgentConfig | TracerConfig | None = None, **overrides: Any) -> HoneyHiveTracer:
    """Build and register every configured tracer; return the default one.

    ``config`` defaults to :func:`~honeyhive_agent.load_config` (YAML file and
    environment); keyword ``overrides`` (``api_key=``, ``project=`` ...) apply
    to every tracer. A single :class:`TracerConfig` builds just that tracer.
    Raises :class:`~honeyhive_agent.ConfigurationError` for invalid settings.
    When the agent is disabled (``HH_DISABLED``) the returned tracer exports
    nothing and is not registered, so code using it keeps working.
    """
    if isinstance(config, TracerConfig):
        tracer = HoneyHiveTracer(config, **overrides)
        registry.register(tracer)
        return tracer
    if config is None:
        from honeyhive_agent.config.loader import load_config

        config = load_config()
    return _init_all(config, overrides)


def _init_all(config: AgentConfig, overrides: dict[str, Any]) -> HoneyHiveTracer:
    if overrides:
        import dataclasses
        from types import MappingProxyType

        from honeyhive_agent.config.loader import tracer_config

        configs = {n: tracer_config(tc, **overrides) for n, tc in config.tracers.items()}
        config = dataclasses.replace(config, tracers=MappingProxyType(configs))
    if config.disabled:
        return _inert(config.default_tracer)
    tracers = registry.init(config)
    return tracers.get("default") or next(iter(tracers.values()))


def get_tracer(name: str = "default") -> HoneyHiveTracer | None:
    """The tracer ``name`` (created from the configuration on first use), or None.

    None means the agent is disabled or misconfigured (reported once).
    """
    return registry.get_or_create(name)


def flush(timeout_millis: int | None = None) -> bool:
    """Force-flush every tracer within ``timeout_millis`` in total; False on timeout."""
    return registry.flush_all(timeout_millis)


def shutdown(timeout_millis: int | None = None) -> None:
    """Flush and shut down every tracer within ``timeout_millis`` in total."""
    registry.shutdown_all(timeout_millis)


def _inert(config: TracerConfig) -> HoneyHiveTracer:
    import dataclasses

    tracer = HoneyHiveTracer(dataclasses.replace(config, exporters=("none",), api_key=None))
    registry._forget(tracer)
    return tracer

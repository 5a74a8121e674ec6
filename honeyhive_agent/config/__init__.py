"""Configuration: defaults < YAML file < environment < explicit arguments."""

from __future__ import annotations

from honeyhive_agent.config.model import (
    DEFAULT_SERVER_URL,
    AgentConfig,
    BatchConfig,
    InstrumentorConfig,
    LocalConfig,
    OtlpConfig,
    SessionConfig,
    TracerConfig,
)
from honeyhive_agent.errors import ConfigurationError

__all__ = [
    "DEFAULT_SERVER_URL",
    "AgentConfig",
    "BatchConfig",
    "ConfigurationError",
    "InstrumentorConfig",
    "LocalConfig",
    "OtlpConfig",
    "SessionConfig",
    "TracerConfig",
    "find_config_file",
    "load_config",
    "tracer_config",
]

_LAZY = ("find_config_file", "load_config", "tracer_config")


def __getattr__(name: str) -> object:
    # Keep `import honeyhive_agent.config` cheap: the loader is imported on
    # first use (and PyYAML only when a config file exists).
    if name in _LAZY:
        from honeyhive_agent.config import loader

        return getattr(loader, name)
    raise AttributeError(name)

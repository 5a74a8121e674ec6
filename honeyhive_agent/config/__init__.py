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
    "load_config",
]


def __getattr__(name: str) -> object:
    # The loader imports yaml; keep `import honeyhive_agent.config` cheap.
    if name == "load_config":
        from honeyhive_agent.config.loader import load_config

        return load_config
    raise AttributeError(name)

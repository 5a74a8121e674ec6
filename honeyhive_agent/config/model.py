"""Typed, frozen configuration objects.

These are the only shapes the rest of the agent reads; how they are built
(YAML, environment, arguments) lives in :mod:`honeyhive_agent.config.loader`.
Secrets (``api_key``, header values) are kept out of every ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

DEFAULT_SERVER_URL = "https://api.honeyhive.ai"
DEFAULT_SOURCE = "dev"
DEFAULT_TRACER = "default"
DEFAULT_LOCAL_PATH = ".honeyhive/traces.db"

ExporterName = Literal["honeyhive", "otlp", "console", "local", "none"]
EXPORTER_NAMES: tuple[str, ...] = ("honeyhive", "otlp", "console", "local", "none")
OtlpProtocol = Literal["http/protobuf", "http/json"]
SessionPer = Literal["process", "trace"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


def mask(secret: str | None) -> str | None:
    """Return a display form of a secret that reveals nothing useful."""
    if not secret:
        return secret
    return "***" if len(secret) < 12 else f"{secret[:3]}***"


# repr=False where the class writes its own __repr__ (secrets masked): the
# generated one would only be compiled, at import, to be thrown away.
@dataclass(frozen=True, repr=False)
class OtlpConfig:
    """Where the generic ``otlp`` exporter sends spans."""

    endpoint: str | None = None
    """Base URL; ``/v1/traces`` is appended (like OTEL_EXPORTER_OTLP_ENDPOINT)."""
    traces_endpoint: str | None = None
    """Full URL used as given (like OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)."""
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY, repr=False)
    protocol: OtlpProtocol = "http/protobuf"
    timeout_ms: int = 10_000

    def resolved_url(self) -> str | None:
        """The URL spans are POSTed to, or None when nothing is configured."""
        if self.traces_endpoint:
            return self.traces_endpoint
        if self.endpoint:
            return self.endpoint.rstrip("/") + "/v1/traces"
        return None

    def __repr__(self) -> str:
        masked = {k: mask(v) for k, v in self.headers.items()}
        return (
            f"OtlpConfig(endpoint={self.endpoint!r}, traces_endpoint={self.traces_endpoint!r}, "
            f"headers={masked!r}, protocol={self.protocol!r}, timeout_ms={self.timeout_ms!r})"
        )


@dataclass(frozen=True)
class BatchConfig:
    """Bounds of the batch span processor in front of every exporter."""

    max_queue_size: int = 2048
    schedule_delay_ms: int = 1000
    max_export_batch_size: int = 512
    export_timeout_ms: int = 10_000


@dataclass(frozen=True)
class SessionConfig:
    """How spans are grouped into HoneyHive sessions."""

    name: str | None = None
    """None means: the script or module being run."""
    per: SessionPer = "process"
    id: str | None = None
    """A session id to join (set by a parent process through HH_SESSION_ID)."""


@dataclass(frozen=True)
class LocalConfig:
    """The embedded SQLite store used when there is no API key."""

    path: str = DEFAULT_LOCAL_PATH


@dataclass(frozen=True)
class InstrumentorConfig:
    """Per-library switches: ``instrumentors: {NAME: {enabled, tracer}}``."""

    enabled: bool = True
    tracer: str = DEFAULT_TRACER
    on_conflict: Literal["honeyhive", "peer"] = "honeyhive"
    """Which span wins when a peer instrumentor (OpenLLMetry, OpenInference,
    opentelemetry-instrumentation-openai-v2, ...) also wraps this library."""


@dataclass(frozen=True, repr=False)
class TracerConfig:
    """Everything one :class:`~honeyhive_agent.tracer.HoneyHiveTracer` needs."""

    name: str = DEFAULT_TRACER
    api_key: str | None = field(default=None, repr=False)
    server_url: str = DEFAULT_SERVER_URL
    project: str | None = None
    source: str = DEFAULT_SOURCE
    capture_content: bool = True
    session: SessionConfig = field(default_factory=SessionConfig)
    exporters: tuple[str, ...] = ()
    """Empty means the default: ``honeyhive`` with an API key, else ``local``."""
    otlp: OtlpConfig = field(default_factory=OtlpConfig)
    honeyhive_protocol: OtlpProtocol = "http/protobuf"
    """Encoding for the honeyhive exporter: protobuf by default, JSON selectable."""
    batch: BatchConfig = field(default_factory=BatchConfig)
    shutdown_timeout_ms: int = 5000
    redact: tuple[str, ...] = ()
    max_attribute_length: int = 16_384
    local: LocalConfig = field(default_factory=LocalConfig)
    service_name: str | None = None
    resource_attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def effective_exporters(self) -> tuple[str, ...]:
        """The exporter list after applying the documented default."""
        if self.exporters:
            return tuple(e for e in self.exporters if e != "none")
        return ("honeyhive",) if self.api_key else ("local",)

    def __repr__(self) -> str:
        return (
            f"TracerConfig(name={self.name!r}, api_key={mask(self.api_key)!r}, "
            f"server_url={self.server_url!r}, project={self.project!r}, source={self.source!r}, "
            f"capture_content={self.capture_content!r}, session={self.session!r}, "
            f"exporters={self.effective_exporters!r}, otlp={self.otlp!r}, batch={self.batch!r}, "
            f"shutdown_timeout_ms={self.shutdown_timeout_ms!r}, redact={self.redact!r}, "
            f"local={self.local!r})"
        )


@dataclass(frozen=True)
class AgentConfig:
    """The whole agent: its tracers and its instrumentor switches."""

    tracers: Mapping[str, TracerConfig] = field(
        default_factory=lambda: MappingProxyType({DEFAULT_TRACER: TracerConfig()})
    )
    instrumentors: Mapping[str, InstrumentorConfig] = field(
        default_factory=lambda: MappingProxyType({})
    )
    disabled: bool = False
    log_level: str = "WARNING"
    source_file: str | None = None
    """The YAML file this came from, if any."""

    @property
    def default_tracer(self) -> TracerConfig:
        return self.tracers.get(DEFAULT_TRACER) or next(iter(self.tracers.values()))

    @property
    def shutdown_timeout_ms(self) -> int:
        """Total bound on the exit flush: the largest of the tracers' bounds."""
        return max((t.shutdown_timeout_ms for t in self.tracers.values()), default=5000)

    def instrumentor(self, name: str) -> InstrumentorConfig:
        return self.instrumentors.get(name) or InstrumentorConfig()

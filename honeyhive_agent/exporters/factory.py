"""Turn a tracer's configuration into its span processors."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from honeyhive_agent._log import warn_once
from honeyhive_agent.config.model import TracerConfig
from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
from honeyhive_agent.exporters.otlp_http import Encoding, OtlpHttpSpanExporter

__all__ = ["DEFAULT_OTLP_TRACES_URL", "build_exporter", "build_span_processors"]

DEFAULT_OTLP_TRACES_URL = "http://localhost:4318/v1/traces"
"""The OpenTelemetry default when no endpoint is configured."""


def _encoding(protocol: str) -> Encoding:
    return "json" if protocol == "http/json" else "protobuf"


def destination_headers(name: str, config: TracerConfig) -> dict[str, str]:
    """The headers the ``honeyhive`` or ``otlp`` exporter sends (secrets included)."""
    if name == "honeyhive":
        headers = {"X-Source": config.source}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        return headers
    if name == "otlp":
        return dict(config.otlp.headers)
    return {}


def destination_encoding(name: str, config: TracerConfig) -> Encoding:
    """``protobuf`` or ``json``: how the ``honeyhive`` or ``otlp`` exporter encodes."""
    protocol = config.honeyhive_protocol if name == "honeyhive" else config.otlp.protocol
    return _encoding(protocol)


def build_exporter(name: str, config: TracerConfig) -> SpanExporter | None:
    """The exporter for one entry of ``exporters:``; ``None`` for an unknown name."""
    export_timeout_s = config.batch.export_timeout_ms / 1000
    if name == "honeyhive":
        return OtlpHttpSpanExporter(
            config.server_url.rstrip("/") + "/opentelemetry/v1/traces",
            headers=destination_headers(name, config),
            encoding=destination_encoding(name, config),
            timeout_s=export_timeout_s,
            max_retry_s=export_timeout_s,
        )
    if name == "otlp":
        otlp = config.otlp
        return OtlpHttpSpanExporter(
            otlp.resolved_url() or DEFAULT_OTLP_TRACES_URL,
            headers=destination_headers(name, config),
            encoding=destination_encoding(name, config),
            timeout_s=min(otlp.timeout_ms, config.batch.export_timeout_ms) / 1000,
            max_retry_s=export_timeout_s,
        )
    if name == "console":
        from honeyhive_agent.exporters.console import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "local":
        from honeyhive_agent.exporters.local import LocalSpanExporter

        return LocalSpanExporter(config.local.path)
    return None


def build_span_processors(
    config: TracerConfig, *, on_first_export: Callable[[], None] | None = None
) -> list[SpanProcessor]:
    """One :class:`BoundedBatchSpanProcessor` per exporter in ``config.effective_exporters``.

    ``on_first_export`` runs once, in the export thread, before the
    ``honeyhive`` exporter's first export (the tracer starts its HoneyHive
    session there); its exceptions are swallowed.
    """
    processors: list[SpanProcessor] = []
    seen: set[str] = set()
    for name in config.effective_exporters:
        if name in seen:
            continue
        seen.add(name)
        exporter = build_exporter(name, config)
        if exporter is None:
            warn_once(f"exporter:{name}", "unknown exporter %r ignored", name)
            continue
        hook = on_first_export if name == "honeyhive" else None
        processors.append(BoundedBatchSpanProcessor(exporter, config.batch, on_first_export=hook))
    return processors

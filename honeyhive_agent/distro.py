"""The OpenTelemetry distro and configurator named ``honeyhive``.

``OTEL_PYTHON_DISTRO=honeyhive opentelemetry-instrument python app.py``
needs nothing else: :class:`HoneyHiveDistro` selects
:class:`HoneyHiveConfigurator` itself, which starts the same bootstrap as
``honeyhive-run`` (same YAML and environment, same lazy instrumentor hooks
with per-library tracer routing) and makes the default tracer's provider the
global one, so spans of other OpenTelemetry instrumentations (FastAPI,
requests, ...) join the same traces and sessions.

``opentelemetry-instrument`` picks the first distro it finds when
``OTEL_PYTHON_DISTRO`` is unset, which may be this one by accident. Then it
behaves like the stock ``opentelemetry-distro`` (OTLP/HTTP traces through
the SDK's own configurator, no metrics or logs exporters) and only
arbitrates peer instrumentors, so plain ``opentelemetry-instrument`` keeps
its usual meaning.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

__all__ = ["HoneyHiveConfigurator", "HoneyHiveDistro"]

NAME = "honeyhive"
_AUTO_LOGGER = "opentelemetry.instrumentation.auto_instrumentation._load"
_configured = False
"""Whether :class:`HoneyHiveConfigurator` ran (then the bootstrap owns our instrumentors)."""


def _selected() -> bool:
    return os.environ.get("OTEL_PYTHON_DISTRO", "").strip() == NAME


class _DropConfiguratorNotice(logging.Filter):
    """Hide the "configurator X not loaded because Y is set" notices that
    selecting one configurator out of two makes opentelemetry-instrument print."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Configuration of %s not loaded")


class HoneyHiveDistro(BaseDistro):  # type: ignore[misc]
    """Selects the ``honeyhive`` configurator and routes our instrumentors."""

    def _configure(self, **kwargs: Any) -> None:
        try:
            logging.getLogger(_AUTO_LOGGER).addFilter(_DropConfiguratorNotice())
            if _selected():
                os.environ.setdefault("OTEL_PYTHON_CONFIGURATOR", NAME)
            else:
                # Picked only because we came first: act like the stock distro,
                # minus the grpc default (that exporter is not installed).
                os.environ.setdefault("OTEL_PYTHON_CONFIGURATOR", "configurator")
                os.environ.setdefault("OTEL_TRACES_EXPORTER", "otlp")
                os.environ.setdefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                _arbitrate_peers()
            # Metrics and logs are not ours to ship: only when the user asks.
            os.environ.setdefault("OTEL_METRICS_EXPORTER", "none")
            os.environ.setdefault("OTEL_LOGS_EXPORTER", "none")
        except Exception as exc:  # noqa: BLE001 - never break the app's start
            _warn(exc)

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        """Our instrumentors get ``hh_tracer`` routing; the rest load as usual."""
        name = _our_name(str(getattr(entry_point, "value", "")))
        if name is None:
            entry_point.load()().instrument(**kwargs)
            return
        if _configured:
            # The bootstrap registered a lazy hook for this library, with its
            # tracer (or left it off: by configuration, or the agent is off).
            return
        from honeyhive_agent import _bootstrap, _peers

        if _bootstrap.is_disabled():
            return
        try:
            instrumentor = entry_point.load()()
            _peers.resolve_before_patch(name, instrumentor, None)
            instrumentor.instrument(**kwargs)
        except Exception as exc:  # noqa: BLE001 - one broken library must not stop the rest
            _warn(exc)


class HoneyHiveConfigurator:
    """Builds the tracers from YAML/env and installs the default one globally.

    Has the ``configure(**kwargs)`` shape ``opentelemetry-instrument`` calls
    (duck-typed, so importing it does not import the OpenTelemetry SDK).
    """

    def configure(self, **kwargs: Any) -> None:
        try:
            self._configure(**kwargs)
        except Exception as exc:  # noqa: BLE001 - never break the app's start
            _warn(exc)

    def _configure(self, **kwargs: Any) -> None:
        global _configured
        from honeyhive_agent import _bootstrap

        _configured = True
        if not _bootstrap.start("opentelemetry-instrument"):
            return
        config = _bootstrap.started_config()
        if config is None:
            return
        from honeyhive_agent.tracer import registry

        tracer = registry.get_or_create(config.default_tracer.name)
        if tracer is None:
            return
        from opentelemetry import trace

        trace.set_tracer_provider(tracer.provider)


def _our_name(target: str) -> str | None:
    """The ``instrumentors.KNOWN`` name when ``target`` ("module:Class") is ours."""
    try:
        from instrumentors import KNOWN
    except Exception:  # noqa: BLE001
        return None
    for name, (_, known_target) in KNOWN.items():
        if known_target.replace(" ", "") == target.replace(" ", ""):
            return name
    return None


def _arbitrate_peers() -> None:
    """Plain ``opentelemetry-instrument``: still one span per call."""
    from honeyhive_agent import _bootstrap, _peers

    if _bootstrap.is_disabled():
        return
    from honeyhive_agent.config.loader import load_config
    from honeyhive_agent.errors import ConfigurationError

    try:
        config = load_config()
    except ConfigurationError:
        from honeyhive_agent.config.model import AgentConfig

        config = AgentConfig()
    _peers.watch(config)


def _warn(exc: BaseException) -> None:
    from honeyhive_agent import _log

    _log.warn_once("distro", "distro set-up failed (%s: %s); the app runs without tracing",
                   type(exc).__name__, exc)

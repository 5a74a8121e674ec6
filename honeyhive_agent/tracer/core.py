"""HoneyHiveTracer: one independent OpenTelemetry pipeline with its session."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from honeyhive_agent._log import configure, logger
from honeyhive_agent.api_client import HoneyHiveClient
from honeyhive_agent.config.model import TracerConfig
from honeyhive_agent.semconv import CONTENT_FIELDS
from honeyhive_agent.serializer import Serializer, to_json
from honeyhive_agent.tracer._bounded import deadline_in, remaining_ms, run_parallel
from honeyhive_agent.tracer.processor import SessionStampingProcessor
from honeyhive_agent.tracer.session import Sessions, default_session_name

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["HoneyHiveTracer"]

# REST calls are tiny; a backend slower than this is treated as down.
_API_TIMEOUT_S = 3.0
# Part of the shutdown budget kept for the exporters' one-line drop report.
_REPORT_MARGIN_MS = 50
# How long the first export waits for the session start it triggered (at
# most a quarter of the export timeout).
_FIRST_EXPORT_WAIT_S = 1.0
# Every thread the agent starts is named like this (exporters, API worker,
# flush and shutdown helpers); any other thread belongs to the app.
_AGENT_THREAD_PREFIX = "honeyhive"


class HoneyHiveTracer:
    """An independent tracer: its own provider, processors, exporters and session.

    ``config`` is a :class:`~honeyhive_agent.config.TracerConfig`; without it
    the default tracer of :func:`~honeyhive_agent.load_config` is used
    (``honeyhive.yaml``, ``HH_*`` variables). Keyword ``overrides``
    (``api_key=``, ``project=``, ``session_name=``, ``exporters=`` ...) take
    precedence over both. ``span_processors`` are added after the exporters'
    processors (tests pass an in-memory exporter here).

    The tracer never touches the global tracer provider; register
    :attr:`provider` yourself if you want that. Creating one is cheap and
    makes no network call: the HoneyHive session is started off the app's
    threads, right before the first export.

    Usage::

        tracer = HoneyHiveTracer(api_key="...", project="my-project")
        with tracer.get_otel_tracer().start_as_current_span("step"):
            ...
        tracer.enrich_session(metadata={"user": "u-1"})
    """

    def __init__(
        self,
        config: TracerConfig | None = None,
        *,
        span_processors: Sequence[SpanProcessor] | None = None,
        **overrides: Any,
    ) -> None:
        cfg = _resolve_config(config, overrides)
        self.config: TracerConfig = cfg
        self.name: str = cfg.name
        self.serializer = Serializer(
            capture_content=cfg.capture_content,
            redact=cfg.redact,
            max_length=cfg.max_attribute_length,
        )
        self.session_name: str = cfg.session.name or default_session_name()
        self._client: HoneyHiveClient | None = None
        if cfg.api_key and "honeyhive" in cfg.effective_exporters:
            self._client = HoneyHiveClient(cfg.server_url, cfg.api_key, _API_TIMEOUT_S)
        self._sessions = Sessions(cfg, self.session_name, self._client)

        attributes: dict[str, Any] = dict(cfg.resource_attributes)
        attributes["service.name"] = (
            cfg.service_name or attributes.get("service.name") or self.session_name
        )
        # shutdown_on_exit=False: the SDK's own atexit hook would shut down
        # without a time bound; the registry's hook does it within
        # shutdown_timeout_ms instead.
        self.provider = TracerProvider(
            resource=Resource.create(attributes), shutdown_on_exit=False
        )
        self.provider.add_span_processor(SessionStampingProcessor(self._sessions))
        self._processors: list[SpanProcessor] = [
            *_build_span_processors(cfg, self._on_first_export),
            *(span_processors or ()),
        ]
        for processor in self._processors:
            self.provider.add_span_processor(processor)

        self._otel_tracers: dict[tuple[str, str | None], Tracer] = {}
        self._lock = threading.Lock()
        self._is_shutdown = False
        self._warned_no_api = False

        from honeyhive_agent.tracer import registry

        registry._adopt(self)

    def __repr__(self) -> str:
        return f"HoneyHiveTracer(name={self.name!r}, session_id={self.session_id!r})"

    # -- sessions ---------------------------------------------------------------

    @property
    def session_id(self) -> str:
        """The process session's id (``session.per: process``)."""
        return self._sessions.process_id

    def current_session_id(self) -> str:
        """The session of the current span: its trace's with ``session.per: trace``."""
        if self._sessions.per_trace:
            ctx = otel_trace.get_current_span().get_span_context()
            if ctx.is_valid:
                found = self._sessions.session_for_trace(ctx.trace_id)
                if found is not None:
                    return found
        return self._sessions.process_id

    def enrich_session(
        self,
        *,
        session_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        feedback: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        outputs: Any = None,
        inputs: Any = None,
        config: Mapping[str, Any] | None = None,
        user_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Add fields to the session in HoneyHive (``PUT /events``), in the background.

        ``session_id`` defaults to the current session. Only the given fields
        are sent; ``inputs``/``outputs`` are dropped with ``capture_content``
        off and every string goes through the tracer's redaction. Without an
        API key and the ``honeyhive`` exporter this does nothing (the local
        store and OTLP exporters have no session record to update). Never
        raises.
        """
        try:
            self._enrich_session(
                session_id,
                {
                    "metadata": metadata,
                    "feedback": feedback,
                    "metrics": metrics,
                    "outputs": outputs,
                    "inputs": inputs,
                    "config": config,
                    "user_properties": user_properties,
                },
            )
        except Exception as exc:  # noqa: BLE001 - never raise into the app
            logger.debug("enrich_session failed: %r", exc)

    def _enrich_session(self, session_id: str | None, fields: dict[str, Any]) -> None:
        client = self._client
        if self._is_shutdown:
            logger.debug("enrich_session ignored: tracer %r is shut down", self.name)
            return
        if client is None:
            if not self._warned_no_api:
                self._warned_no_api = True
                logger.debug(
                    "enrich_session ignored: tracer %r has no HoneyHive API key and exporter",
                    self.name,
                )
            return
        body: dict[str, Any] = {}
        for key, value in fields.items():
            if value is None or (key in CONTENT_FIELDS and not self.config.capture_content):
                continue
            # Snapshot now, on the caller's thread: the app may mutate its
            # objects before the worker sends them.
            body[key] = self._redacted(json.loads(to_json(value)))
        if not body:
            return
        target = session_id or self.current_session_id()
        if self._sessions.per_trace and target == self._sessions.process_id:
            # Outside any trace there is no session to enrich in this mode.
            logger.debug("enrich_session ignored: no current trace (session.per: trace)")
            return
        process_session = target == self._sessions.process_id
        sessions = self._sessions

        def send() -> None:
            if process_session:
                sessions.ensure_process_started()
            client.update_event(sessions.api_id(target), **body)

        client.submit(send)

    def _redacted(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.serializer.text(value)
        if isinstance(value, dict):
            return {k: self._redacted(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redacted(v) for v in value]
        return value

    def _on_first_export(self) -> None:
        # Called before the honeyhive exporter's first export, normally on its
        # worker thread: start the session first, so it exists before its
        # spans arrive. The request runs on the API worker and is waited for
        # only briefly: a slow API must not hold up the export (nor an app
        # thread waiting on it). On an app thread (eager export, an explicit
        # flush) it is not waited for at all.
        client = self._client
        if client is None:
            return
        done = threading.Event()

        def start() -> None:
            try:
                self._sessions.ensure_process_started()
            finally:
                done.set()

        try:
            on_agent_thread = threading.current_thread().name.startswith(_AGENT_THREAD_PREFIX)
            if client.submit(start) and on_agent_thread:
                # The export's own deadline is already running: use a slice.
                export_s = self.config.batch.export_timeout_ms / 1000
                done.wait(min(_FIRST_EXPORT_WAIT_S, export_s / 4))
        except Exception as exc:  # noqa: BLE001 - never disturb the export
            logger.debug("session start failed: %r", exc)

    # -- OpenTelemetry ----------------------------------------------------------

    def get_otel_tracer(
        self, scope: str = "honeyhive_agent", version: str | None = None
    ) -> Tracer:
        """An OpenTelemetry tracer of this tracer's provider (cached per scope)."""
        key = (scope, version)
        found = self._otel_tracers.get(key)
        if found is None:
            found = self.provider.get_tracer(scope, version)
            self._otel_tracers[key] = found
        return found

    def force_flush(self, timeout_millis: int | None = None) -> bool:
        """Export pending spans and send pending session updates; False on timeout.

        Bounded by ``timeout_millis`` (default: the tracer's
        ``shutdown_timeout_ms``) even when the backend hangs. Never raises.
        """
        deadline = deadline_in(self._timeout_ms(timeout_millis))
        jobs: list[Callable[[], object]] = [
            lambda: self.provider.force_flush(remaining_ms(deadline))
        ]
        client = self._client
        if client is None:
            return run_parallel(jobs, deadline, "flush")
        jobs.append(lambda: client.flush(remaining_ms(deadline) / 1000))
        flushed = run_parallel(jobs, deadline, "flush")
        # Again: the exporters' first export may have queued the session start.
        return client.flush(remaining_ms(deadline) / 1000) and flushed

    def shutdown(self, timeout_millis: int | None = None) -> None:
        """Flush, then stop exporting; idempotent, never raises.

        Bounded by ``timeout_millis`` (default: the tracer's
        ``shutdown_timeout_ms``): whatever cannot be delivered in time is
        dropped (and counted by the exporters), so exit never waits longer
        for a dead or slow backend.
        """
        with self._lock:
            if self._is_shutdown:
                return
            self._is_shutdown = True
        deadline = deadline_in(self._timeout_ms(timeout_millis))
        # Each processor flushes and stops on its own thread, so a slow
        # exporter does not eat the others' budget. The margin leaves the
        # exporters time to report their drops before the deadline.
        budget = max(remaining_ms(deadline) - _REPORT_MARGIN_MS, 0)
        jobs: list[Callable[[], object]] = [
            functools.partial(_shutdown_processor, p, budget) for p in self._processors
        ]
        client = self._client
        if client is not None:
            jobs.append(lambda: client.flush(budget / 1000))
        run_parallel(jobs, deadline, "shutdown")
        # Closed only now: the exporters' final export may still have queued
        # the session start (on_first_export).
        finish: list[Callable[[], object]] = [self.provider.shutdown]
        if client is not None:
            finish.append(lambda: client.close(remaining_ms(deadline) / 1000))
        run_parallel(finish, deadline, "shutdown")

    def _timeout_ms(self, timeout_millis: int | None) -> int:
        return self.config.shutdown_timeout_ms if timeout_millis is None else timeout_millis

    @property
    def is_shutdown(self) -> bool:
        return self._is_shutdown


def _resolve_config(config: TracerConfig | None, overrides: dict[str, Any]) -> TracerConfig:
    if config is not None and not overrides:
        return config
    from honeyhive_agent.config.loader import tracer_config

    return tracer_config(config, **overrides)


def _build_span_processors(
    config: TracerConfig, on_first_export: Callable[[], None]
) -> list[SpanProcessor]:
    from honeyhive_agent.errors import ConfigurationError
    from honeyhive_agent.exporters import build_span_processors

    try:
        return list(build_span_processors(config, on_first_export=on_first_export))
    except ConfigurationError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. an unwritable local store: trace nothing
        configure()
        logger.warning(
            "could not set up the exporters of tracer %r (%s: %s); its spans are not exported",
            config.name,
            type(exc).__name__,
            exc,
        )
        return []


def _shutdown_processor(processor: SpanProcessor, timeout_ms: int) -> None:
    from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor

    if isinstance(processor, BoundedBatchSpanProcessor):
        processor.shutdown(timeout_millis=timeout_ms)
    else:
        processor.shutdown()

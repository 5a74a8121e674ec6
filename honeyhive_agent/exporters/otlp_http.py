"""OTLP/HTTP span exporter: protobuf or OTLP/JSON, with bounded retries.

One exporter serves both the ``honeyhive`` destination (the HoneyHive OTLP
endpoint with a bearer token) and the generic ``otlp`` one. ``httpx`` and
the protobuf encoder are imported at the first export, so building an
exporter costs nothing at start-up.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from honeyhive_agent._log import logger

if TYPE_CHECKING:
    import httpx

__all__ = ["OtlpHttpSpanExporter", "parse_retry_after", "redact_url"]

Encoding = Literal["protobuf", "json"]

_CONTENT_TYPES = {"protobuf": "application/x-protobuf", "json": "application/json"}
# 408 is a request timeout on the server side: as transient as a 503.
_RETRYABLE = frozenset({408, 429})
_BACKOFF_BASE_S = 0.5
_BACKOFF_MAX_S = 8.0

try:
    from importlib.metadata import version as _version

    _USER_AGENT = f"honeyhive-agent/{_version('honeyhive-agent')}"
except Exception:  # noqa: BLE001 - metadata is missing when run from a bare checkout
    _USER_AGENT = "honeyhive-agent"


def redact_url(url: str) -> str:
    """``url`` without credentials or query string, safe to print."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "<invalid url>"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class OtlpHttpSpanExporter(SpanExporter):
    """Send spans to an OTLP/HTTP traces endpoint.

    Usage::

        exporter = OtlpHttpSpanExporter(
            "https://api.honeyhive.ai/opentelemetry/v1/traces",
            headers={"Authorization": "Bearer ..."},
        )

    Arguments:

    * ``url`` - the full traces URL, used as given.
    * ``headers`` - extra request headers (values are never logged).
    * ``encoding`` - ``"protobuf"`` (default) or ``"json"`` (OTLP/JSON).
    * ``timeout_s`` - bound on one HTTP request.
    * ``max_retry_s`` - bound on one :meth:`export` call, retries included
      (defaults to ``timeout_s``).

    Retries with exponential backoff and jitter on 408/429, 5xx, connection
    errors and timeouts, honouring ``Retry-After``; any other status drops
    the batch. :meth:`export` never raises; spans that failed for good are
    counted in :attr:`failed_spans`. :meth:`shutdown` wakes a retry sleep at
    once.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        encoding: Encoding = "protobuf",
        timeout_s: float = 10.0,
        max_retry_s: float | None = None,
    ) -> None:
        # Import httpx here, on the thread that builds the exporter, never
        # first on the worker: while a thread imports it, sys.modules holds a
        # half-initialised module that the app's own peeks (openai 3.x looks
        # up sys.modules["httpx"] on every request) would trip over.
        import httpx  # noqa: F401

        self.url = url
        self.destination = redact_url(url)
        self.encoding: Encoding = "json" if encoding == "json" else "protobuf"
        self.timeout_s = max(0.001, float(timeout_s))
        self.max_retry_s = self.timeout_s if max_retry_s is None else max(0.0, max_retry_s)
        self._headers = {
            "Content-Type": _CONTENT_TYPES[self.encoding],
            "User-Agent": _USER_AGENT,
            **dict(headers or {}),
        }
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._shutdown = threading.Event()
        self.failed_spans = 0
        """Spans whose export failed for good (after retries, or rejected)."""
        self.last_error: str | None = None
        """A short, secret-free description of the last failure."""

    def __repr__(self) -> str:
        return f"OtlpHttpSpanExporter({self.destination!r}, encoding={self.encoding!r})"

    # -- SpanExporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export ``spans``, retrying within :attr:`max_retry_s`."""
        return self.export_until(spans, time.monotonic() + self.max_retry_s)

    def export_until(self, spans: Sequence[ReadableSpan], deadline: float) -> SpanExportResult:
        """Export ``spans``, giving up at ``deadline`` (a ``time.monotonic()`` value).

        The batch processor uses this so a flush or shutdown with a shorter
        bound than :attr:`max_retry_s` is still bounded.
        """
        if not spans:
            return SpanExportResult.SUCCESS
        if self._shutdown.is_set():
            return self._fail(spans, "exporter shut down")
        try:
            body = self._encode(spans)
        except Exception as exc:  # noqa: BLE001 - a bad attribute must not kill the worker
            return self._fail(spans, f"encoding failed: {type(exc).__name__}: {exc}")
        deadline = min(deadline, time.monotonic() + self.max_retry_s)
        try:
            return self._send(spans, body, deadline)
        except Exception as exc:  # noqa: BLE001 - never raise into the SDK or the app
            return self._fail(spans, f"{type(exc).__name__}: {exc}")

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        """Abort any retry wait and close the HTTP client (idempotent)."""
        self._shutdown.set()
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                logger.debug("closing the HTTP client failed", exc_info=True)

    def reset_after_fork(self) -> None:
        """In a forked child: forget the parent's connection pool, never close it.

        Closing would act on sockets (and TLS sessions) the parent still uses.
        """
        self._lock = threading.Lock()
        self._client = None
        self.failed_spans = 0
        self.last_error = None

    # -- internals

    def _encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        if self.encoding == "json":
            from honeyhive_agent.exporters.otlp_json import encode_spans_json

            return encode_spans_json(spans)
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        data: bytes = encode_spans(spans).SerializeToString()
        return data

    def _get_client(self) -> httpx.Client:
        with self._lock:
            if self._shutdown.is_set():
                # Never open a client that shutdown() would not close.
                raise RuntimeError("exporter shut down")
            if self._client is None:
                import httpx

                self._client = httpx.Client(headers=self._headers, timeout=self.timeout_s)
            return self._client

    def _send(
        self, spans: Sequence[ReadableSpan], body: bytes, deadline: float
    ) -> SpanExportResult:
        import httpx
        from opentelemetry.instrumentation.utils import (
            suppress_http_instrumentation,
            suppress_instrumentation,
        )

        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._fail(spans, self.last_error or "export timed out")
            retry_after: float | None = None
            try:
                # Our own HTTP call must not become a span of an instrumented httpx.
                with suppress_instrumentation(), suppress_http_instrumentation():
                    response = self._get_client().post(
                        self.url, content=body, timeout=min(self.timeout_s, remaining)
                    )
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                return self._fail(spans, f"bad URL: {type(exc).__name__}")
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                self.last_error = f"{type(exc).__name__}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return SpanExportResult.SUCCESS
                self.last_error = f"HTTP {status}"
                if status not in _RETRYABLE and status < 500:
                    return self._fail(spans, self.last_error)
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            if self._shutdown.is_set():
                return self._fail(spans, self.last_error or "exporter shut down")
            # A floor on Retry-After: 0 so a server saying "now" is not hammered.
            delay = self._backoff(attempt) if retry_after is None else max(0.05, retry_after)
            attempt += 1
            if time.monotonic() + delay >= deadline:
                return self._fail(spans, f"{self.last_error}, no time left to retry")
            logger.debug(
                "export to %s failed (%s); retry %d in %.2fs",
                self.destination,
                self.last_error,
                attempt,
                delay,
            )
            if self._shutdown.wait(delay):
                return self._fail(spans, f"{self.last_error}, shut down while retrying")

    @staticmethod
    def _backoff(attempt: int) -> float:
        # "Full jitter" on an exponential ceiling: concurrent exporters that
        # failed together do not retry together.
        ceiling = min(_BACKOFF_MAX_S, _BACKOFF_BASE_S * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def _fail(self, spans: Sequence[Any], reason: str) -> SpanExportResult:
        self.failed_spans += len(spans)
        self.last_error = reason
        logger.debug("dropping %d spans for %s: %s", len(spans), self.destination, reason)
        return SpanExportResult.FAILURE

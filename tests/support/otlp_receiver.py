"""A real OTLP/HTTP trace receiver on loopback, for tests.

Usage::

    with OtlpReceiver() as rx:
        exporter = OtlpHttpSpanExporter(rx.traces_url, ...)
        ...
        spans = rx.wait_for_spans(3)
        assert spans[0]["attributes"]["gen_ai.request.model"] == "gpt-4o"

The receiver accepts ``POST`` on any path ending in ``/v1/traces``, in OTLP
protobuf (``application/x-protobuf``) or OTLP/JSON (``application/json``),
optionally gzip-compressed, and records every request and every span as a
plain dict (see :func:`decode_export_request` for the span shape).

Failures are programmable: :meth:`OtlpReceiver.respond_with` queues error
answers (``429`` with ``Retry-After``, ``500`` ...), :attr:`OtlpReceiver.delay_s`
makes a slow backend and :func:`closed_url` gives a URL nobody listens on.

:class:`_RecordingServer` is the shared machinery; ``fake_honeyhive`` builds
on it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "OtlpReceiver",
    "closed_port",
    "closed_url",
    "decode_export_request",
]

Span = dict[str, Any]
Request = dict[str, Any]

_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


# --------------------------------------------------------------------------- decoding


def decode_export_request(body: bytes, content_type: str) -> list[Span]:
    """Decode an OTLP ``ExportTraceServiceRequest`` into a list of span dicts.

    ``content_type`` selects protobuf (anything but JSON) or OTLP/JSON. Each
    span is::

        {"name", "trace_id", "span_id", "parent_span_id" (hex str or None),
         "kind" ("INTERNAL", "CLIENT", ...), "attributes" (dict, python values,
         arrays as lists, kvlists as dicts), "resource" (dict), "scope" (name),
         "scope_version", "status_code" ("UNSET"/"OK"/"ERROR"),
         "status_message", "events" ([{"name", "attributes", "time_ns"}]),
         "links" ([{"trace_id", "span_id", "attributes"}]), "start_ns", "end_ns"}

    Raises ``ValueError`` on a body that is not a valid request.
    """
    if "json" in content_type.lower():
        try:
            doc = json.loads(body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"invalid OTLP/JSON body: {exc}") from exc
    else:
        doc = _protobuf_to_dict(body)
    if not isinstance(doc, dict):
        raise ValueError("OTLP/JSON body is not an object")
    return list(_walk_request(doc))


def _protobuf_to_dict(body: bytes) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    try:
        message = ExportTraceServiceRequest.FromString(body)
    except DecodeError as exc:
        raise ValueError(f"invalid OTLP protobuf body: {exc}") from exc
    # MessageToDict gives the proto3 JSON mapping: camelCase, base64 bytes,
    # enum names, int64 as strings. _walk_request normalises both shapes.
    doc: dict[str, Any] = MessageToDict(message)
    return doc


def _get(obj: Mapping[str, Any], camel: str, default: Any = None) -> Any:
    """Read a field by its camelCase name, accepting snake_case too."""
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake, default)


def _walk_request(doc: Mapping[str, Any]) -> Iterable[Span]:
    for rs in _get(doc, "resourceSpans", []) or []:
        resource = _attributes(_get(_get(rs, "resource", {}) or {}, "attributes", []))
        for ss in _get(rs, "scopeSpans", []) or []:
            scope = _get(ss, "scope", {}) or {}
            for sp in _get(ss, "spans", []) or []:
                yield _span(sp, resource, scope)


def _span(sp: Mapping[str, Any], resource: dict[str, Any], scope: Mapping[str, Any]) -> Span:
    status = _get(sp, "status", {}) or {}
    return {
        "name": _get(sp, "name", ""),
        "trace_id": _hex_id(_get(sp, "traceId")),
        "span_id": _hex_id(_get(sp, "spanId")),
        "parent_span_id": _hex_id(_get(sp, "parentSpanId")),
        "kind": _enum(_get(sp, "kind", 0), _KINDS, "SPAN_KIND_"),
        "attributes": _attributes(_get(sp, "attributes", [])),
        "resource": dict(resource),
        "scope": _get(scope, "name", "") or "",
        "scope_version": _get(scope, "version", "") or "",
        "status_code": _enum(_get(status, "code", 0), _STATUS, "STATUS_CODE_"),
        "status_message": _get(status, "message", "") or "",
        "events": [
            {
                "name": _get(ev, "name", ""),
                "attributes": _attributes(_get(ev, "attributes", [])),
                "time_ns": int(_get(ev, "timeUnixNano", 0) or 0),
            }
            for ev in _get(sp, "events", []) or []
        ],
        "links": [
            {
                "trace_id": _hex_id(_get(ln, "traceId")),
                "span_id": _hex_id(_get(ln, "spanId")),
                "attributes": _attributes(_get(ln, "attributes", [])),
            }
            for ln in _get(sp, "links", []) or []
        ],
        "start_ns": int(_get(sp, "startTimeUnixNano", 0) or 0),
        "end_ns": int(_get(sp, "endTimeUnixNano", 0) or 0),
    }


def _hex_id(value: Any) -> str | None:
    """OTLP/JSON ids are hex; the protobuf->dict mapping gives base64."""
    if not value:
        return None
    text = str(value)
    if len(text) in (16, 32):
        try:
            int(text, 16)
            return text.lower()
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text
    if not raw.strip(b"\x00"):
        return None
    return raw.hex()


def _enum(value: Any, names: Mapping[int, str], prefix: str) -> str:
    if isinstance(value, str):
        if value.isdigit():
            return names.get(int(value), value)
        return value.removeprefix(prefix)
    return names.get(int(value or 0), str(value))


def _attributes(kvs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in kvs or []:
        out[kv.get("key", "")] = _any_value(kv.get("value") or {})
    return out


def _any_value(v: Mapping[str, Any]) -> Any:
    if "stringValue" in v or "string_value" in v:
        return _get(v, "stringValue")
    if "boolValue" in v or "bool_value" in v:
        return bool(_get(v, "boolValue"))
    if "intValue" in v or "int_value" in v:
        return int(_get(v, "intValue"))
    if "doubleValue" in v or "double_value" in v:
        return float(_get(v, "doubleValue"))
    if "arrayValue" in v or "array_value" in v:
        return [_any_value(x) for x in (_get(v, "arrayValue") or {}).get("values", [])]
    if "kvlistValue" in v or "kvlist_value" in v:
        return _attributes((_get(v, "kvlistValue") or {}).get("values", []))
    if "bytesValue" in v or "bytes_value" in v:
        return base64.b64decode(_get(v, "bytesValue") or "")
    return None


# --------------------------------------------------------------------------- server


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: str | None
    body: bytes


Handler = Callable[[Request], tuple[int, dict[str, str], bytes]]


class _RecordingServer:
    """A ThreadingHTTPServer on 127.0.0.1 that records requests and can misbehave.

    Subclasses map ``(method, path)`` to a route name with :meth:`_route` and
    answer it in :meth:`_handle`. Every request is recorded in
    :attr:`requests` as ``{"method", "path", "route", "headers" (lower-case
    keys), "content_type", "body" (bytes), "status"}``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._lock = threading.Condition()
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.delay_s: float = 0.0
        """Seconds to wait before answering any request (a slow backend)."""
        self.requests: list[Request] = []
        self.spans: list[Span] = []

    # -- lifecycle

    def start(self) -> _RecordingServer:
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30  # an idle keep-alive connection must not pin a thread forever

            def do_POST(self) -> None:
                owner._serve(self)

            def do_PUT(self) -> None:
                owner._serve(self)

            def do_GET(self) -> None:
                owner._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        server = ThreadingHTTPServer((self._host, self._port), _Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    # -- programming

    def respond_with(
        self,
        status: int,
        times: int = 1,
        retry_after: float | str | None = None,
        body: bytes | str = b"",
        *,
        route: str = "traces",
    ) -> None:
        """Answer the next ``times`` requests on ``route`` with ``status``.

        ``retry_after`` becomes a ``Retry-After`` header (seconds or an HTTP
        date, as given). Queued failures are used in order.
        """
        raw = body.encode() if isinstance(body, str) else body
        ra = None if retry_after is None else str(retry_after)
        with self._lock:
            self._failures.setdefault(route, []).append(_Failure(status, times, ra, raw))

    def set_delay(self, route: str, seconds: float) -> None:
        """Delay answers on one route only (on top of :attr:`delay_s`)."""
        with self._lock:
            self._delays[route] = seconds

    def clear(self) -> None:
        """Forget recorded requests/spans and queued failures."""
        with self._lock:
            self.requests.clear()
            self.spans.clear()
            self._failures.clear()
            self._clear_extra()

    def _clear_extra(self) -> None:
        pass

    def requests_for(self, route: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r["route"] == route]

    # -- waiting

    def wait_for_spans(self, n: int, timeout: float = 5.0) -> list[Span]:
        """Wait until at least ``n`` spans arrived; return them all.

        Raises ``AssertionError`` listing what did arrive on timeout.
        """
        return self._wait_for(lambda: self.spans, n, timeout, "spans")

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[Request]:
        """Wait until at least ``n`` requests (any route, any status) arrived."""
        return self._wait_for(lambda: self.requests, n, timeout, "requests")

    def _wait_for(
        self, items: Callable[[], list[Any]], n: int, timeout: float, what: str
    ) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(items()) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = items()
                    brief = [s.get("name", s) if isinstance(s, dict) else s for s in got]
                    seen = [(r["method"], r["path"], r["status"]) for r in self.requests]
                    raise AssertionError(
                        f"expected {n} {what} within {timeout}s, got {len(got)}: {brief!r}; "
                        f"requests: {seen}"
                    )
                self._lock.wait(min(left, 0.05))
            return list(items())

    # -- serving

    def _route(self, method: str, path: str) -> str | None:
        raise NotImplementedError

    def _handle(self, route: str, request: Request) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        encoding = headers.get("content-encoding", "").lower()
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
        except (OSError, zlib.error):
            pass
        path = handler.path.split("?", 1)[0]
        route = self._route(handler.command, path)
        request: Request = {
            "method": handler.command,
            "path": handler.path,
            "route": route,
            "headers": headers,
            "content_type": headers.get("content-type", ""),
            "body": body,
            "status": None,
        }
        delay = self.delay_s + self._delays.get(route or "", 0.0)
        if delay > 0:
            self._stopping.wait(delay)

        failure = self._next_failure(route) if route else None
        extra: dict[str, str] = {}
        if route is None:
            status, payload = 404, b"not found"
        elif failure is not None:
            status, payload = failure.status, failure.body
            if failure.retry_after is not None:
                extra["Retry-After"] = failure.retry_after
        else:
            try:
                status, extra, payload = self._handle(route, request)
            except ValueError as exc:
                status, payload = 400, str(exc).encode()
        request["status"] = status
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()
        try:
            handler.send_response(status)
            for key, value in extra.items():
                handler.send_header(key, value)
            if "Content-Type" not in extra:
                handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timeout): nothing to answer

    def _next_failure(self, route: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(route)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def _accept_spans(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        """Decode an OTLP export, record its spans, answer like a collector."""
        content_type = request["content_type"] or "application/x-protobuf"
        spans = decode_export_request(request["body"], content_type)
        request["spans"] = spans
        with self._lock:
            self.spans.extend(spans)
            self._lock.notify_all()
        if "json" in content_type.lower():
            return 200, {"Content-Type": "application/json"}, b"{}"
        # An empty ExportTraceServiceResponse serialises to zero bytes.
        return 200, {"Content-Type": "application/x-protobuf"}, b""


class OtlpReceiver(_RecordingServer):
    """An OTLP/HTTP collector on loopback that records spans.

    ``.url`` is the base URL (use it as ``OTEL_EXPORTER_OTLP_ENDPOINT``),
    ``.traces_url`` the full traces URL. ``.spans`` and ``.requests`` hold
    what arrived; ``wait_for_spans(n)`` blocks until ``n`` spans arrived.
    """

    def __enter__(self) -> OtlpReceiver:
        self.start()
        return self

    @property
    def traces_url(self) -> str:
        return self.url + "/v1/traces"

    def _route(self, method: str, path: str) -> str | None:
        if method == "POST" and path.rstrip("/").endswith("/v1/traces"):
            return "traces"
        return None

    def _handle(self, route: str, request: Request) -> tuple[int, dict[str, str], bytes]:
        return self._accept_spans(request)


def closed_port() -> int:
    """A loopback port nobody listens on (a backend that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def closed_url(path: str = "/v1/traces") -> str:
    """A URL on a closed loopback port: connections are refused at once."""
    return f"http://127.0.0.1:{closed_port()}{path}"

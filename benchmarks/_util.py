"""Shared helpers for the benchmark scripts: statistics, tables, a loopback OTLP sink.

Only the standard library is used here, so every script runs with any of the
interpreters it drives (the project's ``.venv`` or a peer venv).
"""

from __future__ import annotations

import http.server
import statistics
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (NaN when empty, so a missing mode shows as such)."""
    return statistics.median(values) if values else float("nan")


def iqr(values: Sequence[float]) -> float:
    """Inter-quartile range: the spread of the middle half of ``values``."""
    if len(values) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q3 - q1


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render a plain-text table: first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])]
        parts += [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


class Sink(http.server.ThreadingHTTPServer):
    """A loopback HTTP server that counts what it is sent."""

    daemon_threads = True
    requests = 0
    received_bytes = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _SinkHandler(http.server.BaseHTTPRequestHandler):
    """Accept any POST/PUT and answer 200 with an empty body.

    An empty body is a valid (empty) ``ExportTraceServiceResponse`` in protobuf
    and close enough for JSON clients that ignore the answer.
    """

    protocol_version = "HTTP/1.1"
    server: Sink

    def _sink(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests += 1
        self.server.received_bytes += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = _sink
    do_PUT = _sink

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the benchmark's output is its table."""


@contextmanager
def otlp_sink() -> Iterator[Sink]:
    """Run a loopback HTTP sink for OTLP exports; yield it (``.url`` is its base URL)."""
    server = Sink(("127.0.0.1", 0), _SinkHandler)
    thread = threading.Thread(target=server.serve_forever, name="otlp-sink", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()

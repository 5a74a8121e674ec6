"""OtlpHttpSpanExporter against a real loopback OTLP receiver."""

from __future__ import annotations

import email.utils
import json
import math
import threading
import time

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult

from honeyhive_agent.exporters.otlp_http import (
    OtlpHttpSpanExporter,
    parse_retry_after,
    redact_url,
)
from tests.exporters._helpers import make_spans
from tests.support.otlp_receiver import OtlpReceiver, closed_url

ATTRS = {
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 12,
    "temperature": 0.25,
    "stream": False,
    "stop": ("a", "b"),
    "counts": (1, 2),
}


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_exports_spans_in_both_encodings(encoding: str) -> None:
    spans = make_spans(2, session_id="s-1", attrs=ATTRS, error=True)
    with OtlpReceiver() as rx:
        exporter = OtlpHttpSpanExporter(
            rx.traces_url, headers={"Authorization": "Bearer k"}, encoding=encoding  # type: ignore[arg-type]
        )
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        got = rx.wait_for_spans(2)
        exporter.shutdown()
    request = rx.requests[0]
    assert request["content_type"] == (
        "application/json" if encoding == "json" else "application/x-protobuf"
    )
    assert request["headers"]["authorization"] == "Bearer k"
    assert request["headers"]["user-agent"].startswith("honeyhive-agent")
    first = got[0]
    assert first["name"] == "span-0"
    assert first["trace_id"] == format(spans[0].context.trace_id, "032x")
    assert first["span_id"] == format(spans[0].context.span_id, "016x")
    assert first["parent_span_id"] is None
    assert first["kind"] == "INTERNAL"
    assert first["attributes"] == {
        "honeyhive.session_id": "s-1",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 12,
        "temperature": 0.25,
        "stream": False,
        "stop": ["a", "b"],
        "counts": [1, 2],
    }
    assert first["resource"]["service.name"] == "svc"
    assert first["scope"] == "tests.exporters"
    assert first["status_code"] == "ERROR" and first["status_message"] == "boom"
    assert first["start_ns"] == spans[0].start_time and first["end_ns"] == spans[0].end_time


def test_json_follows_otlp_json_rules() -> None:
    from honeyhive_agent.exporters.otlp_json import encode_spans_json

    (span,) = make_spans(attrs={"big": 2**40, "nan": math.nan, "x": 1.5})
    doc = json.loads(encode_spans_json([span]))
    encoded = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert encoded["traceId"] == format(span.context.trace_id, "032x")
    assert encoded["spanId"] == format(span.context.span_id, "016x")
    assert encoded["kind"] == 1  # SPAN_KIND_INTERNAL as an integer
    assert isinstance(encoded["startTimeUnixNano"], str)
    values = {a["key"]: a["value"] for a in encoded["attributes"]}
    assert values["big"] == {"intValue": str(2**40)}
    assert values["nan"] == {"doubleValue": "NaN"}
    assert values["x"] == {"doubleValue": 1.5}


def test_retries_429_honouring_retry_after_seconds() -> None:
    with OtlpReceiver() as rx:
        rx.respond_with(429, times=2, retry_after=0.2)
        exporter = OtlpHttpSpanExporter(rx.traces_url, timeout_s=5)
        started = time.monotonic()
        assert exporter.export(make_spans()) is SpanExportResult.SUCCESS
        elapsed = time.monotonic() - started
        rx.wait_for_spans(1)
    assert [r["status"] for r in rx.requests] == [429, 429, 200]
    assert elapsed >= 0.35  # two Retry-After waits of 0.2 s (minus clock slack)
    assert exporter.failed_spans == 0


def test_retries_5xx_and_http_date_retry_after() -> None:
    when = email.utils.formatdate(time.time() + 1, usegmt=True)
    with OtlpReceiver() as rx:
        rx.respond_with(503, retry_after=when)
        rx.respond_with(500)
        exporter = OtlpHttpSpanExporter(rx.traces_url, encoding="json", timeout_s=8)
        assert exporter.export(make_spans()) is SpanExportResult.SUCCESS
    assert [r["status"] for r in rx.requests] == [503, 500, 200]


def test_other_4xx_drops_the_batch_without_retry() -> None:
    with OtlpReceiver() as rx:
        rx.respond_with(400, body=b"bad")
        exporter = OtlpHttpSpanExporter(rx.traces_url, timeout_s=5)
        assert exporter.export(make_spans(3)) is SpanExportResult.FAILURE
    assert len(rx.requests) == 1
    assert exporter.failed_spans == 3 and exporter.last_error == "HTTP 400"


def test_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    with OtlpReceiver() as rx:
        rx.respond_with(429, retry_after=60)
        exporter = OtlpHttpSpanExporter(rx.traces_url, timeout_s=2)
        started = time.monotonic()
        assert exporter.export(make_spans()) is SpanExportResult.FAILURE
        assert time.monotonic() - started < 1.5
    assert exporter.failed_spans == 1


def test_backend_down_fails_within_bound_and_never_raises() -> None:
    exporter = OtlpHttpSpanExporter(closed_url(), timeout_s=1, max_retry_s=1.0)
    started = time.monotonic()
    assert exporter.export(make_spans(2)) is SpanExportResult.FAILURE
    assert time.monotonic() - started < 3
    assert exporter.failed_spans == 2
    assert exporter.last_error and "ConnectError" in exporter.last_error


def test_slow_backend_times_out() -> None:
    with OtlpReceiver() as rx:
        rx.delay_s = 3
        exporter = OtlpHttpSpanExporter(rx.traces_url, timeout_s=0.3, max_retry_s=0.5)
        started = time.monotonic()
        assert exporter.export(make_spans()) is SpanExportResult.FAILURE
        assert time.monotonic() - started < 2.5


def test_shutdown_wakes_a_retry_sleep() -> None:
    with OtlpReceiver() as rx:
        rx.respond_with(503, times=100, retry_after=30)
        exporter = OtlpHttpSpanExporter(rx.traces_url, timeout_s=60)
        result: list[SpanExportResult] = []
        worker = threading.Thread(target=lambda: result.append(exporter.export(make_spans())))
        worker.start()
        deadline = time.monotonic() + 5
        while not rx.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        exporter.shutdown()
        worker.join(5)
    assert result == [SpanExportResult.FAILURE]
    assert exporter.export(make_spans()) is SpanExportResult.FAILURE  # after shutdown


def test_unencodable_batch_fails_without_raising() -> None:
    exporter = OtlpHttpSpanExporter("http://127.0.0.1:9/v1/traces")

    class Broken:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError("nope")

    assert exporter.export([Broken()]) is SpanExportResult.FAILURE  # type: ignore[list-item]


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = email.utils.formatdate(1000.0 + 10, usegmt=True)
    assert parse_retry_after(date, now=1000.0) == pytest.approx(10, abs=1)
    assert parse_retry_after(email.utils.formatdate(0, usegmt=True)) == 0.0


def test_redact_url_hides_credentials() -> None:
    assert redact_url("https://user:pw@h.example:8443/v1/traces?key=s") == (
        "https://h.example:8443/v1/traces"
    )


def test_bad_url_fails_at_once() -> None:
    exporter = OtlpHttpSpanExporter("localhost:4318/v1/traces", timeout_s=5)
    started = time.monotonic()
    assert exporter.export(make_spans()) is SpanExportResult.FAILURE
    assert time.monotonic() - started < 1.0
    assert exporter.last_error and "bad URL" in exporter.last_error

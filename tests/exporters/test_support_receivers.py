"""The shared test receivers decode real OTLP exports and misbehave on demand."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.support.fake_honeyhive import FakeHoneyHive
from tests.support.otlp_receiver import OtlpReceiver, closed_url


def _emit(exporter: OTLPSpanExporter) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("scope.x", "1.2")
    with (
        tracer.start_as_current_span("root"),
        tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child,
    ):
        child.set_attribute("s", "v")
        child.set_attribute("i", 7)
        child.set_attribute("f", 0.5)
        child.set_attribute("b", True)
        child.set_attribute("arr", ["a", "b"])
        child.add_event("ev", {"k": 1})
        child.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()


def test_receiver_decodes_sdk_protobuf() -> None:
    with OtlpReceiver() as rx:
        _emit(OTLPSpanExporter(endpoint=rx.traces_url))
        spans = rx.wait_for_spans(2)
    child, root = spans
    assert root["name"] == "root" and root["parent_span_id"] is None
    assert child["parent_span_id"] == root["span_id"]
    assert child["trace_id"] == root["trace_id"] and len(child["trace_id"]) == 32
    assert child["kind"] == "CLIENT" and root["kind"] == "INTERNAL"
    assert child["attributes"] == {"s": "v", "i": 7, "f": 0.5, "b": True, "arr": ["a", "b"]}
    assert child["resource"]["service.name"] == "svc"
    assert child["scope"] == "scope.x"
    assert child["status_code"] == "ERROR" and child["status_message"] == "boom"
    assert child["events"][0]["name"] == "ev" and child["events"][0]["attributes"] == {"k": 1}
    assert child["end_ns"] >= child["start_ns"] > 0
    assert rx.requests[0]["content_type"] == "application/x-protobuf"


def test_receiver_decodes_json_and_failures() -> None:
    doc = {
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "r", "value": {"stringValue": "x"}}]},
            "scopeSpans": [{
                "scope": {"name": "sc"},
                "spans": [{
                    "traceId": "0af7651916cd43dd8448eb211c80319c",
                    "spanId": "b7ad6b7169203331",
                    "name": "j",
                    "kind": 3,
                    "startTimeUnixNano": "1000",
                    "endTimeUnixNano": "2000",
                    "attributes": [{"key": "n", "value": {"intValue": "42"}}],
                    "status": {"code": 1},
                }],
            }],
        }]
    }
    with OtlpReceiver() as rx:
        rx.respond_with(429, retry_after=3)
        r1 = httpx.post(rx.traces_url, json=doc)
        assert r1.status_code == 429 and r1.headers["retry-after"] == "3"
        r2 = httpx.post(rx.traces_url, json=doc)
        assert r2.status_code == 200
        (span,) = rx.wait_for_spans(1)
    assert span["kind"] == "CLIENT" and span["status_code"] == "OK"
    assert span["attributes"] == {"n": 42} and span["resource"] == {"r": "x"}
    assert span["span_id"] == "b7ad6b7169203331" and span["start_ns"] == 1000
    assert [r["status"] for r in rx.requests] == [429, 200]


def test_wait_for_spans_times_out_with_details() -> None:
    with OtlpReceiver() as rx, pytest.raises(AssertionError, match="expected 1 spans"):
        rx.wait_for_spans(1, timeout=0.2)


def test_closed_url_refuses() -> None:
    try:
        result = OTLPSpanExporter(endpoint=closed_url(), timeout=1).export([])
    except Exception:  # noqa: BLE001 - the stock exporter of OTel < 1.28 raises instead
        result = SpanExportResult.FAILURE
    assert result in (SpanExportResult.FAILURE, SpanExportResult.SUCCESS)
    with pytest.raises(httpx.ConnectError):
        httpx.post(closed_url(), content=b"")


def test_fake_honeyhive_routes() -> None:
    with FakeHoneyHive(api_key="k") as hh:
        auth = {"Authorization": "Bearer k"}
        sid = str(uuid.uuid4())
        r = httpx.post(hh.url + "/session/start", json={"session": {"session_id": sid}},
                       headers=auth)
        assert r.json() == {"session_id": sid}
        r = httpx.post(hh.url + "/session/start", json={"session": {}}, headers=auth)
        assert uuid.UUID(r.json()["session_id"])
        assert httpx.put(hh.url + "/events", json={"event_id": sid}, headers=auth).is_success
        assert httpx.put(hh.url + "/events", json={}).status_code == 401
        hh.set_delay("events", 0.0)
        hh.respond_with(500, route="session")
        assert httpx.post(hh.url + "/session/start", json={}, headers=auth).status_code == 500
        _emit(OTLPSpanExporter(endpoint=hh.traces_url, headers=auth))
        assert len(hh.wait_for_spans(2)) == 2
        assert len(hh.wait_for_sessions(2)) == 2
        assert hh.wait_for_events(1)[0] == {"event_id": sid}
        assert hh.requests_for("session")[0]["headers"]["authorization"] == "Bearer k"
        assert json.loads(hh.requests_for("events")[0]["body"]) == {"event_id": sid}


def test_receiver_accepts_gzip_and_counts_requests() -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression

    with OtlpReceiver() as rx:
        _emit(OTLPSpanExporter(endpoint=rx.traces_url, compression=Compression.Gzip))
        assert len(rx.wait_for_spans(2)) == 2
        assert rx.wait_for_requests(1)[0]["headers"]["content-encoding"] == "gzip"
        httpx.post(rx.url + "/other", content=b"")
        assert rx.wait_for_requests(3)[-1]["status"] == 404
        rx.clear()
        assert rx.spans == [] and rx.requests == []

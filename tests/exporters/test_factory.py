"""build_span_processors: one bounded processor per configured exporter."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from honeyhive_agent.config.model import BatchConfig, LocalConfig, OtlpConfig, TracerConfig
from honeyhive_agent.exporters import build_span_processors
from honeyhive_agent.exporters.batch import BoundedBatchSpanProcessor
from honeyhive_agent.exporters.console import ConsoleSpanExporter
from honeyhive_agent.exporters.factory import DEFAULT_OTLP_TRACES_URL
from honeyhive_agent.exporters.local import LocalSpanExporter
from honeyhive_agent.exporters.otlp_http import OtlpHttpSpanExporter
from honeyhive_agent.store.db import LocalStore
from tests.exporters._helpers import provider_with
from tests.support.fake_honeyhive import FakeHoneyHive
from tests.support.otlp_receiver import OtlpReceiver

FAST = BatchConfig(schedule_delay_ms=50)


def _emit(processors: list, name: str = "op") -> None:  # type: ignore[type-arg]
    provider = provider_with(*processors)
    with provider.get_tracer("t").start_as_current_span(name) as span:
        span.set_attribute("honeyhive.session_id", "sess-1")
    provider.shutdown()


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_honeyhive_exporter(protocol: str) -> None:
    calls: list[str] = []
    with FakeHoneyHive(api_key="secret") as hh:
        config = TracerConfig(
            api_key="secret", server_url=hh.url + "/", source="ci",
            honeyhive_protocol=protocol, batch=FAST,  # type: ignore[arg-type]
        )
        processors = build_span_processors(
            config, on_first_export=lambda: calls.append(threading.current_thread().name)
        )
        assert len(processors) == 1
        _emit(processors)
        (span,) = hh.wait_for_spans(1)
    (request,) = hh.requests_for("traces")
    assert request["path"] == "/opentelemetry/v1/traces"
    assert request["headers"]["authorization"] == "Bearer secret"
    assert request["headers"]["x-source"] == "ci"
    assert ("json" in request["content_type"]) == (protocol == "http/json")
    assert span["attributes"]["honeyhive.session_id"] == "sess-1"
    assert len(calls) == 1 and calls[0].startswith("honeyhive-agent-export")


def test_on_first_export_errors_are_swallowed() -> None:
    def broken() -> None:
        raise RuntimeError("session start failed")

    with FakeHoneyHive() as hh:
        config = TracerConfig(api_key="k", server_url=hh.url, batch=FAST)
        _emit(build_span_processors(config, on_first_export=broken))
        assert len(hh.wait_for_spans(1)) == 1


def test_otlp_exporter_from_config() -> None:
    with OtlpReceiver() as rx:
        config = TracerConfig(
            exporters=("otlp",), batch=FAST,
            otlp=OtlpConfig(endpoint=rx.url + "/", headers={"x-team": "a"}, protocol="http/json"),
        )
        _emit(build_span_processors(config))
        rx.wait_for_spans(1)
    assert rx.requests[0]["path"] == "/v1/traces"
    assert rx.requests[0]["headers"]["x-team"] == "a"
    assert rx.requests[0]["content_type"] == "application/json"


def test_otlp_default_url_and_all_kinds(tmp_path: Path) -> None:
    config = TracerConfig(
        exporters=("otlp", "console", "local", "none"),
        local=LocalConfig(path=str(tmp_path / "x.db")),
    )
    processors = build_span_processors(config, on_first_export=lambda: None)
    assert all(isinstance(p, BoundedBatchSpanProcessor) for p in processors)
    exporters = [p.exporter for p in processors]  # type: ignore[attr-defined]
    assert isinstance(exporters[0], OtlpHttpSpanExporter)
    assert exporters[0].url == DEFAULT_OTLP_TRACES_URL
    assert isinstance(exporters[1], ConsoleSpanExporter)
    assert isinstance(exporters[2], LocalSpanExporter)
    assert exporters[2].path == str(tmp_path / "x.db")
    for p in processors:
        p.shutdown()


def test_default_without_api_key_is_local(tmp_path: Path) -> None:
    _emit(build_span_processors(TracerConfig(batch=FAST)))
    (session,) = LocalStore(tmp_path / ".honeyhive" / "traces.db").list_sessions()
    assert session.session_id == "sess-1"


def test_console_writes_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    _emit(build_span_processors(TracerConfig(exporters=("console",), batch=FAST)), "llm-call")
    out, err = capsys.readouterr()
    assert out == ""
    assert "[honeyhive] llm-call" in err and "session=sess-1" in err


def test_secrets_stay_out_of_reprs() -> None:
    (proc,) = build_span_processors(TracerConfig(api_key="sk-very-secret-key", batch=FAST))
    assert "sk-very-secret" not in repr(proc.exporter)  # type: ignore[attr-defined]
    proc.shutdown()

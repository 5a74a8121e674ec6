"""Decorated code through the real OTLP/HTTP exporter to a loopback receiver."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import honeyhive_agent
from honeyhive_agent.tracer import registry
from tests.support.otlp_receiver import OtlpReceiver

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_spans_arrive_over_otlp(monkeypatch: pytest.MonkeyPatch, protocol: str) -> None:
    with OtlpReceiver() as rx:
        # Zero configuration beyond the environment: the first decorated call
        # builds the default tracer from it.
        monkeypatch.setenv("HH_EXPORTERS", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rx.url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        monkeypatch.setenv("HH_PROJECT", "e2e")

        @honeyhive_agent.trace(event_type="tool")
        def lookup(city: str) -> dict[str, object]:
            honeyhive_agent.enrich_span(metrics={"hits": 2})
            return {"city": city, "temps": [20, 21]}

        @honeyhive_agent.trace(event_type="chain", metadata={"v": 1})
        def plan(city: str) -> str:
            lookup(city)
            with contextlib.suppress(LookupError):
                fail()
            return "done"

        @honeyhive_agent.trace
        def fail() -> None:
            raise LookupError("no route")

        assert plan("Oslo") == "done"
        tracer = registry.get("default")
        assert tracer is not None
        assert tracer.force_flush(5000)
        spans = rx.wait_for_spans(3)

    by_name = {s["name"].rsplit(".", 1)[-1]: s for s in spans}
    root, child, failed = by_name["plan"], by_name["lookup"], by_name["fail"]
    assert root["parent_span_id"] is None
    assert child["parent_span_id"] == root["span_id"]
    assert failed["parent_span_id"] == root["span_id"]
    assert {s["trace_id"] for s in spans} == {root["trace_id"]}

    assert root["attributes"]["honeyhive_event_type"] == "chain"
    assert root["attributes"]["honeyhive_metadata.v"] == 1
    assert root["attributes"]["honeyhive_outputs.result"] == "done"
    assert root["attributes"]["honeyhive.project"] == "e2e"
    assert root["attributes"]["honeyhive.session_id"] == tracer.session_id

    c = child["attributes"]
    assert c["honeyhive_inputs.city"] == "Oslo"
    assert c["honeyhive_outputs.result.temps.1"] == 21
    assert c["honeyhive_metrics.hits"] == 2

    f = failed["attributes"]
    assert failed["status_code"] == "ERROR"
    assert f["error.type"] == "LookupError"
    assert f["honeyhive_error"] == "no route"
    assert [e["name"] for e in failed["events"]] == ["exception"]


APP = """
import asyncio
from concurrent.futures import ThreadPoolExecutor
from honeyhive_agent import trace, trace_class

@trace
def square(x):
    return x * x

@trace_class(event_type="chain")
class Pipeline:
    async def run(self, n):
        with ThreadPoolExecutor(2) as pool:
            values = list(pool.map(square, range(n)))
        async for v in self.stream(values):
            print("value", v)
        return sum(values)

    async def stream(self, values):
        for v in values:
            yield v

print("total", asyncio.run(Pipeline().run(3)))
"""


def test_subprocess_app_output_unchanged_and_spans_flushed_at_exit(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(APP))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HH_", "OTEL_"))}
    clean["PYTHONPATH"] = str(REPO)
    plain = subprocess.run(
        [sys.executable, str(script)],
        env={**clean, "HH_DISABLED": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert plain.returncode == 0, plain.stderr
    with OtlpReceiver() as rx:
        traced = subprocess.run(
            [sys.executable, str(script)],
            env={
                **clean,
                "HH_EXPORTERS": "otlp",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": rx.traces_url,
            },
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        spans = rx.wait_for_spans(5)
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout == "value 0\nvalue 1\nvalue 4\ntotal 5\n"
    assert traced.stderr == ""
    names = sorted(s["name"] for s in spans)
    assert names == ["Pipeline.run", "Pipeline.stream", "square", "square", "square"]
    run = next(s for s in spans if s["name"] == "Pipeline.run")
    for s in spans:
        if s is not run:
            assert s["parent_span_id"] == run["span_id"], s["name"]

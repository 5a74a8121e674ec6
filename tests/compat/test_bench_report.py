"""The benchmark scripts' arithmetic: statistics, tables, verdicts."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any

from benchmarks._util import iqr, median, otlp_sink, table

# Scripts that put their own folder on sys.path: loaded untyped, as a user runs them.
overhead: Any = importlib.import_module("benchmarks.overhead")
startup: Any = importlib.import_module("benchmarks.startup")


def test_median_and_iqr() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert math.isnan(median([]))
    assert iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == 2.0
    assert iqr([7.0]) == 0.0


def test_table_aligns_columns() -> None:
    text = table(["name", "ms"], [["bare", "1"], ["honeyhive-run", "12"]])
    lines = text.splitlines()
    assert lines[0].startswith("name ") and lines[0].endswith("ms")
    assert lines[2] == "bare" + " " * 9 + "  " + " 1"
    assert lines[3] == "honeyhive-run  12"


def test_sink_counts_posts() -> None:
    import urllib.request

    with otlp_sink() as sink:
        req = urllib.request.Request(sink.url + "/v1/traces", data=b"abc", method="POST")
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200
        assert (sink.requests, sink.received_bytes) == (1, 3)


def _variant(label: str, script: str, wall: list[float], cpu: list[float]) -> Any:
    v = startup.Variant(label, script, [], Path("."))
    v.times, v.cpu = wall, cpu
    return v


def test_startup_verdict_uses_the_targets() -> None:
    variants = [
        _variant("bare python -c 'pass'", "pass", [0.020] * 3, [0.020] * 3),
        _variant("honeyhive-run python -c 'pass'", "pass", [0.060] * 3, [0.060] * 3),
        _variant("bare python -c 'import openai'", "import openai", [0.400] * 3, [0.400] * 3),
        _variant("honeyhive-run python -c 'import openai'", "import openai", [0.480] * 3,
                 [0.440] * 3),
    ]
    text, ok = startup.report(variants, 3)
    assert "PASS  honeyhive-run python -c pass adds 40.0 ms" in text
    assert "FAIL  honeyhive-run python -c 'import openai' adds 20.0%" in text
    assert "PASS  honeyhive-run python -c 'import openai' adds 10.0% (target <= 15%) [CPU" in text
    assert not ok  # judged on wall time


def test_overhead_verdict_compares_with_the_best_peer() -> None:
    lines, ok = overhead.verdict(
        {"openai per call": {"honeyhive": 90.0, "openllmetry": 600.0, "official": 200.0}}
    )
    assert lines == [
        "PASS  openai per call: ours +90.0 us vs best peer official +200.0 us -> ratio 0.450 "
        "(target <= 0.5)"
    ]
    assert ok
    lines, ok = overhead.verdict({"x": {"honeyhive": 1.0, "official": 1.5}})
    assert not ok and lines[0].startswith("FAIL")
    lines, ok = overhead.verdict({"x": {"official": 1.5}})
    assert not ok and lines[0].startswith("n/a")

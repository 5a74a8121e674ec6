"""Per-chunk cost in instructions and L1 cache misses, which repeat exactly.

``overhead.py`` times calls; on a shared 2-core machine one long stream's time
moves by ~1 ms from round to round, as much as 200 chunks of instrumentation
add, so its per-chunk rows carry an IQR of 1-4 us. This script runs the same
worker (``_overhead_worker.py``) under ``valgrind --tool=cachegrind`` instead
and counts: for each mode, one process streams ``WORKLOAD.long`` and another
``WORKLOAD.short`` (3 warm-up calls, then ``--calls``), so

    per chunk = (total(long) - total(short)) / ((3 + calls) * (LONG - SHORT))

and a mode's added cost is that minus bare's. The counts are the whole
process's (the exporter thread too) with a fixed hash seed; another seed
moves bare by ~2,000 instructions a chunk (memory layout), so compare
numbers within one run, or pass several ``--seeds``.

Instructions alone under-count what code costs right after the SDK's parse:
L1 misses (mostly type-cache and dict reads of evicted entries) cost ~14
cycles each, so both are shown, with ``cycles ~ Ir / 3.5 + 14 * (I1 + D1
misses)`` as a rough model (it matched the timed ratios within their noise).

Usage::

    python benchmarks/instructions.py [--modes bare,honeyhive,openai-v2]
        [--workload openai.stream] [--calls 10] [--seeds 0]

Needs valgrind; ~90 s per process, two at a time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _overhead_worker import LONG_CHUNKS, SHORT_CHUNKS
from _util import otlp_sink, table
from peers import PEERS, PROJECT_PYTHON

WORKER = Path(__file__).resolve().parent / "_overhead_worker.py"
WARM = 3
EVENTS = {"Ir": "I   refs", "I1": "I1  misses", "D1": "D1  misses"}


def python_for(mode: str) -> Path:
    return PROJECT_PYTHON if mode in ("bare", "honeyhive") else PEERS[mode].python


def count(mode: str, workload: str, calls: int, seed: int, sink: str) -> dict[str, int]:
    """Cachegrind's totals for one worker process streaming ``workload``."""
    script = f"run {workload} {WARM}\nrun {workload} {calls}\nquit\n"
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=yes",
             f"--cachegrind-out-file={tmp}/out", str(python_for(mode)), str(WORKER),
             "--mode", mode, "--sink", sink],
            input=script, capture_output=True, text=True, env=env, cwd=tmp, check=False,
        )
    totals = {}
    for key, label in EVENTS.items():
        found = re.search(rf"{label}:\s+([\d,]+)", proc.stderr)
        if found is None:
            raise RuntimeError(f"{mode} {workload}: no cachegrind summary\n{proc.stderr[-2000:]}")
        totals[key] = int(found.group(1).replace(",", ""))
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="bare,honeyhive,openai-v2")
    parser.add_argument("--workload", default="openai.stream")
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--seeds", default="0", help="comma-separated PYTHONHASHSEED values")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 2
    modes = [m for m in args.modes.split(",") if m]
    if "bare" not in modes:
        modes.insert(0, "bare")
    seeds = [int(s) for s in args.seeds.split(",")]
    chunks = (WARM + args.calls) * (LONG_CHUNKS - SHORT_CHUNKS)
    jobs = [(m, length, s) for s in seeds for m in modes for length in ("long", "short")]
    with otlp_sink() as sink, ThreadPoolExecutor(max_workers=2) as pool:
        futures = {job: pool.submit(count, job[0], f"{args.workload}.{job[1]}", args.calls,
                                    job[2], sink.url) for job in jobs}
        totals = {job: f.result() for job, f in futures.items()}

    def per_chunk(mode: str, key: str) -> float:
        values = [(totals[(mode, "long", s)][key] - totals[(mode, "short", s)][key]) / chunks
                  for s in seeds]
        return sum(values) / len(values)

    rows = [["bare", f"{per_chunk('bare', 'Ir'):,.0f}", "", "", ""]]
    cycles: dict[str, float] = {}
    for mode in modes[1:]:
        added = {k: per_chunk(mode, k) - per_chunk("bare", k) for k in EVENTS}
        cycles[mode] = added["Ir"] / 3.5 + 14 * (added["I1"] + added["D1"])
        rows.append([mode, f"+{added['Ir']:,.0f}", f"+{added['I1']:,.0f}",
                     f"+{added['D1']:,.0f}", f"~{cycles[mode]:,.0f}"])
    print(f"Per chunk of {args.workload}, seeds {seeds}, {args.calls + WARM} streams each "
          f"(whole process, cachegrind)\n")
    print(table(["mode", "instructions", "I1 misses", "D1 misses", "cycles (model)"], rows))
    peers = {m: c for m, c in cycles.items() if m != "honeyhive"}
    if "honeyhive" in cycles and peers:
        best = min(peers, key=lambda m: peers[m])
        ratio = cycles["honeyhive"] / peers[best]
        print(f"\nmodelled ratio ours / best peer ({best}): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

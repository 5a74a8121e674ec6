"""Per-chunk cost in instructions (and L1 misses), traced vs bare in one process.

``overhead.py`` times calls; on a shared 2-core machine one long stream's time
moves by ~1 ms from round to round, as much as 200 chunks of instrumentation
add, so its per-chunk rows carry an IQR of 1-4 us. This script counts
instead. Each mode's process (``_same_process.py``, under ``valgrind
--tool=callgrind``) streams long and short replies both traced and bare,
interleaved: bare is the instrumented SDK method's ``__wrapped__``, the
SDK's own code, so both run in the same process, with the same memory layout
and hash seed. (Comparing separate processes instead moved a mode's added
instructions by thousands a chunk from one layout to the next: the SDK's own
type-cache collisions change with it.) Then, per chunk::

    added = ((traced long - traced short) - (bare long - bare short))
            / (streams * (LONG - SHORT))

With ``--cache`` it also counts L1 misses (I1, D1 read + write), which cost
~14 cycles each, and shows ``cycles ~ Ir / 3.5 + 14 * misses`` as a rough
model. A mode whose patch is not on the SDK method itself (OpenInference
patches the client's ``request``) has no bare twin and is left out.

Mode ``honeyhive-sdk-checks`` is ours with each event built by the SDK's own
``_process_response_data``, whose per-event checks ours otherwise settles
once per stream (``instrumentors/_construct.py``): it shows what our
instrumentation alone adds, apart from the SDK work the agent saves.

Usage::

    python benchmarks/instructions.py [--sdk openai]
        [--modes honeyhive,honeyhive-sdk-checks,openai-v2]
        [--rounds 3] [--seeds 1,2] [--cache]

Needs valgrind; ~1 min per process (~2 with ``--cache``), two at a time.
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

from _overhead_worker import LONG_CHUNKS, OURS, OURS_WITH_SDK_CHECKS, SHORT_CHUNKS
from _same_process import PER_ROUND, TOGGLES
from _util import otlp_sink, table
from peers import PEERS, PROJECT_PYTHON

SCRIPT = Path(__file__).resolve().parent / "_same_process.py"
EVENTS = ("Ir", "I1mr", "D1mr", "D1mw")


def python_for(mode: str) -> Path:
    return PROJECT_PYTHON if mode in (OURS, OURS_WITH_SDK_CHECKS) else PEERS[mode].python


def count(
    mode: str, sdk: str, rounds: int, seed: int, cache: bool, sink: str
) -> dict[str, float] | None:
    """Added events per chunk for ``mode`` (None: no bare twin in its process)."""
    events = EVENTS if cache else EVENTS[:1]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        toggles = [f"--toggle-collect={name}" for name in TOGGLES]
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--cache-sim={'yes' if cache else 'no'}",
             *toggles, f"--callgrind-out-file={out}", str(python_for(mode)), str(SCRIPT),
             mode, sink, sdk, str(rounds)],
            capture_output=True, text=True, env={**_clean_env(), "PYTHONHASHSEED": str(seed)},
            cwd=tmp, check=False,
        )
        if proc.returncode == 3:
            return None
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"{mode} seed {seed}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
        text = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", f"--show={','.join(events)}", str(out)],
            capture_output=True, text=True, check=True,
        ).stdout
    totals: dict[str, list[int]] = {}
    for name in TOGGLES:
        found = re.search(rf"^\s*((?:[\d,]+ (?:\([^)]*\)\s+)?)+)\S*:{name} ", text, re.M)
        if found is None:
            raise RuntimeError(f"{mode} seed {seed}: {name} not in the profile")
        totals[name] = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) ", found.group(1))]
    n = rounds * PER_ROUND * (LONG_CHUNKS - SHORT_CHUNKS)
    t_long, t_short, b_long, b_short = (totals[name] for name in TOGGLES)
    return {
        event: ((t_long[i] - t_short[i]) - (b_long[i] - b_short[i])) / n
        for i, event in enumerate(events)
    } | {"bare": (b_long[0] - b_short[0]) / n}


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("HH_", "OTEL_", "PYTHON", "HONEYHIVE"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdk", choices=("openai", "anthropic"), default="openai")
    parser.add_argument("--modes", default=f"{OURS},{OURS_WITH_SDK_CHECKS},openai-v2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seeds", default="1,2", help="comma-separated PYTHONHASHSEED values")
    parser.add_argument("--cache", action="store_true", help="also count L1 misses (slower)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 2
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in (OURS, OURS_WITH_SDK_CHECKS) and m not in PEERS]
    missing = [m for m in modes if m in PEERS and not PEERS[m].installed()]
    if unknown or missing:
        print(f"unknown modes: {unknown}" if unknown else
              f"no venv for {missing}: run `python benchmarks/peers.py setup {' '.join(missing)}`",
              file=sys.stderr)
        return 2
    seeds = [int(s) for s in args.seeds.split(",")]
    jobs = [(m, s) for m in modes for s in seeds]
    with otlp_sink() as sink, ThreadPoolExecutor(max_workers=2) as pool:
        futures = {job: pool.submit(count, job[0], args.sdk, args.rounds, job[1], args.cache,
                                    sink.url) for job in jobs}
        results = {job: f.result() for job, f in futures.items()}

    headers = ["mode", "bare Ir/chunk", "added Ir/chunk", *(["I1", "D1", "cycles (model)"]
                                                            if args.cache else [])]
    rows, cycles = [], {}
    for mode in modes:
        runs = [r for s in seeds if (r := results[(mode, s)]) is not None]
        if not runs:
            rows.append([mode, "n/a: patches elsewhere", "", *([""] * 3 if args.cache else [])])
            continue
        mean = {k: sum(r[k] for r in runs) / len(runs) for k in runs[0]}
        per_seed = " / ".join(f"{r['Ir']:+,.0f}" for r in runs)
        row = [mode, f"{mean['bare']:,.0f}", f"{mean['Ir']:+,.0f} ({per_seed})"]
        cycles[mode] = mean["Ir"]
        if args.cache:
            d1 = mean["D1mr"] + mean["D1mw"]
            cycles[mode] = mean["Ir"] / 3.5 + 14 * (mean["I1mr"] + d1)
            row += [f"{mean['I1mr']:+,.0f}", f"{d1:+,.0f}", f"~{cycles[mode]:,.0f}"]
        rows.append(row)
    print(f"Per chunk of a {args.sdk} stream, same process (traced vs __wrapped__), "
          f"seeds {seeds}, {args.rounds * PER_ROUND} streams of each kind\n")
    print(table(headers, rows))
    peers = {m: c for m, c in cycles.items() if m in PEERS}
    measure = "modelled cycles" if args.cache else "instructions"
    for ours in (m for m in (OURS, OURS_WITH_SDK_CHECKS) if m in cycles and peers):
        best = min(peers, key=lambda m: peers[m])
        print(f"\nratio {ours} / best peer ({best}), {measure}: "
              f"{cycles[ours] / peers[best]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

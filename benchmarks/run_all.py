"""Run every benchmark: set up missing peer venvs, then start-up, then overhead.

Usage::

    python benchmarks/run_all.py [--quick] [--no-setup]

``--quick`` cuts the rounds (for a smoke run: the numbers are noisier).  Each
script's table goes to stdout and to ``benchmarks/results/<name>.txt``.  The
exit code is 0 when every target was met, 1 when one was missed, 2 when a
script could not run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str, args: list[str], results: Path) -> int:
    """Run ``script`` with the current interpreter; tee its stdout to ``results``."""
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    proc = subprocess.run(
        [sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE, text=True
    )
    print(proc.stdout, end="", flush=True)
    results.mkdir(exist_ok=True)
    (results / f"{Path(script).stem}.txt").write_text(proc.stdout)
    return proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    parser.add_argument("--no-setup", action="store_true", help="do not create peer venvs")
    args = parser.parse_args()

    if not args.no_setup:
        setup = subprocess.run([sys.executable, str(HERE / "peers.py"), "setup", "--if-missing"])
        if setup.returncode != 0:
            print("note: some peer venvs could not be set up; they are skipped", file=sys.stderr)
    results = HERE / "results"
    codes = [
        run("startup.py", ["--rounds", "5" if args.quick else "15"], results),
        run("overhead.py", ["--rounds", "6" if args.quick else "30"], results),
    ]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())

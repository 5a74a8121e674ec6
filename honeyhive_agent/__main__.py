"""``python -m honeyhive_agent {run, doctor, sessions, show} ...``."""

from __future__ import annotations

import sys

from honeyhive_agent.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m honeyhive_agent"))

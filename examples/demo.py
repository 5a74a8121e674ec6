"""`make demo`: an unchanged OpenAI app traced offline, then its session shown.

1. starts a local OpenAI-compatible stub (examples/openai_stub.py),
2. runs ``honeyhive-run python examples/chat_app.py`` and
   ``honeyhive-run python examples/traced_app.py`` against it, with the
   embedded default exporter (the local SQLite store, .honeyhive/traces.db),
3. prints ``honeyhive-agent sessions`` and ``honeyhive-agent show`` for each run.

No account, no network beyond loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def _banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def main() -> int:
    stub = subprocess.Popen(
        [sys.executable, str(HERE / "openai_stub.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert stub.stdout is not None
        base_url = stub.stdout.readline().strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HH_", "HONEYHIVE_"))}
        env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-demo", HH_EXPORTERS="local")
        status = 0
        for app in ("chat_app.py", "traced_app.py"):
            _banner(f"honeyhive-run python examples/{app}")
            run = subprocess.run(
                [_tool("honeyhive-run"), sys.executable, str(HERE / app)], env=env, check=False
            )
            status = status or run.returncode
            _banner("honeyhive-agent show --last")
            subprocess.run([_tool("honeyhive-agent"), "show", "--last"], env=env, check=False)
        _banner("honeyhive-agent sessions")
        subprocess.run([_tool("honeyhive-agent"), "sessions", "--limit", "5"], env=env, check=False)
        print("\nBrowse again any time: .venv/bin/honeyhive-agent sessions | show --last")
        return status
    finally:
        stub.terminate()
        stub.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())

"""Peer instrumentation stacks and the virtualenvs they are measured in.

Each peer lives in its own virtualenv under ``benchmarks/.venvs/<peer>`` so its
dependencies never leak into the project's ``.venv`` (and vice versa).  The LLM
SDKs are pinned to the versions installed in the project's ``.venv`` so every
mode drives exactly the same client code.

Usage::

    python benchmarks/peers.py setup [PEER ...]   # create/update the venvs
    python benchmarks/peers.py list               # show what is installed
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "benchmarks" / ".venvs"
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"

# Installed in every peer venv, next to the peer's own packages.
COMMON = ("opentelemetry-distro", "opentelemetry-exporter-otlp-proto-http")
SDKS = ("openai", "anthropic")


@dataclass(frozen=True)
class Peer:
    """One third-party instrumentation stack.

    ``instrumentors`` maps an SDK name to ``"module:Class"`` of the peer's
    ``BaseInstrumentor`` for it; ``entry_points`` are the names under which the
    same instrumentors register for ``opentelemetry-instrument``.
    """

    name: str
    title: str
    packages: tuple[str, ...]
    instrumentors: dict[str, str] = field(default_factory=dict)

    @property
    def python(self) -> Path:
        return VENVS / self.name / "bin" / "python"

    @property
    def bindir(self) -> Path:
        return VENVS / self.name / "bin"

    def installed(self) -> bool:
        return self.python.exists() and (VENVS / self.name / ".ok").exists()


PEERS: dict[str, Peer] = {
    p.name: p
    for p in (
        Peer(
            "openllmetry",
            "OpenLLMetry",
            ("opentelemetry-instrumentation-openai", "opentelemetry-instrumentation-anthropic"),
            {
                "openai": "opentelemetry.instrumentation.openai:OpenAIInstrumentor",
                "anthropic": "opentelemetry.instrumentation.anthropic:AnthropicInstrumentor",
            },
        ),
        Peer(
            "openinference",
            "OpenInference",
            ("openinference-instrumentation-openai", "openinference-instrumentation-anthropic"),
            {
                "openai": "openinference.instrumentation.openai:OpenAIInstrumentor",
                "anthropic": "openinference.instrumentation.anthropic:AnthropicInstrumentor",
            },
        ),
        Peer(
            "official",
            "OTel official (genai-openai / genai-anthropic)",
            # The official openai instrumentation moved from "openai-v2" to "genai-openai";
            # the last openai-v2 (2.4b0) fails to import with the current
            # opentelemetry-util-genai, which genai-anthropic requires.
            (
                "opentelemetry-instrumentation-genai-openai",
                "opentelemetry-instrumentation-genai-anthropic",
            ),
            {
                "openai": "opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor",
                "anthropic": "opentelemetry.instrumentation.genai.anthropic:AnthropicInstrumentor",
            },
        ),
        Peer(
            "openai-v2",
            "OTel official openai-v2 (the issue's reference; openai only)",
            # 2.4b0, its last release, imports a module that util-genai 1.2 dropped, and
            # httpx, which openai 3.x (on httpx2) no longer pulls in.
            (
                "opentelemetry-instrumentation-openai-v2",
                "opentelemetry-util-genai>=0.4b0,<1.2b0",
                "httpx",
            ),
            {"openai": "opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor"},
        ),
    )
}


def sdk_pins() -> list[str]:
    """``name==version`` of the SDKs in the project's venv (the ones we benchmark)."""
    out = subprocess.run(
        [
            str(PROJECT_PYTHON),
            "-c",
            "import importlib.metadata as m, json, sys;"
            f"print(json.dumps({{n: m.version(n) for n in {list(SDKS)!r}}}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    versions: dict[str, str] = json.loads(out.stdout)
    return [f"{n}=={v}" for n, v in versions.items()]


def setup(peer: Peer, *, quiet: bool = True) -> bool:
    """Create ``peer``'s venv and install its packages; return whether it worked."""
    home = VENVS / peer.name
    marker = home / ".ok"
    marker.unlink(missing_ok=True)
    if not peer.python.exists():
        # Build from the project's interpreter so every mode runs the same CPython.
        subprocess.run([str(PROJECT_PYTHON), "-m", "venv", str(home)], check=True)
    pip = [str(peer.python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    pins = sdk_pins()
    cmd = [*pip, *COMMON, *peer.packages, *pins]
    print(f"[{peer.name}] {' '.join(cmd[len(pip):])}", file=sys.stderr)
    if subprocess.run(cmd).returncode != 0:
        # A peer may cap the SDK versions; measure it against what it accepts
        # rather than not at all (the table says which versions ran).
        print(f"[{peer.name}] pinned install failed, retrying unpinned SDKs", file=sys.stderr)
        if subprocess.run([*pip, *COMMON, *peer.packages, *SDKS]).returncode != 0:
            return False
    marker.write_text("ok\n")
    return True


def versions(python: Path, names: list[str]) -> dict[str, str]:
    """Installed versions of ``names`` in the interpreter ``python`` ("-" when absent)."""
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: out[n] = '-'\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True)
    if res.returncode != 0:
        return {n: "?" for n in names}
    parsed: dict[str, str] = json.loads(res.stdout)
    return parsed


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_setup = sub.add_parser("setup", help="create/update peer venvs")
    p_setup.add_argument("peers", nargs="*", help=f"any of {', '.join(PEERS)} (default: all)")
    p_setup.add_argument("--if-missing", action="store_true", help="skip peers already set up")
    sub.add_parser("list", help="show installed versions")
    args = parser.parse_args()
    if args.cmd == "setup":
        ok = True
        unknown = set(args.peers) - set(PEERS)
        if unknown:
            parser.error(f"unknown peer(s): {', '.join(sorted(unknown))}")
        for name in args.peers or list(PEERS):
            peer = PEERS[name]
            if args.if_missing and peer.installed():
                continue
            ok = setup(peer) and ok
        return 0 if ok else 1
    for peer in PEERS.values():
        names = [*SDKS, *peer.packages]
        state = versions(peer.python, names) if peer.installed() else "not set up"
        print(f"{peer.name:14} {state}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())

"""``honeyhive-agent``: the agent's command line.

Subcommands::

    honeyhive-agent run [OPTIONS] [--] CMD [ARGS...]   same as honeyhive-run
    honeyhive-agent doctor                              check config, backends, instrumentors
    honeyhive-agent sessions [...]                      sessions in the local store
    honeyhive-agent show [SESSION | --last]             one session as a span tree

Each subcommand lives in its own module and is imported only when used, so
``honeyhive-agent run`` starts as fast as ``honeyhive-run``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

__all__ = ["main"]

_SUMMARY = {
    "run": "run a command with tracing (same as honeyhive-run)",
    "doctor": "check the configuration, the backends and the instrumentors",
    "sessions": "list the sessions in the local store",
    "show": "print one session of the local store as a tree of spans",
}


def _usage(prog: str) -> str:
    lines = [f"usage: {prog} {{{','.join(_SUMMARY)}}} ...", "", "commands:"]
    lines += [f"  {name:<10}{text}" for name, text in _SUMMARY.items()]
    lines += ["", f"Run '{prog} COMMAND --help' for a command's options."]
    return "\n".join(lines) + "\n"


def _run(argv: list[str]) -> int:
    from honeyhive_agent.launcher import main as run_main

    return run_main(argv)


def _doctor(argv: list[str]) -> int:
    from honeyhive_agent.doctor import main as doctor_main

    return doctor_main(argv)


def _sessions(argv: list[str]) -> int:
    from honeyhive_agent.store.cli import cmd_sessions

    return cmd_sessions(argv)


def _show(argv: list[str]) -> int:
    from honeyhive_agent.store.cli import cmd_show

    return cmd_show(argv)


_COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "run": _run,
    "doctor": _doctor,
    "sessions": _sessions,
    "show": _show,
}


def main(argv: Sequence[str] | None = None, *, prog: str = "honeyhive-agent") -> int:
    """Dispatch to a subcommand; return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        (sys.stdout if args else sys.stderr).write(_usage(prog))
        return 0 if args else 2
    if args[0] == "--version":
        from honeyhive_agent import __version__

        sys.stdout.write(f"honeyhive-agent {__version__}\n")
        return 0
    command = _COMMANDS.get(args[0])
    if command is None:
        sys.stderr.write(f"{prog}: unknown command {args[0]!r}\n{_usage(prog)}")
        return 2
    try:
        return command(args[1:])
    except BrokenPipeError:
        # The reader went away (`honeyhive-agent show --json | head`): stop
        # quietly like other command-line tools, with no traceback, and keep
        # the interpreter's final flush of stdout from failing again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""What a ``python`` command line runs: ``-c``, ``-m MODULE`` or a script.

Standard library only: the bootstrap reads it in ``sitecustomize``, before
the OpenTelemetry SDK may be imported.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["python_target"]

# Options of the `python` command that take a value (`-W default`, `-X dev`).
_OPTS_WITH_VALUE = "WX"


def python_target(args: Sequence[str]) -> tuple[str, str]:
    """``(kind, what)`` for ``python ARGS`` (the arguments after the executable).

    ``("c", "")``, ``("m", module)`` (``module`` may be empty),
    ``("script", path)``, or ``("", "")`` when only options are given.
    """
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-" or not arg.startswith("-"):
            return "script", arg
        if arg.startswith("--"):
            i += 1
            continue
        # A group of short options: `-u`, `-um mod`, `-Wignore`, `-X dev`.
        for j, flag in enumerate(arg[1:], start=1):
            rest = arg[j + 1 :]
            if flag == "c":
                return "c", ""
            if flag == "m":
                return "m", rest or (args[i + 1] if i + 1 < len(args) else "")
            if flag in _OPTS_WITH_VALUE:
                if not rest:
                    i += 1
                break
        i += 1
    return "", ""

"""honeyhive-agent's bootstrap, imported at interpreter start-up.

``honeyhive-run`` puts this folder first on ``PYTHONPATH``, so every Python
process of the run imports this module before the app's code. It starts the
agent (:func:`honeyhive_agent._bootstrap.start`), then runs the
``sitecustomize`` this one shadows, if there is one, so that a user's or a
distribution's customisation still happens, after ours.

Any Python on the machine may import this file (a child process can run
another interpreter), so it is written in plain syntax and does nothing when
``honeyhive_agent`` cannot be imported. Keep this folder free of any other
importable file.
"""

import os
import sys


def _honeyhive_start():
    # type: () -> None
    if os.environ.get("HH_DISABLED", "").strip().lower() in ("1", "true", "yes", "on"):
        return
    try:
        from honeyhive_agent import _bootstrap
    except Exception as exc:  # noqa: BLE001 - this interpreter has no agent: run untraced
        if os.environ.get("HH_RUN_PID") == str(os.getpid()):
            # The program honeyhive-run started (same pid after exec): say why
            # nothing will be traced. Its descendants stay quiet.
            message = "honeyhive-agent: WARNING: honeyhive_agent cannot be imported by {} ({}); "
            sys.stderr.write(message.format(sys.executable, exc) + "the app runs untraced\n")
        return
    _bootstrap.start("sitecustomize")


def _honeyhive_chain():
    # type: () -> None
    """Run the next ``sitecustomize`` on sys.path, as ``sitecustomize``."""
    here = os.path.dirname(os.path.realpath(__file__))
    path = []
    for entry in sys.path:
        try:
            # realpath: the folder may be on sys.path through a symlink too.
            same = os.path.realpath(entry or os.curdir) == here
        except Exception:  # noqa: BLE001
            same = False
        if not same:
            path.append(entry)
    # importlib._bootstrap is loaded (frozen) in every interpreter;
    # importlib.util would cost start-up time for the same function.
    from importlib._bootstrap import module_from_spec
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = module_from_spec(spec)
    # The user's module is *the* sitecustomize from now on; if it raises,
    # site.py reports it exactly as it would have without us.
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


try:  # noqa: SIM105 - contextlib would cost start-up time
    _honeyhive_start()
except Exception:  # noqa: BLE001 - never stop the interpreter from starting
    pass

_honeyhive_chain()

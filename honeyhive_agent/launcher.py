"""``honeyhive-run``: run an unchanged program with the agent loaded.

Usage::

    honeyhive-run [--config FILE] [--project P] [--session-name N] [--exporter X] [--] CMD [ARGS...]

The launcher resolves ``CMD`` like a shell would (an existing file path
first, then ``PATH``), prepends the agent's bootstrap folder to
``PYTHONPATH`` so that every Python process started from here imports our
``sitecustomize``, passes its options on through the environment and then
``exec``\\ s ``CMD``. The program therefore keeps its own pid, exit code,
signals and stdio: the launcher is gone before the program starts.

Nothing here imports the rest of the agent; start-up cost lives in the
bootstrap, not here.
"""

from __future__ import annotations

import errno
import os
import stat
import sys

TYPE_CHECKING = False  # typing / collections.abc cost start-up time, for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["BOOTSTRAP_DIR", "LaunchError", "Options", "build_env", "main", "parse_args", "resolve"]

BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap")
"""The folder holding only our ``sitecustomize.py``; it goes first on PYTHONPATH."""

PID_ENV = "HH_RUN_PID"
"""Set to the launcher's pid; after ``exec`` the program has the same pid, which
lets the bootstrap tell the program itself from its descendants."""

RUN_DIR_ENV = "HH_RUN_DIR"
"""The directory the run started in: a relative ``local.path`` is under it in
every process of the run, whatever directory a child runs in."""

PROG = "honeyhive-run"
USAGE = (
    f"usage: {PROG} [--config FILE] [--project P] [--session-name N] [--exporter X] "
    "[--] CMD [ARGS...]"
)
HELP = f"""{USAGE}

Run CMD with HoneyHive tracing: every OpenAI/Anthropic call it (or any Python
process it starts) makes becomes a span in a HoneyHive session.

options:
  --config FILE        YAML configuration file (default: $HONEYHIVE_CONFIG or ./honeyhive.yaml)
  --project P          HoneyHive project (sets HH_PROJECT)
  --session-name N     session name (sets HH_SESSION_NAME; default: the script or module)
  --exporter X         honeyhive, otlp, console, local or none; repeatable (sets HH_EXPORTERS)
  --                   end of options: everything after it is the command
  -h, --help           show this help and exit
  --version            show the agent's version and exit

examples:
  {PROG} python app.py
  {PROG} --exporter console -- uvicorn app:app --port 8000
"""

_VALUE_OPTIONS = {
    "--config": "config",
    "--project": "project",
    "--session-name": "session_name",
    "--exporter": "exporters",
}


class LaunchError(Exception):
    """The command cannot be run; ``code`` is the shell-style exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Options:
    """What the command line asked for.

    A plain class, not a dataclass: ``dataclasses`` imports ``inspect``,
    which alone costs the launcher several milliseconds of start-up.
    """

    __slots__ = ("command", "config", "exporters", "help", "project", "session_name", "version")

    def __init__(
        self,
        command: list[str] | None = None,
        config: str | None = None,
        project: str | None = None,
        session_name: str | None = None,
        exporters: list[str] | None = None,
        help: bool = False,
        version: bool = False,
    ) -> None:
        self.command: list[str] = command or []
        self.config = config
        self.project = project
        self.session_name = session_name
        self.exporters: list[str] = exporters or []
        self.help = help
        self.version = version


def parse_args(argv: Sequence[str]) -> Options:
    """Split ``argv`` into the launcher's options and the command.

    Options are only recognised before the command: in
    ``honeyhive-run python app.py --config x`` the ``--config`` is the app's.

    Raises:
        LaunchError: an unknown option or a missing value (exit code 2).
    """
    opts = Options()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            opts.command = args[i + 1 :]
            return opts
        if arg in ("-h", "--help"):
            opts.help = True
            return opts
        if arg == "--version":
            opts.version = True
            return opts
        if not arg.startswith("-") or arg == "-":
            opts.command = args[i:]
            return opts
        name, eq, value = arg.partition("=")
        attr = _VALUE_OPTIONS.get(name)
        if attr is None:
            raise LaunchError(f"unknown option {arg!r}\n{USAGE}", 2)
        if not eq:
            if i + 1 >= len(args):
                raise LaunchError(f"option {name} needs a value\n{USAGE}", 2)
            i += 1
            value = args[i]
        if attr == "exporters":
            opts.exporters.extend(v.strip() for v in value.split(",") if v.strip())
        else:
            setattr(opts, attr, value)
        i += 1
    return opts


def _is_executable_file(path: str) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and os.access(path, os.X_OK)


def _not_executable(path: str, typed: str) -> LaunchError:
    if os.path.isdir(path):
        return LaunchError(f"{typed}: is a directory", 126)
    message = f"{typed}: permission denied (not executable)"
    if typed.endswith(".py"):
        message += f"; did you mean '{PROG} python {typed}'?"
    return LaunchError(message, 126)


def resolve(command: str, env: Mapping[str, str] | None = None) -> str:
    """Return the path ``command`` runs, the way a shell finds it.

    A path to an existing file wins (``app.py`` in the current directory
    included); otherwise ``command`` is looked up on ``PATH``.

    Raises:
        LaunchError: not found (127) or found but not executable (126).
    """
    env = os.environ if env is None else env
    if not command:
        raise LaunchError("empty command", 127)
    has_slash = os.sep in command or bool(os.altsep and os.altsep in command)
    # A bare name only matches a *file* here: a folder that happens to share
    # the command's name (`python/`, `gunicorn/`) must not hide the command.
    if os.path.isfile(command) or (has_slash and os.path.lexists(command)):
        if _is_executable_file(command):
            return command
        raise _not_executable(command, command)
    if has_slash:
        raise LaunchError(f"{command}: no such file or directory", 127)
    blocked: str | None = None
    for folder in env.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", command)
        if _is_executable_file(candidate):
            return candidate
        if blocked is None and os.path.isfile(candidate):
            blocked = candidate
    if blocked is not None:
        raise _not_executable(blocked, command)
    message = f"{command}: command not found"
    if command.endswith(".py"):
        message += f"; did you mean '{PROG} python {command}'?"
    raise LaunchError(message, 127)


def _prepend_path(current: str | None, folder: str) -> str:
    # Never add an empty entry (it would put the working directory on
    # sys.path), but keep the user's own: `PYTHONPATH=:lib` means "the working
    # directory, then lib" to their app, with or without the agent.
    if not current:
        return folder
    parts = [p for p in current.split(os.pathsep) if p != folder]
    return os.pathsep.join([folder, *parts])


def build_env(opts: Options, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the command runs with: ``base`` plus the agent's settings."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = _prepend_path(env.get("PYTHONPATH"), BOOTSTRAP_DIR)
    if opts.config is not None:
        # Absolute, because the program may change directory before it loads config.
        env["HONEYHIVE_CONFIG"] = os.path.abspath(opts.config)
    if opts.project is not None:
        env["HH_PROJECT"] = opts.project
    if opts.session_name is not None:
        env["HH_SESSION_NAME"] = opts.session_name
    if opts.exporters:
        env["HH_EXPORTERS"] = ",".join(opts.exporters)
    env[PID_ENV] = str(os.getpid())
    try:
        env[RUN_DIR_ENV] = os.getcwd()
    except OSError:  # the working directory was removed: children use their own
        env.pop(RUN_DIR_ENV, None)
    # A new run reports its own problems, even under a run that already did.
    env.pop("HH_BOOTSTRAP_REPORTED", None)
    return env


def _error(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


def _version() -> str:
    from honeyhive_agent import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``honeyhive-run``; only returns when the command cannot run."""
    args = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_args(args)
        if opts.help:
            sys.stdout.write(HELP)
            return 0
        if opts.version:
            sys.stdout.write(f"{PROG} (honeyhive-agent) {_version()}\n")
            return 0
        if not opts.command:
            raise LaunchError(f"no command given\n{USAGE}", 2)
        env = build_env(opts)
        path = resolve(opts.command[0], env)
    except LaunchError as exc:
        _error(str(exc))
        return exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        try:
            os.execve(path, opts.command, env)
        except OSError as exc:
            if exc.errno != errno.ENOEXEC:
                raise
            # A script without '#!': shells (and execvp) hand it to /bin/sh.
            os.execve("/bin/sh", ["/bin/sh", path, *opts.command[1:]], env)
    except OSError as exc:
        # exec failed after resolving: a bad '#!' interpreter, no '#!' at all
        # (ENOEXEC), or a race with the file system. Report like a shell.
        code = 127 if isinstance(exc, FileNotFoundError) else 126
        _error(f"{opts.command[0]}: {exc.strerror or exc}")
        return code
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``honeyhive-agent sessions`` and ``honeyhive-agent show``: views of the local store.

Both print to stdout (that is their output) and report problems on stderr
with exit code 1: no store at the path, no such session.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from honeyhive_agent.config.model import DEFAULT_LOCAL_PATH

if TYPE_CHECKING:
    from honeyhive_agent.store.db import LocalStore
    from honeyhive_agent.store.records import SessionSummary, StoredSpan

__all__ = ["cmd_sessions", "cmd_show", "default_db_path", "render_tree"]


def default_db_path() -> str:
    """The configured ``local.path`` of the default tracer, else ``.honeyhive/traces.db``."""
    try:
        from honeyhive_agent.config.loader import load_config

        return str(load_config().default_tracer.local.path)
    except Exception:  # noqa: BLE001 - a broken config must not hide the store
        return DEFAULT_LOCAL_PATH


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace | int:
    try:
        return parser.parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)


def _open_store(db: str | None) -> LocalStore | None:
    from honeyhive_agent.store.db import LocalStore

    store = LocalStore(db or default_db_path())
    if not store.exists:
        print(
            f"honeyhive-agent: no local store at {store.path} "
            "(run your app with the 'local' exporter first, or pass --db PATH)",
            file=sys.stderr,
        )
        return None
    return store


def _when(ns: int) -> str:
    if not ns:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- sessions


def cmd_sessions(argv: Sequence[str]) -> int:
    """``sessions [--db PATH] [--limit N] [--json]``: the latest sessions, newest first."""
    parser = argparse.ArgumentParser(
        prog="honeyhive-agent sessions", description="List sessions in the local span store."
    )
    parser.add_argument("--db", metavar="PATH", help="store path (default: from config)")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="at most N (20)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    store = _open_store(args.db)
    if store is None:
        return 1
    try:
        sessions = store.list_sessions(limit=args.limit)
    except Exception as exc:  # noqa: BLE001 - e.g. not a database: say so, no traceback
        print(f"honeyhive-agent: cannot read {store.path}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.json:
        json.dump([s.to_dict() for s in sessions], sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not sessions:
        print(f"no sessions in {store.path}")
    else:
        _print_table(sessions, sys.stdout)
    return 0


def _print_table(sessions: Sequence[SessionSummary], out: TextIO) -> None:
    headers = ("STARTED (UTC)", "SESSION", "NAME", "SPANS", "TOKENS", "ERRORS")
    rows = [
        (
            _when(s.start_ns),
            s.session_id,
            s.name or "-",
            str(s.span_count),
            str(s.total_tokens),
            str(s.error_count),
        )
        for s in sessions
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = {3, 4, 5}

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    out.write(line(headers) + "\n")
    for row in rows:
        out.write(line(row) + "\n")


# --------------------------------------------------------------------------- show


def cmd_show(argv: Sequence[str]) -> int:
    """``show [SESSION_ID_OR_PREFIX | --last] [--db PATH] [--json]``: one session as a tree."""
    parser = argparse.ArgumentParser(
        prog="honeyhive-agent show", description="Print a session as an indented tree of spans."
    )
    parser.add_argument("session", nargs="?", metavar="SESSION_ID_OR_PREFIX")
    parser.add_argument("--last", action="store_true", help="the latest session (the default)")
    parser.add_argument("--db", metavar="PATH", help="store path (default: from config)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a tree")
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    if args.last and args.session:
        print("honeyhive-agent show: give a session id or --last, not both", file=sys.stderr)
        return 2
    store = _open_store(args.db)
    if store is None:
        return 1
    try:
        from honeyhive_agent.store.db import AmbiguousSessionError

        try:
            session_id = store.resolve(args.session)
        except AmbiguousSessionError as exc:
            print(f"honeyhive-agent: {exc}", file=sys.stderr)
            return 1
        summary = store.session(session_id) if session_id else None
        if session_id is None or summary is None:
            what = f"no session matching {args.session!r}" if args.session else "no sessions"
            print(f"honeyhive-agent: {what} in {store.path}", file=sys.stderr)
            return 1
        spans = store.spans(session_id)
    except Exception as exc:  # noqa: BLE001
        print(f"honeyhive-agent: cannot read {store.path}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.json:
        doc = {
            "session": summary.to_dict(),
            "spans": [dict(s.to_dict(), depth=d) for d, s, _ in _walk(spans)],
        }
        json.dump(doc, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(_header(summary))
    sys.stdout.write(render_tree(spans, ascii_only=not _can_encode(sys.stdout, "├─│└")))
    return 0


def _can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _header(s: SessionSummary) -> str:
    name = f'  "{s.name}"' if s.name else ""
    meta = "".join(
        f"  {key}={value}" for key, value in (("project", s.project), ("source", s.source)) if value
    )
    tokens = f"{s.total_tokens} ({s.input_tokens} in, {s.output_tokens} out)"
    return (
        f"session {s.session_id}{name}{meta}\n"
        f"started {_when(s.start_ns)} UTC  duration {s.duration_ms:.1f} ms  "
        f"spans {s.span_count}  tokens {tokens}  errors {s.error_count}\n\n"
    )


def _walk(spans: Sequence[StoredSpan]) -> list[tuple[int, StoredSpan, bool]]:
    """Depth-first ``(depth, span, is_last_child)``; spans whose parent is not here are roots."""
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[StoredSpan]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    out: list[tuple[int, StoredSpan, bool]] = []
    seen: set[str] = set()
    roots = children.get(None, [])
    # An explicit stack: a deep agent loop must not hit the recursion limit.
    stack = [(0, span, i == len(roots) - 1) for i, span in reversed(list(enumerate(roots)))]
    while stack:
        depth, span, is_last = stack.pop()
        if span.span_id in seen:  # a malformed store must not loop forever
            continue
        seen.add(span.span_id)
        out.append((depth, span, is_last))
        kids = children.get(span.span_id, [])
        stack.extend(
            (depth + 1, kid, i == len(kids) - 1) for i, kid in reversed(list(enumerate(kids)))
        )
    return out


def _describe(span: StoredSpan) -> str:
    parts: list[Any] = [span.name]
    if span.event_type:
        parts.append(f"[{span.event_type}]")
    if span.model:
        parts.append(span.model)
    parts.append(f"{span.duration_ms:.1f} ms")
    if span.input_tokens is not None or span.output_tokens is not None:
        tin = "?" if span.input_tokens is None else span.input_tokens
        tout = "?" if span.output_tokens is None else span.output_tokens
        parts.append(f"tokens {tin} in / {tout} out")
    if span.status == "ERROR":
        parts.append(f"ERROR: {span.error}" if span.error else "ERROR")
    return "  ".join(str(p) for p in parts)


def render_tree(spans: Sequence[StoredSpan], *, ascii_only: bool = False) -> str:
    """The spans as an indented tree, one line each::

        app.py  [chain]  812.3 ms
        ├─ openai.chat  [model]  gpt-4o  310.2 ms  tokens 12 in / 40 out
        └─ lookup  [tool]  1.2 ms  ERROR: KeyError: 'x'
    """
    tee, last, bar = ("|- ", "`- ", "|  ") if ascii_only else ("├─ ", "└─ ", "│  ")
    lines = []
    # open_levels[i]: whether the ancestor at depth i+1 still has siblings below.
    open_levels: list[bool] = []
    for depth, span, is_last in _walk(spans):
        if depth == 0:
            open_levels = []
            lines.append(_describe(span))
            continue
        del open_levels[depth - 1 :]
        prefix = "".join(bar if still_open else "   " for still_open in open_levels)
        lines.append(prefix + (last if is_last else tee) + _describe(span))
        open_levels.append(not is_last)
    return "\n".join(lines) + ("\n" if lines else "")

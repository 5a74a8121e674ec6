"""The local SQLite span store: one file, many writer processes.

WAL mode lets readers (``honeyhive-agent sessions``) run while processes
write; each write is one short ``BEGIN IMMEDIATE`` transaction under a busy
timeout, so concurrent writers queue instead of failing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from honeyhive_agent.config.model import DEFAULT_LOCAL_PATH
from honeyhive_agent.store.records import SessionSummary, StoredSpan, span_row

__all__ = ["AmbiguousSessionError", "LocalStore"]

SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    name       TEXT,
    project    TEXT,
    source     TEXT,
    start_ns   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS spans (
    trace_id       TEXT NOT NULL,
    span_id        TEXT NOT NULL,
    parent_span_id TEXT,
    session_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT,
    start_ns       INTEGER NOT NULL,
    end_ns         INTEGER NOT NULL,
    status         TEXT,
    error          TEXT,
    event_type     TEXT,
    model          TEXT,
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    attributes     TEXT,
    resource       TEXT,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_by_session ON spans (session_id, start_ns);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions (start_ns);
"""

_SPAN_COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "session_id", "name", "kind", "start_ns", "end_ns",
    "status", "error", "event_type", "model", "input_tokens", "output_tokens", "attributes",
    "resource",
)
_INSERT_SPAN = (
    f"INSERT OR REPLACE INTO spans ({', '.join(_SPAN_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _SPAN_COLUMNS)})"
)
# A session row is created by its first span and completed by later ones:
# the earliest start wins, and fields only fill in where still unknown.
_UPSERT_SESSION = """
INSERT INTO sessions (session_id, name, project, source, start_ns)
VALUES (:session_id, :name, :project, :source, :start_ns)
ON CONFLICT (session_id) DO UPDATE SET
    name = COALESCE(sessions.name, excluded.name),
    project = COALESCE(sessions.project, excluded.project),
    source = COALESCE(sessions.source, excluded.source),
    start_ns = MIN(sessions.start_ns, excluded.start_ns)
"""
_SUMMARY = """
SELECT s.session_id, s.name, s.project, s.source, s.start_ns,
       MAX(p.end_ns), COUNT(p.span_id),
       COALESCE(SUM(p.input_tokens), 0), COALESCE(SUM(p.output_tokens), 0),
       COALESCE(SUM(p.status = 'ERROR'), 0),
       (SELECT r.name FROM spans r WHERE r.session_id = s.session_id
        ORDER BY (r.parent_span_id IS NOT NULL), r.start_ns LIMIT 1)
FROM sessions s LEFT JOIN spans p ON p.session_id = s.session_id
"""


class AmbiguousSessionError(LookupError):
    """A session id prefix matches more than one session."""

    def __init__(self, prefix: str, matches: Sequence[str]) -> None:
        self.prefix = prefix
        self.matches = list(matches)
        shown = ", ".join(self.matches[:5]) + (", ..." if len(self.matches) > 5 else "")
        super().__init__(f"session prefix {prefix!r} is ambiguous: {shown}")


class LocalStore:
    """Read and write the local span database.

    Usage::

        store = LocalStore(".honeyhive/traces.db")
        store.write_spans(spans)              # creates the file and directory
        for s in store.list_sessions(limit=20):
            print(s.session_id, s.span_count)
        sid = store.resolve(None)             # the latest session
        tree = store.spans(sid)

    Reading never creates the file: queries on a missing store return
    nothing. One connection per process, shared by threads under a lock and
    dropped (not closed) in a forked child.
    """

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_LOCAL_PATH) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    # -- connection

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._pid != os.getpid():
            # A connection must never cross a fork: SQLite's locks are per process.
            self.reset_after_fork()
        if self._conn is not None:
            return self._conn
        if not create and not self.exists:
            return None
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(self.path),
            timeout=_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # autocommit; transactions are explicit
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            self._retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
            if create:
                self._retry_locked(lambda: conn.executescript(_SCHEMA))
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @staticmethod
    def _retry_locked(action: Any, attempts: int = 20) -> Any:
        # The busy handler does not cover every lock conflict (switching to
        # WAL while another process opens the file, for one): retry briefly.
        for attempt in range(attempts):
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        return None

    def reset_after_fork(self) -> None:
        """Forget a connection inherited from the parent process (never close it)."""
        self._conn = None
        self._pid = os.getpid()
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            conn.close()

    # -- writing

    def write_spans(self, spans: Iterable[ReadableSpan]) -> int:
        """Store ``spans`` (idempotent per trace/span id); returns how many."""
        rows = []
        sessions: dict[str, dict[str, Any]] = {}
        for span in spans:
            row, session = span_row(span)
            rows.append(row)
            known = sessions.get(session["session_id"])
            if known is None:
                sessions[session["session_id"]] = session
            else:
                for key in ("name", "project", "source"):
                    known[key] = known[key] or session[key]
                known["start_ns"] = min(known["start_ns"], session["start_ns"])
        if not rows:
            return 0
        with self._lock:
            conn = self._connect(create=True)
            assert conn is not None

            def transaction() -> None:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(_UPSERT_SESSION, list(sessions.values()))
                    conn.executemany(_INSERT_SPAN, rows)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")

            # The busy timeout already waits for other writers; retry only a little.
            self._retry_locked(transaction, attempts=3)
        return len(rows)

    # -- reading

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            conn = self._connect(create=False)
            if conn is None:
                return []
            try:
                return list(conn.execute(sql, params).fetchall())
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []
                raise

    def list_sessions(self, limit: int | None = 20) -> list[SessionSummary]:
        """The latest sessions first, with span, token and error counts."""
        sql = _SUMMARY + " GROUP BY s.session_id ORDER BY s.start_ns DESC, s.rowid DESC"
        params: list[Any] = []
        if limit is not None and limit > 0:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._summary(row) for row in self._query(sql, params)]

    def session(self, session_id: str) -> SessionSummary | None:
        rows = self._query(_SUMMARY + " WHERE s.session_id = ? GROUP BY s.session_id",
                           [session_id])
        return self._summary(rows[0]) if rows else None

    def resolve(self, session_id_or_prefix: str | None = None) -> str | None:
        """The full id of a session given its id or a unique prefix; ``None`` is the latest.

        Returns ``None`` when nothing matches; raises
        :class:`AmbiguousSessionError` when a prefix matches several.
        """
        if session_id_or_prefix is None:
            rows = self._query(
                "SELECT session_id FROM sessions ORDER BY start_ns DESC, rowid DESC LIMIT 1"
            )
            return str(rows[0][0]) if rows else None
        wanted = session_id_or_prefix.strip()
        if not wanted:
            return None
        if self._query("SELECT 1 FROM sessions WHERE session_id = ?", [wanted]):
            return wanted
        escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._query(
            "SELECT session_id FROM sessions WHERE session_id LIKE ? ESCAPE '\\' "
            "ORDER BY start_ns DESC LIMIT 50",
            [escaped + "%"],
        )
        if not rows:
            return None
        if len(rows) > 1:
            raise AmbiguousSessionError(wanted, [str(r[0]) for r in rows])
        return str(rows[0][0])

    def spans(self, session_id: str) -> list[StoredSpan]:
        """Every span of a session, in start order."""
        rows = self._query(
            f"SELECT {', '.join(_SPAN_COLUMNS)} FROM spans WHERE session_id = ? "
            "ORDER BY start_ns, end_ns DESC",
            [session_id],
        )
        out = []
        for row in rows:
            values = dict(zip(_SPAN_COLUMNS, row, strict=True))
            values["attributes"] = _loads(values["attributes"])
            values["resource"] = _loads(values["resource"])
            out.append(StoredSpan(**values))
        return out

    @staticmethod
    def _summary(row: tuple[Any, ...]) -> SessionSummary:
        (sid, name, project, source, start, end, count, tin, tout, errors, root_name) = row
        return SessionSummary(
            session_id=sid,
            name=name or root_name,
            project=project,
            source=source,
            start_ns=int(start or 0),
            end_ns=int(end or start or 0),
            span_count=int(count or 0),
            input_tokens=int(tin or 0),
            output_tokens=int(tout or 0),
            error_count=int(errors or 0),
        )


def _loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

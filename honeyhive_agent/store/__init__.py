"""The local SQLite span store and its ``sessions`` / ``show`` views.

``sqlite3`` is imported only when a store is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from honeyhive_agent._lazy import lazy_getattr

if TYPE_CHECKING:
    from honeyhive_agent.store.db import AmbiguousSessionError, LocalStore
    from honeyhive_agent.store.records import SessionSummary, StoredSpan

__all__ = ["AmbiguousSessionError", "LocalStore", "SessionSummary", "StoredSpan"]

_LAZY = {
    "LocalStore": "honeyhive_agent.store.db",
    "AmbiguousSessionError": "honeyhive_agent.store.db",
    "SessionSummary": "honeyhive_agent.store.records",
    "StoredSpan": "honeyhive_agent.store.records",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())

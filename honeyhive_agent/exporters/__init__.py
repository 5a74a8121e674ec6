"""Exporters and the bounded batch processor in front of each of them.

Everything is imported lazily: ``import honeyhive_agent.exporters`` costs
nothing, and ``httpx``, protobuf and ``sqlite3`` load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from honeyhive_agent._lazy import lazy_getattr

if TYPE_CHECKING:
    from honeyhive_agent.exporters.batch import (
        BoundedBatchSpanProcessor,
        set_export_on_local_root_end,
    )
    from honeyhive_agent.exporters.console import ConsoleSpanExporter
    from honeyhive_agent.exporters.factory import build_exporter, build_span_processors
    from honeyhive_agent.exporters.local import LocalSpanExporter
    from honeyhive_agent.exporters.otlp_http import OtlpHttpSpanExporter
    from honeyhive_agent.store.db import LocalStore

__all__ = [
    "BoundedBatchSpanProcessor",
    "ConsoleSpanExporter",
    "LocalSpanExporter",
    "LocalStore",
    "OtlpHttpSpanExporter",
    "build_exporter",
    "build_span_processors",
    "set_export_on_local_root_end",
]

_LAZY = {
    "BoundedBatchSpanProcessor": "honeyhive_agent.exporters.batch",
    "set_export_on_local_root_end": "honeyhive_agent.exporters.batch",
    "ConsoleSpanExporter": "honeyhive_agent.exporters.console",
    "build_exporter": "honeyhive_agent.exporters.factory",
    "build_span_processors": "honeyhive_agent.exporters.factory",
    "LocalSpanExporter": "honeyhive_agent.exporters.local",
    "OtlpHttpSpanExporter": "honeyhive_agent.exporters.otlp_http",
    "LocalStore": "honeyhive_agent.store.db",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())

"""Decorators and enrichment: add your own steps to a HoneyHive session.

``trace`` and ``trace_class`` turn calls into spans; ``enrich_span`` and
``enrich_session`` attach data from inside them. All four are also exported
from :mod:`honeyhive_agent`. ``install_thread_context_propagation`` is the
hook the bootstrap calls so spans follow work into ``ThreadPoolExecutor``
threads (the decorators install it themselves on first use).

Names are loaded on first access, so the bootstrap can import
:mod:`honeyhive_agent.decorators.context` (stdlib only) without paying for
OpenTelemetry and wrapt at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from honeyhive_agent._lazy import lazy_getattr

_EXPORTS = {
    "MAX_YIELDED_ITEMS": "honeyhive_agent.decorators._generators",
    "enrich_session": "honeyhive_agent.decorators.enrich",
    "enrich_span": "honeyhive_agent.decorators.enrich",
    "install_thread_context_propagation": "honeyhive_agent.decorators.context",
    "is_traced": "honeyhive_agent.decorators.traced",
    "no_trace": "honeyhive_agent.decorators.traced_class",
    "trace": "honeyhive_agent.decorators.traced",
    "trace_class": "honeyhive_agent.decorators.traced_class",
    "uninstall_thread_context_propagation": "honeyhive_agent.decorators.context",
}

__all__ = [
    "MAX_YIELDED_ITEMS",
    "enrich_session",
    "enrich_span",
    "install_thread_context_propagation",
    "is_traced",
    "no_trace",
    "trace",
    "trace_class",
    "uninstall_thread_context_propagation",
]

if TYPE_CHECKING:
    from honeyhive_agent.decorators._generators import MAX_YIELDED_ITEMS as MAX_YIELDED_ITEMS
    from honeyhive_agent.decorators.context import (
        install_thread_context_propagation as install_thread_context_propagation,
    )
    from honeyhive_agent.decorators.context import (
        uninstall_thread_context_propagation as uninstall_thread_context_propagation,
    )
    from honeyhive_agent.decorators.enrich import enrich_session as enrich_session
    from honeyhive_agent.decorators.enrich import enrich_span as enrich_span
    from honeyhive_agent.decorators.traced import is_traced as is_traced
    from honeyhive_agent.decorators.traced import trace as trace
    from honeyhive_agent.decorators.traced_class import no_trace as no_trace
    from honeyhive_agent.decorators.traced_class import trace_class as trace_class


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted(__all__)

"""Decorators and enrichment: add your own steps to a HoneyHive session.

``trace`` and ``trace_class`` turn calls into spans; ``enrich_span`` and
``enrich_session`` attach data from inside them. All four are also exported
from :mod:`honeyhive_agent`. ``install_thread_context_propagation`` is the
hook the bootstrap calls so spans follow work into ``ThreadPoolExecutor``
threads (the decorators install it themselves on first use).
"""

from honeyhive_agent.decorators.context import (
    install_thread_context_propagation,
    uninstall_thread_context_propagation,
)
from honeyhive_agent.decorators.enrich import enrich_session, enrich_span
from honeyhive_agent.decorators.traced import MAX_YIELDED_ITEMS, is_traced, trace
from honeyhive_agent.decorators.traced_class import no_trace, trace_class

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

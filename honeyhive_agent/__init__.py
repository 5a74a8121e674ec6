"""honeyhive-agent: zero-code OpenTelemetry tracing for LLM applications.

Run an unchanged app as ``honeyhive-run python app.py``; optionally add your
own steps with :func:`trace`, :func:`trace_class`, :func:`enrich_span` and
:func:`enrich_session`. Importing this package is cheap: the public names are
loaded on first use, so the bootstrap adds almost nothing to start-up.
"""

from __future__ import annotations

from honeyhive_agent._lazy import lazy_getattr

# Not `from typing import TYPE_CHECKING`: `typing` costs this import (and
# honeyhive-run, which imports the package) several milliseconds.
TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "trace": "honeyhive_agent.decorators",
    "trace_class": "honeyhive_agent.decorators",
    "enrich_span": "honeyhive_agent.decorators",
    "enrich_session": "honeyhive_agent.decorators",
    "HoneyHiveTracer": "honeyhive_agent.tracer",
    "get_tracer": "honeyhive_agent.tracer",
    "init": "honeyhive_agent.tracer",
    "flush": "honeyhive_agent.tracer",
    "shutdown": "honeyhive_agent.tracer",
    "load_config": "honeyhive_agent.config.loader",
    "ConfigurationError": "honeyhive_agent.errors",
    "HoneyHiveError": "honeyhive_agent.errors",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from typing import Any

    # "X as X": explicit re-exports, so `from honeyhive_agent import trace`
    # type-checks under mypy --strict (no implicit re-export).
    from honeyhive_agent.config.loader import load_config as load_config
    from honeyhive_agent.decorators import enrich_session as enrich_session
    from honeyhive_agent.decorators import enrich_span as enrich_span
    from honeyhive_agent.decorators import trace as trace
    from honeyhive_agent.decorators import trace_class as trace_class
    from honeyhive_agent.errors import ConfigurationError as ConfigurationError
    from honeyhive_agent.errors import HoneyHiveError as HoneyHiveError
    from honeyhive_agent.tracer import HoneyHiveTracer as HoneyHiveTracer
    from honeyhive_agent.tracer import flush as flush
    from honeyhive_agent.tracer import get_tracer as get_tracer
    from honeyhive_agent.tracer import init as init
    from honeyhive_agent.tracer import shutdown as shutdown


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted(__all__)

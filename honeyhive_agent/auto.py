"""``import honeyhive_agent.auto``: the zero-code bootstrap, in-process.

Put it first in an entry point where ``honeyhive-run`` cannot be used
(uWSGI, notebooks, serverless handlers)::

    import honeyhive_agent.auto  # noqa: F401
    import openai

It does exactly what the ``sitecustomize`` of ``honeyhive-run`` does: loads
the configuration, registers the lazy instrumentor hooks (a library imported
before this line is patched at once) and hands the session id down to child
processes. Like the launcher it never raises and honours ``HH_DISABLED``.
"""

from __future__ import annotations

from honeyhive_agent._bootstrap import start as _start

_start("honeyhive_agent.auto")

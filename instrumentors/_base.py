"""The shared base of every LLM library instrumentor: lazy, guarded, reversible patching.

How a library instrumentor is written
-------------------------------------
Subclass :class:`LLMInstrumentor` (or, for a library the zero-code bootstrap
patches, :class:`~instrumentors._patcher.LLMPatcher`: see below), set three
class attributes and return a declarative patch table from
:meth:`~LLMInstrumentor.patches`::

    class AcmeInstrumentor(LLMInstrumentor):
        name = "acme"                        # key in instrumentors.KNOWN and in the config
        library = "acme"                     # the import name of the SDK
        dependencies = ("acme >= 1.0",)      # requirement strings, as in pyproject

        def patches(self) -> Sequence[Patch]:
            return (
                Patch("acme.resources.chat", "Chat.create", chat_wrapper(operation="chat")),
                Patch("acme.resources.chat", "AsyncChat.create", chat_wrapper(..., is_async=True)),
            )

A :class:`Patch` names a module, a dotted ``"Class.method"`` inside it and a
*wrapper factory*. The factory runs once, at patch time, with the
instrumentor as its only argument, and returns a wrapt wrapper
``wrapper(wrapped, instance, args, kwargs)``. Precompute everything that does
not depend on the call (operation name, provider, which keyword arguments map
to which attributes) in the factory, so the per-call path stays short.
Inside the wrapper:

* return ``wrapped(*args, **kwargs)`` untouched when ``inst.should_skip_call()``
  is true (OpenTelemetry suppression, a peer-conflict policy, or a call nested
  in another traced call of the same library);
* wrap the SDK call in ``token = inst.enter_call()`` / ``inst.exit_call(token)``
  so that nested calls (SDK helpers calling patched methods) are skipped;
* start spans with ``inst.tracer`` and turn values into attributes with
  ``inst.serializer`` (the helpers in :mod:`instrumentors._span` and
  :mod:`instrumentors._stream` do both);
* never let the agent's own failures reach the app: only the exception raised
  by ``wrapped`` itself may propagate, unchanged.

Patching is lazy: each patch module that is already imported is patched at
once, every other one through a post-import hook
(:func:`honeyhive_agent._hooks.when_imported`) when the app imports it, so
nothing here imports the SDK (nor wrapt or OpenTelemetry before the first
patch; a patch table's factories should import their wrapper modules lazily
too, see ``instrumentors.openai``). ``hh_tracer`` (a ``HoneyHiveTracer`` or a zero-argument
callable returning one) is resolved only when the first patch is applied.
Every hook and every patch is guarded: a failure undoes this instrumentor's
patches, logs one warning and never breaks the app's import. Targets missing
in an older or newer SDK are skipped quietly (debug log). ``instrument()`` is
idempotent; ``uninstrument()`` removes every wrapper and disarms pending hooks.
:attr:`LLMInstrumentor.patched_targets` lists what is currently wrapped (for
peer-conflict detection), and :attr:`LLMInstrumentor.calls_disabled` switches
our spans off for every call without unpatching.

Two faces, one engine
---------------------
The engine is :class:`~instrumentors._patcher.LLMPatcher`, which does not
import ``opentelemetry.instrumentation``: the bootstrap patches a library from
inside the app's ``import`` of it, and ``BaseInstrumentor`` (with its
``packaging`` requirement parser) would add to that import. A library package
therefore defines its patch table on an ``LLMPatcher`` subclass
(``OpenAIPatcher``) and its public ``XInstrumentor`` as
``class OpenAIInstrumentor(OpenAIPatcher, LLMInstrumentor)``, in a module the
package loads on first access (``instrumentors.openai.OpenAIInstrumentor``
is what the ``opentelemetry_instrumentor`` entry point names). Both classes
share one state, so the library is patched once whichever face is used.
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from honeyhive_agent._log import logger, warn_once

from ._patcher import LLMPatcher, Patch, Wrapper, WrapperFactory

__all__ = ["LLMInstrumentor", "LLMPatcher", "Patch", "Wrapper", "WrapperFactory"]


class LLMInstrumentor(LLMPatcher, BaseInstrumentor):  # type: ignore[misc]
    """An OpenTelemetry ``BaseInstrumentor`` that patches one LLM SDK lazily.

    ``XInstrumentor().instrument(tracer_provider=None, hh_tracer=None)``:
    ``hh_tracer`` wins over ``tracer_provider``; with neither, the global
    provider and a default :class:`~honeyhive_agent.serializer.Serializer`
    are used (plain ``opentelemetry-instrument``). Like every
    ``BaseInstrumentor`` the class is a singleton. Everything but the
    ``BaseInstrumentor`` protocol (dependency check, semantic-convention
    opt-in, ``DependencyConflictError`` for ``opentelemetry-instrument``) is
    :class:`~instrumentors._patcher.LLMPatcher`'s.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.dependencies

    def _check_dependency_conflicts(self) -> Any:
        # The bootstrap instruments a library as it is imported: it is
        # installed, and a package-metadata scan would only add to the app's
        # `import` time. Otherwise (opentelemetry-instrument at start-up) the
        # stock check decides whether we are loaded at all.
        if self.library in sys.modules:
            return None
        return BaseInstrumentor._check_dependency_conflicts(self)

    def instrument(self, **kwargs: Any) -> Any:
        """Patch the library now or on import; never raises (idempotent)."""
        if self.is_instrumented_by_opentelemetry:
            logger.debug("%s: already instrumented", self.name)
            return None
        try:
            return BaseInstrumentor.instrument(self, **kwargs)
        except Exception as exc:
            # opentelemetry-instrument asks for conflicts to be raised so it
            # can skip us; anything else must stay inside the agent.
            if kwargs.get("raise_exception_on_conflict") and type(exc).__name__ == (
                "DependencyConflictError"
            ):
                raise
            warn_once(f"instrument:{self.name}", "%s instrumentation not enabled: %r",
                      self.name, exc)
            return None

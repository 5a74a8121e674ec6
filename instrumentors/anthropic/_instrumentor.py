"""``AnthropicInstrumentor``: the ``BaseInstrumentor`` face of :class:`AnthropicPatcher`.

Kept apart so that the zero-code path (which patches through
:class:`~instrumentors.anthropic.AnthropicPatcher`) never imports
``opentelemetry.instrumentation``; ``instrumentors.anthropic.AnthropicInstrumentor``
loads this module on first access.
"""

from __future__ import annotations

from instrumentors._base import LLMInstrumentor

from . import AnthropicPatcher

__all__ = ["AnthropicInstrumentor"]


class AnthropicInstrumentor(AnthropicPatcher, LLMInstrumentor):
    """Traces the ``anthropic`` SDK (see :mod:`instrumentors.anthropic`).

    ``AnthropicInstrumentor().instrument(tracer_provider=None, hh_tracer=None)``;
    shares its state with :class:`~instrumentors.anthropic.AnthropicPatcher`.
    """

    __module__ = "instrumentors.anthropic"

"""``OpenAIInstrumentor``: the OpenTelemetry ``BaseInstrumentor`` face of :class:`OpenAIPatcher`.

Kept apart so that the zero-code path (which patches through
:class:`~instrumentors.openai.OpenAIPatcher`) never imports
``opentelemetry.instrumentation``; ``instrumentors.openai.OpenAIInstrumentor``
loads this module on first access.
"""

from __future__ import annotations

from .._base import LLMInstrumentor
from . import OpenAIPatcher

__all__ = ["OpenAIInstrumentor"]


class OpenAIInstrumentor(OpenAIPatcher, LLMInstrumentor):
    """Traces every OpenAI call as one GenAI CLIENT span (see :mod:`instrumentors.openai`).

    ``OpenAIInstrumentor().instrument(tracer_provider=None, hh_tracer=None)``;
    shares its state with :class:`~instrumentors.openai.OpenAIPatcher`.
    """

    __module__ = "instrumentors.openai"

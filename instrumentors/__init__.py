"""One module per LLM library, each patched only when the app imports it.

``KNOWN`` is what the bootstrap reads to register post-import hooks without
importing any instrumentor (or any SDK) at start-up. ``PATCHERS`` names the
class the bootstrap actually patches with: the library's
:class:`~instrumentors._patcher.LLMPatcher`, which shares its state with the
``KNOWN`` instrumentor (the ``BaseInstrumentor`` face, for entry points and
``XInstrumentor().instrument()`` in code) but does not import
``opentelemetry.instrumentation`` into the app's ``import`` of the library.
"""

from __future__ import annotations

# name -> (module the app imports, "module:Class" of our instrumentor)
KNOWN: dict[str, tuple[str, str]] = {
    "openai": ("openai", "instrumentors.openai:OpenAIInstrumentor"),
    "anthropic": ("anthropic", "instrumentors.anthropic:AnthropicInstrumentor"),
}
# name -> "module:Class" of its patching engine (same state as the KNOWN class)
PATCHERS: dict[str, str] = {
    "openai": "instrumentors.openai:OpenAIPatcher",
    "anthropic": "instrumentors.anthropic:AnthropicPatcher",
}

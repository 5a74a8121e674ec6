"""One module per LLM library, each patched only when the app imports it.

``KNOWN`` is what the bootstrap reads to register post-import hooks without
importing any instrumentor (or any SDK) at start-up.
"""

from __future__ import annotations

# name -> (module the app imports, "module:Class" of our instrumentor)
KNOWN: dict[str, tuple[str, str]] = {
    "openai": ("openai", "instrumentors.openai:OpenAIInstrumentor"),
    "anthropic": ("anthropic", "instrumentors.anthropic:AnthropicInstrumentor"),
}

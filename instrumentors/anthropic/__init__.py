"""Anthropic instrumentor: every Messages API call becomes one CLIENT span.

Patched (sync and async; missing targets in older SDKs are skipped):

* ``messages.create`` (incl. ``stream=True``), ``messages.parse``,
  ``messages.count_tokens``, ``messages.stream(...)``, and the same on
  ``beta.messages``; ``with_raw_response`` / ``with_streaming_response`` go
  through the patched methods;
* the Bedrock and Vertex clients' beta ``Messages`` classes, which copy these
  methods at class-definition time (their non-beta ``messages`` is the
  first-party class, so it is covered already);
* ``MessageStream.close`` (and twins), which on some releases closes the HTTP
  response instead of the raw stream our proxy wraps, and on 0.x the
  ``Stream`` metaclass's ``isinstance`` check, so ``isinstance(stream,
  anthropic.Stream)`` stays true for our proxy.

Every patch is applied when ``import anthropic`` completes (the patch table's
module is the package itself), *after* those copies were made: each class
gets exactly one wrapper, and no call makes two spans.

The SDK's own OpenTelemetry spans (``anthropic`` 2.x) are switched off for
clients whose user did not configure them explicitly; see
:mod:`instrumentors.anthropic._sdk_tracing` for the exact rule.

Attributes are those of issue 4 in both families (``gen_ai.*`` and
``honeyhive_*``); see :mod:`instrumentors._span`. Spans are named
``"chat {model}"`` (``"count_tokens {model}"``), event name
``anthropic.chat`` / ``anthropic.count_tokens``. Anthropic specifics:
``gen_ai.provider.name`` is ``anthropic`` (``aws.bedrock`` / ``gcp.vertex_ai``
for those clients), the ``system`` prompt is ``gen_ai.system_instructions``
and ``honeyhive_inputs.chat_history.0`` (role ``system``), thinking blocks are
``reasoning`` parts and ``honeyhive_outputs.thinking``, cache token counts are
``gen_ai.usage.cache_read.input_tokens`` /
``gen_ai.usage.cache_creation.input_tokens`` and are included in
``gen_ai.usage.input_tokens``; ``count_tokens`` records its count as
``honeyhive_outputs.input_tokens`` (no usage: counting consumes no tokens).

``AnthropicPatcher`` (here) is the engine the zero-code bootstrap uses;
``AnthropicInstrumentor`` (``_instrumentor``, loaded on first access) is its
OpenTelemetry ``BaseInstrumentor`` face, sharing its state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from instrumentors._patcher import LLMPatcher, Patch

from ._sdk_tracing import copy_option_wrapper, set_option_wrapper
from ._stream import helper_close_wrapper, instancecheck_wrapper
from ._wrappers import count_tokens_wrapper, create_wrapper, stream_wrapper

__all__ = ["AnthropicInstrumentor", "AnthropicPatcher"]

_PACKAGE = "anthropic"

# Modules (as attribute paths inside the package) that define Messages / AsyncMessages.
_RESOURCES = (
    "resources.messages.messages",
    "resources.messages",  # anthropic 0.40: a module (newer: the package re-exporting the same)
    "resources.beta.messages.messages",
    "resources.beta.prompt_caching.messages",  # anthropic 0.x
    "lib.bedrock._beta_messages",  # these two copy the beta methods at definition time
    "lib.vertex._beta_messages",
)
# The messages.stream() helpers' stream classes, whose close() we also watch.
_HELPER_STREAMS = (
    ("lib.streaming._messages", "MessageStream", False),
    ("lib.streaming._messages", "AsyncMessageStream", True),
    ("lib.streaming._beta_messages", "BetaMessageStream", False),
    ("lib.streaming._beta_messages", "BetaAsyncMessageStream", True),
    ("lib.streaming._prompt_caching_beta_messages", "PromptCachingBetaMessageStream", False),
    ("lib.streaming._prompt_caching_beta_messages", "AsyncPromptCachingBetaMessageStream", True),
)
_METHODS = (
    ("create", create_wrapper),
    ("parse", create_wrapper),
    ("count_tokens", count_tokens_wrapper),
    ("stream", stream_wrapper),
)


def _patch_table() -> tuple[Patch, ...]:
    patches: list[Patch] = []
    for path in _RESOURCES:
        for cls, is_async in (("Messages", False), ("AsyncMessages", True)):
            for method, factory in _METHODS:
                target = f"{path}.{cls}.{method}"
                patches.append(Patch(_PACKAGE, target, factory(is_async=is_async)))
    for module, cls, is_async in _HELPER_STREAMS:
        patches.append(Patch(_PACKAGE, f"{module}.{cls}.close", helper_close_wrapper(is_async)))
    for meta in ("_SyncStreamMeta", "_AsyncStreamMeta"):  # anthropic 0.x
        patches.append(
            Patch(_PACKAGE, f"_streaming.{meta}.__instancecheck__", instancecheck_wrapper)
        )
    patches.append(
        Patch(_PACKAGE, "_base_client.BaseClient._set_open_telemetry", set_option_wrapper)
    )
    patches.append(
        Patch(_PACKAGE, "_base_client.BaseClient._copy_open_telemetry", copy_option_wrapper)
    )
    return tuple(patches)


class AnthropicPatcher(LLMPatcher):
    """Traces the ``anthropic`` SDK; see the module docstring.

    The patching engine, without OpenTelemetry's ``BaseInstrumentor``: what
    the zero-code bootstrap uses. :class:`AnthropicInstrumentor` is the same
    with the ``BaseInstrumentor`` protocol, sharing this state.
    """

    name = "anthropic"
    library = "anthropic"
    dependencies = ("anthropic >= 0.40",)

    def patches(self) -> Sequence[Patch]:
        return _patch_table()


if TYPE_CHECKING:
    from ._instrumentor import AnthropicInstrumentor as AnthropicInstrumentor


def __getattr__(name: str) -> Any:
    # AnthropicInstrumentor imports opentelemetry.instrumentation: only on demand.
    if name == "AnthropicInstrumentor":
        from ._instrumentor import AnthropicInstrumentor

        globals()[name] = AnthropicInstrumentor
        return AnthropicInstrumentor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

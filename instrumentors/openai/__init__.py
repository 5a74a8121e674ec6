"""OpenAI instrumentor: Chat Completions, Responses, Completions, Embeddings.

Patches the resource classes of ``openai`` >= 1.0 (sync and async), which
covers ``OpenAI``, ``AzureOpenAI`` and every OpenAI-compatible ``base_url``,
the ``with_raw_response`` / ``with_streaming_response`` forms (they call the
patched methods), and the ``.stream(...)`` helpers (they call ``create``).
Importing this module does not import ``openai``.

Behaviour worth knowing:

* Streams: when the app did not ask for ``stream_options.include_usage``, it
  is added and the extra usage-only chunk (``choices == []``) is hidden, so the
  span has token counts and the app sees the chunks it asked for. An explicit
  ``include_usage: false`` is left alone (usage then stays absent, never 0).
  Azure clients older than API version 2024-09-01 are not sent the option,
  and a server that answers 400 to it gets the app's own request once more.
* Provider: ``azure.ai.openai`` for ``AzureOpenAI`` clients and for plain
  clients pointed at an Azure OpenAI host, else ``openai``; ``server.address``
  is the client's ``base_url`` host.
* One span per call: SDK helpers that call another patched method
  (``beta...parse`` in openai 1.x calls ``create``) are traced once, outside.
* Module layout: ``_wrapper`` (the per-call wrapper), ``_chat``,
  ``_responses``, ``_legacy`` (completions, embeddings), ``_common``;
  ``OpenAIPatcher`` (here) is the engine the zero-code bootstrap uses, and
  ``OpenAIInstrumentor`` (``_instrumentor``, loaded on first access) its
  OpenTelemetry ``BaseInstrumentor`` face, sharing its state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from honeyhive_agent import semconv as sc

from .._patcher import LLMPatcher, Patch, Wrapper, WrapperFactory

__all__ = ["OpenAIInstrumentor", "OpenAIPatcher"]

Params = tuple[tuple[str, str | None], ...]
_MAX = sc.GEN_AI_REQUEST_MAX_TOKENS
_COMMON = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
)
# Shared by Chat Completions and (legacy) Completions, in this order after _COMMON.
_COMPLETION_COMMON = (
    ("stop", sc.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", sc.GEN_AI_REQUEST_SEED),
    ("n", sc.GEN_AI_REQUEST_CHOICE_COUNT),
    ("stream", None),
    ("stream_options", None),
)
CHAT_PARAMS = (
    ("max_tokens", _MAX),
    ("max_completion_tokens", _MAX),
    *_COMMON,
    *_COMPLETION_COMMON,
    ("response_format", None),
    ("tools", None),
    ("tool_choice", None),
    ("parallel_tool_calls", None),
    ("reasoning_effort", None),
    ("logprobs", None),
    ("top_logprobs", None),
    ("modalities", None),
    ("service_tier", None),
    ("verbosity", None),
)
RESPONSES_PARAMS = (
    ("max_output_tokens", _MAX),
    *_COMMON,
    ("stream", None),
    ("text", None),
    ("text_format", None),
    ("tools", None),
    ("tool_choice", None),
    ("parallel_tool_calls", None),
    ("max_tool_calls", None),
    ("reasoning", None),
    ("previous_response_id", None),
    ("truncation", None),
    ("top_logprobs", None),
    ("service_tier", None),
)
COMPLETIONS_PARAMS = (
    ("max_tokens", _MAX),
    *_COMMON,
    *_COMPLETION_COMMON,
    ("best_of", None),
    ("echo", None),
    ("logprobs", None),
    ("suffix", None),
)
EMBEDDINGS_PARAMS = (("dimensions", None), ("encoding_format", None))

_CHAT_MODULES = (
    "openai.resources.chat.completions.completions",  # >= 1.66: a package
    "openai.resources.chat.completions",  # older 1.x: a module
)
_RESPONSES_MODULES = ("openai.resources.responses.responses", "openai.resources.responses")


def _call_factory(endpoint: str, pairs: Params, *, is_async: bool) -> WrapperFactory:
    """``_wrapper.call_wrapper`` for ``endpoint``, its modules imported at patch time.

    The wrapper modules bring in OpenTelemetry and wrapt: ``import openai``
    only arms the hooks, and they load with openai's first resource module.
    """

    def factory(inst: LLMPatcher) -> Wrapper:
        from . import _wrapper

        return _wrapper.call_wrapper(_endpoint(endpoint), pairs, is_async=is_async)(inst)

    return factory


def _close_factory(*, is_async: bool) -> WrapperFactory:
    """``_wrapper.helper_close``, imported at patch time (see :func:`_call_factory`)."""

    def factory(inst: LLMPatcher) -> Wrapper:
        from . import _wrapper

        return _wrapper.helper_close(is_async=is_async)(inst)

    return factory


def _endpoint(name: str) -> Any:
    if name == "chat":
        from ._chat import ChatEndpoint

        return ChatEndpoint
    if name == "responses":
        from ._responses import ResponsesEndpoint

        return ResponsesEndpoint
    from ._legacy import CompletionsEndpoint, EmbeddingsEndpoint

    return CompletionsEndpoint if name == "completions" else EmbeddingsEndpoint


def _patch_table() -> list[Patch]:
    table: list[Patch] = []
    for module in _CHAT_MODULES:
        for cls, is_async in (("Completions", False), ("AsyncCompletions", True)):
            for method in ("create", "parse"):
                factory = _call_factory("chat", CHAT_PARAMS, is_async=is_async)
                table.append(Patch(module, f"{cls}.{method}", factory))
    # openai 1.40-1.9x: client.beta.chat.completions.parse
    beta = "openai.resources.beta.chat.completions"
    for cls, is_async in (("Completions", False), ("AsyncCompletions", True)):
        factory = _call_factory("chat", CHAT_PARAMS, is_async=is_async)
        table.append(Patch(beta, f"{cls}.parse", factory))
    for module in _RESPONSES_MODULES:
        for cls, is_async in (("Responses", False), ("AsyncResponses", True)):
            for method in ("create", "parse"):
                factory = _call_factory("responses", RESPONSES_PARAMS, is_async=is_async)
                table.append(Patch(module, f"{cls}.{method}", factory))
    for cls, is_async in (("Completions", False), ("AsyncCompletions", True)):
        factory = _call_factory("completions", COMPLETIONS_PARAMS, is_async=is_async)
        table.append(Patch("openai.resources.completions", f"{cls}.create", factory))
    for cls, is_async in (("Embeddings", False), ("AsyncEmbeddings", True)):
        factory = _call_factory("embeddings", EMBEDDINGS_PARAMS, is_async=is_async)
        table.append(Patch("openai.resources.embeddings", f"{cls}.create", factory))
    # The .stream() helpers close the HTTP response directly on early exit.
    helpers = (
        ("openai.lib.streaming.chat._completions", "ChatCompletionStream", False),
        ("openai.lib.streaming.chat._completions", "AsyncChatCompletionStream", True),
        ("openai.lib.streaming.responses._responses", "ResponseStream", False),
        ("openai.lib.streaming.responses._responses", "AsyncResponseStream", True),
    )
    for module, cls, is_async in helpers:
        table.append(Patch(module, f"{cls}.close", _close_factory(is_async=is_async)))
    return table


class OpenAIPatcher(LLMPatcher):
    """Traces every OpenAI call as one GenAI CLIENT span (see the module docstring).

    The patching engine, without OpenTelemetry's ``BaseInstrumentor``: what
    the zero-code bootstrap uses. :class:`OpenAIInstrumentor` is the same
    with the ``BaseInstrumentor`` protocol, sharing this state.
    """

    name = "openai"
    library = "openai"
    dependencies = ("openai >= 1.0",)

    def patches(self) -> Sequence[Patch]:
        return _patch_table()


if TYPE_CHECKING:
    from ._instrumentor import OpenAIInstrumentor as OpenAIInstrumentor


def __getattr__(name: str) -> Any:
    # OpenAIInstrumentor imports opentelemetry.instrumentation: only on demand.
    if name == "OpenAIInstrumentor":
        from ._instrumentor import OpenAIInstrumentor

        globals()[name] = OpenAIInstrumentor
        return OpenAIInstrumentor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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

from .._patcher import LLMPatcher, Patch
from ._chat import ChatEndpoint
from ._legacy import CompletionsEndpoint, EmbeddingsEndpoint
from ._responses import ResponsesEndpoint
from ._wrapper import call_wrapper, helper_close

__all__ = ["OpenAIInstrumentor", "OpenAIPatcher"]

_MAX = sc.GEN_AI_REQUEST_MAX_TOKENS
_COMMON = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
)
CHAT_PARAMS = (
    ("max_tokens", _MAX),
    ("max_completion_tokens", _MAX),
    *_COMMON,
    ("stop", sc.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", sc.GEN_AI_REQUEST_SEED),
    ("n", sc.GEN_AI_REQUEST_CHOICE_COUNT),
    ("stream", None),
    ("stream_options", None),
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
    ("stop", sc.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", sc.GEN_AI_REQUEST_SEED),
    ("n", sc.GEN_AI_REQUEST_CHOICE_COUNT),
    ("stream", None),
    ("stream_options", None),
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


def _patch_table() -> list[Patch]:
    table: list[Patch] = []
    for module in _CHAT_MODULES:
        for cls, is_async in (("Completions", False), ("AsyncCompletions", True)):
            for method in ("create", "parse"):
                factory = call_wrapper(ChatEndpoint, CHAT_PARAMS, is_async=is_async)
                table.append(Patch(module, f"{cls}.{method}", factory))
    # openai 1.40-1.9x: client.beta.chat.completions.parse
    beta = "openai.resources.beta.chat.completions"
    for cls, is_async in (("Completions", False), ("AsyncCompletions", True)):
        factory = call_wrapper(ChatEndpoint, CHAT_PARAMS, is_async=is_async)
        table.append(Patch(beta, f"{cls}.parse", factory))
    for module in _RESPONSES_MODULES:
        for cls, is_async in (("Responses", False), ("AsyncResponses", True)):
            for method in ("create", "parse"):
                factory = call_wrapper(ResponsesEndpoint, RESPONSES_PARAMS, is_async=is_async)
                table.append(Patch(module, f"{cls}.{method}", factory))
    for cls, is_async in (("Completions", False), ("AsyncCompletions", True)):
        factory = call_wrapper(CompletionsEndpoint, COMPLETIONS_PARAMS, is_async=is_async)
        table.append(Patch("openai.resources.completions", f"{cls}.create", factory))
    for cls, is_async in (("Embeddings", False), ("AsyncEmbeddings", True)):
        factory = call_wrapper(EmbeddingsEndpoint, EMBEDDINGS_PARAMS, is_async=is_async)
        table.append(Patch("openai.resources.embeddings", f"{cls}.create", factory))
    # The .stream() helpers close the HTTP response directly on early exit.
    helpers = (
        ("openai.lib.streaming.chat._completions", "ChatCompletionStream", False),
        ("openai.lib.streaming.chat._completions", "AsyncChatCompletionStream", True),
        ("openai.lib.streaming.responses._responses", "ResponseStream", False),
        ("openai.lib.streaming.responses._responses", "AsyncResponseStream", True),
    )
    for module, cls, is_async in helpers:
        table.append(Patch(module, f"{cls}.close", helper_close(is_async=is_async)))
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

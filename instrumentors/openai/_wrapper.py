"""The per-call wrapper shared by every OpenAI endpoint (sync and async).

Per call: skip check, one attribute dict, one deferred span (created when the
call ends, with all its attributes in one pass); then the result is either
recorded and returned as is, wrapped in a stream proxy, or (raw responses)
handed to :mod:`instrumentors._raw`. Anything that goes wrong in here is
logged once and the call proceeds as if the agent were absent.
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from honeyhive_agent import semconv as sc
from honeyhive_agent._log import warn_once
from honeyhive_agent.serializer import Attributes, Serializer

from .._patcher import LLMPatcher, Wrapper, WrapperFactory
from .._raw import raw_mode, wrap_raw_response
from .._span import CallSpan, ParamMap, span_name
from .._stream import AsyncStreamProxy, SyncStreamProxy, finish_stream
from ._common import ClientInfo, Endpoint

EndpointFactory = Callable[[ParamMap], Endpoint]
GEN_AI_REQUEST_MODEL = sc.GEN_AI_REQUEST_MODEL
CONFIG_MODEL = f"{sc.CONFIG}.model"


def _sdk_types() -> tuple[tuple[type, ...], type, type]:
    """(not-given sentinel types, Stream, AsyncStream), read at patch time.

    Only from submodules: a hook may run while ``openai/__init__`` is still
    executing (openai 1.x imports its resources eagerly), when the package's
    own attributes do not exist yet.
    """
    types = importlib.import_module("openai._types")
    streaming = importlib.import_module("openai._streaming")
    skip = tuple(
        t for t in (getattr(types, "NotGiven", None), getattr(types, "Omit", None))
        if isinstance(t, type)
    )
    return skip, streaming.Stream, streaming.AsyncStream


def _extra_stream_options(kwargs: Mapping[str, Any]) -> bool:
    """The app sends its own ``stream_options`` in ``extra_body`` (it wins over ours)."""
    extra = kwargs.get("extra_body")
    return isinstance(extra, Mapping) and "stream_options" in extra


class _Clients:
    """ClientInfo per SDK client, recomputed when its ``base_url`` changes.

    Keyed by ``id(client)`` with a weak reference that evicts the entry when
    the client goes away (apps that build a client per request stay bounded).
    """

    def __init__(self) -> None:
        self._cache: dict[int, tuple[Any, Any, ClientInfo]] = {}

    def get(self, client: Any) -> ClientInfo:
        url = getattr(client, "_base_url", None)
        if url is None:
            url = getattr(client, "base_url", None)
        key = id(client)
        cached = self._cache.get(key)
        if cached is not None and cached[0]() is client and cached[1] is url:
            return cached[2]
        info = ClientInfo(client)
        cache = self._cache

        def evict(_: Any) -> None:
            cache.pop(key, None)

        try:
            ref = weakref.ref(client, evict)
        except TypeError:  # not weak-referenceable: no caching
            return info
        self._cache[key] = (ref, url, info)
        return info


class _Call:
    """Everything one wrapped method needs, built once at patch time."""

    def __init__(self, inst: LLMPatcher, endpoint: Endpoint, stream_types: tuple[type, type]):
        self.inst = inst
        self.endpoint = endpoint
        self.event_name = f"openai.{endpoint.operation}"
        self.clients = _Clients()
        self.sync_stream, self.async_stream = stream_types

    def start(
        self, instance: Any, kwargs: dict[str, Any]
    ) -> tuple[CallSpan, dict[str, Any], bool]:
        inst, endpoint = self.inst, self.endpoint
        serializer = inst.serializer
        info = self.clients.get(getattr(instance, "_client", None))
        model = kwargs.get("model")
        attrs = dict(info.template(endpoint.operation, self.event_name))
        if isinstance(model, str) and model:
            attrs[GEN_AI_REQUEST_MODEL] = model
            attrs[CONFIG_MODEL] = model
        endpoint.params.add(attrs, kwargs, serializer)
        endpoint.request(attrs, kwargs, serializer)
        call = CallSpan(
            inst.tracer, span_name(endpoint.operation, model), attrs, serializer,
            deferred=True, emitter=inst.emitter,
        )
        hide = False
        if (
            endpoint.injects_usage and kwargs.get("stream") is True and info.usage_ok
            # with_streaming_response: the app may read the raw SSE lines, which
            # must be the ones it asked for (usage then stays unknown).
            and raw_mode(kwargs) != "stream"
            and not _extra_stream_options(kwargs)
        ):
            options = kwargs.get("stream_options")
            if not endpoint.params.given(options):
                kwargs = {**kwargs, "stream_options": {"include_usage": True}}
                hide = True
            elif isinstance(options, Mapping) and "include_usage" not in options:
                kwargs = {**kwargs, "stream_options": {**options, "include_usage": True}}
                hide = True
        return call, kwargs, hide

    def rejected(self, instance: Any, exc: Exception) -> bool:
        """True when the server refused the ``stream_options`` we added.

        Some OpenAI-compatible servers (and old Azure API versions) answer
        400 to it. The call is then retried once exactly as the app made it,
        and this client is not sent the option again.
        """
        try:
            if getattr(exc, "status_code", None) != 400 or "stream_options" not in str(exc):
                return False
            self.clients.get(getattr(instance, "_client", None)).usage_ok = False
            warn_once("openai-stream-options", "an OpenAI-compatible server refused "
                      "stream_options; streamed token usage is not recorded for it")
            return True
        except Exception:  # noqa: BLE001
            return False

    def done(self, call: CallSpan, result: Any, kwargs: dict[str, Any], hide: bool,
             is_async: bool) -> Any:
        try:
            mode = raw_mode(kwargs)
            if mode is not None:
                return wrap_raw_response(
                    result, mode, call, lambda parsed: self.record(call, parsed, hide), is_async
                )
            return self.record(call, result, hide)
        except Exception as exc:  # noqa: BLE001 - the app gets its result regardless
            warn_once("openai-result", "could not record an OpenAI response: %r", exc)
            call.finish()
            return result

    def record(self, call: CallSpan, result: Any, hide: bool) -> Any:
        """End the span with ``result``, or hand it to a stream proxy."""
        serializer: Serializer = call.serializer
        if isinstance(result, self.sync_stream):
            state = self.endpoint.stream_state({}, serializer, hide)
            return SyncStreamProxy(result, call, state)
        if isinstance(result, self.async_stream):
            state = self.endpoint.stream_state({}, serializer, hide)
            return AsyncStreamProxy(result, call, state)
        attrs: Attributes = {}
        error = self.endpoint.response(attrs, result, serializer)
        call.finish(attrs, error)
        return result


def call_wrapper(
    endpoint_cls: EndpointFactory, pairs: Sequence[tuple[str, str | None]], *, is_async: bool
) -> WrapperFactory:
    """A :class:`~instrumentors._base.Patch` factory for one OpenAI method."""

    def factory(inst: LLMPatcher) -> Wrapper:
        skip, stream, async_stream = _sdk_types()
        c = _Call(inst, endpoint_cls(ParamMap(pairs, skip, compact=True)), (stream, async_stream))

        if not is_async:

            def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
                if inst.should_skip_call():
                    return wrapped(*args, **kwargs)
                try:
                    call, call_kwargs, hide = c.start(instance, kwargs)
                except Exception as exc:  # noqa: BLE001
                    warn_once("openai-start", "could not trace an OpenAI call: %r", exc)
                    return wrapped(*args, **kwargs)
                token = inst.enter_call()
                try:
                    retry = False
                    try:
                        result = wrapped(*args, **call_kwargs)
                    except Exception as exc:
                        if not (hide and c.rejected(instance, exc)):
                            raise
                        retry = True
                    if retry:  # outside the except: no chained __context__ for the app
                        call_kwargs, hide = kwargs, False
                        result = wrapped(*args, **kwargs)
                except BaseException as exc:
                    call.fail(exc)
                    raise
                finally:
                    inst.exit_call(token)
                return c.done(call, result, call_kwargs, hide, False)

            return wrapper

        async def async_wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            if inst.should_skip_call():
                return await wrapped(*args, **kwargs)
            try:
                call, call_kwargs, hide = c.start(instance, kwargs)
            except Exception as exc:  # noqa: BLE001
                warn_once("openai-start", "could not trace an OpenAI call: %r", exc)
                return await wrapped(*args, **kwargs)
            token = inst.enter_call()
            try:
                retry = False
                try:
                    result = await wrapped(*args, **call_kwargs)
                except Exception as exc:
                    if not (hide and c.rejected(instance, exc)):
                        raise
                    retry = True
                if retry:
                    call_kwargs, hide = kwargs, False
                    result = await wrapped(*args, **kwargs)
            except BaseException as exc:
                call.fail(exc)
                raise
            finally:
                inst.exit_call(token)
            return c.done(call, result, call_kwargs, hide, True)

        return async_wrapper

    return factory


def helper_close(*, is_async: bool) -> WrapperFactory:
    """``ChatCompletionStream.close`` & co. close the HTTP response, not the raw
    stream they iterate: end that stream's span here."""

    def factory(inst: LLMPatcher) -> Wrapper:
        if not is_async:

            def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
                try:
                    return wrapped(*args, **kwargs)
                finally:
                    finish_stream(getattr(instance, "_raw_stream", None), "closed")

            return wrapper

        async def async_wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            try:
                return await wrapped(*args, **kwargs)
            finally:
                finish_stream(getattr(instance, "_raw_stream", None), "closed")

        return async_wrapper

    return factory

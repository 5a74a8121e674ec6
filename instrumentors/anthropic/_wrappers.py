"""The wrapt wrappers of the Messages resource methods.

One factory per kind of method; each runs once at patch time (building the
method's :class:`~instrumentors.anthropic._attributes.Operation`) and
returns the per-call wrapper:

* :func:`create_wrapper` - ``create`` and ``parse``: a whole ``Message``, a
  ``Stream`` of raw events (``stream=True``), or a raw response
  (``with_raw_response`` / ``with_streaming_response``);
* :func:`count_tokens_wrapper` - ``count_tokens``;
* :func:`stream_wrapper` - ``stream(...)``: the span starts when the
  returned manager is entered, i.e. when the request is sent.

Like the OpenAI instrumentor, the span is *deferred*: its start time and
parent context are taken when the call starts, and the SDK span is created
when the call ends, with every attribute in one pass (most of the per-call
cost). So it is not the current span while the request runs: HTTP-level
spans (and the SDK's own span, when the user enabled it) are its siblings.
The call runs inside :meth:`~instrumentors._patcher.LLMPatcher.enter_call`,
so an SDK helper that calls another patched method makes one span, not two.
Only exceptions raised by the SDK reach the app, unchanged; the agent's own
failures are logged once and the call runs untraced.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from honeyhive_agent import semconv as sc
from honeyhive_agent._log import warn_once
from honeyhive_agent.serializer import Attributes
from instrumentors._patcher import LLMPatcher, Wrapper
from instrumentors._raw import raw_mode, wrap_raw_response
from instrumentors._span import CallSpan, span_name
from instrumentors._stream import AsyncStreamProxy, SyncStreamProxy

from ._attributes import Operation, message_reply
from ._stream import AsyncStreamManagerProxy, MessageStreamState, StreamManagerProxy

__all__ = ["count_tokens_wrapper", "create_wrapper", "stream_wrapper"]

ANTHROPIC = "anthropic"
BEDROCK = "aws.bedrock"
VERTEX = "gcp.vertex_ai"
COUNTED_INPUT_TOKENS = f"{sc.OUTPUTS}.input_tokens"


class _ClientInfo:
    """Provider and server attributes of one SDK client."""

    __slots__ = ("base_url", "provider", "server")

    def __init__(self, client: Any) -> None:
        cls = type(client)
        provider = getattr(cls, "_gen_ai_provider_name", None)  # anthropic >= 2
        if not isinstance(provider, str) or not provider:
            name = cls.__name__
            provider = BEDROCK if "Bedrock" in name else VERTEX if "Vertex" in name else ANTHROPIC
        self.provider: str = provider
        self.base_url = getattr(client, "_base_url", None)
        self.server: Attributes = {}
        url = getattr(client, "base_url", None)
        host = getattr(url, "host", None)
        if isinstance(host, str) and host:
            self.server[sc.SERVER_ADDRESS] = host
            port = getattr(url, "port", None)
            if not isinstance(port, int):
                port = 443 if getattr(url, "scheme", "https") == "https" else 80
            self.server[sc.SERVER_PORT] = port


_clients: weakref.WeakKeyDictionary[Any, _ClientInfo] = weakref.WeakKeyDictionary()


def _client_info(resource: Any) -> _ClientInfo:
    """The (cached) info of the client a resource belongs to."""
    client = getattr(resource, "_client", resource)
    try:
        info = _clients.get(client)
    except TypeError:  # not weak-referenceable or unhashable: no cache
        return _ClientInfo(client)
    # A changed base_url (the SDK replaces the URL object) rebuilds the entry.
    if info is None or info.base_url is not getattr(client, "_base_url", None):
        info = _ClientInfo(client)
        with contextlib.suppress(TypeError):
            _clients[client] = info
    return info


def _sdk_types(*names: str) -> tuple[type, ...]:
    """SDK classes by name, skipping those this SDK version lacks."""
    import anthropic

    found = (getattr(anthropic, name, None) for name in names)
    return tuple(t for t in found if isinstance(t, type))


def _operation(operation: str, stream: bool) -> Operation:
    return Operation(
        operation=operation,
        event_name=f"{ANTHROPIC}.{operation}",  # "anthropic.chat", like "openai.chat"
        skip=_sdk_types("NotGiven", "Omit"),
        stream=stream,
    )


def _start(
    inst: LLMPatcher, op: Operation, resource: Any, kwargs: Mapping[str, Any]
) -> CallSpan | None:
    """Start the call's span; None (call runs untraced) if that fails."""
    try:
        info = _client_info(resource)
        serializer = inst.serializer
        attrs = op.request_attributes(
            kwargs, serializer, provider=info.provider, server=info.server
        )
        name = span_name(op.operation, kwargs.get("model"))
        return CallSpan(inst.tracer, name, attrs, serializer, deferred=True, emitter=inst.emitter)
    except Exception as exc:  # noqa: BLE001 - never break the app's call
        warn_once("anthropic:start", "anthropic: could not start a span: %r", exc)
        return None


def _call_wrapper(
    inst: LLMPatcher,
    op: Operation,
    finish: Callable[[CallSpan, Any, dict[str, Any]], Any],
    is_async: bool,
) -> Wrapper:
    """The per-call wrapper: span around the SDK call, ``finish`` on success."""
    if is_async:

        async def async_wrapper(
            wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any
        ) -> Any:
            if inst.should_skip_call():
                return await wrapped(*args, **kwargs)
            call = _start(inst, op, instance, kwargs)
            if call is None:
                return await wrapped(*args, **kwargs)
            token = inst.enter_call()
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as exc:
                call.fail(exc)
                raise
            finally:
                inst.exit_call(token)
            return finish(call, result, kwargs)

        return async_wrapper

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if inst.should_skip_call():
            return wrapped(*args, **kwargs)
        call = _start(inst, op, instance, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        token = inst.enter_call()
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            inst.exit_call(token)
        return finish(call, result, kwargs)

    return wrapper


def _finisher(
    record: Callable[[CallSpan, Any], Any], is_async: bool
) -> Callable[[CallSpan, Any, dict[str, Any]], Any]:
    """The ``finish`` of :func:`_call_wrapper` for a method whose reply ``record`` ends the span.

    A raw response (``with_raw_response`` / ``with_streaming_response``) is
    wrapped so that ``record`` sees the parsed reply; if recording fails the
    span ends without reply attributes and the app gets its result unchanged.
    """

    def finish(call: CallSpan, result: Any, kwargs: dict[str, Any]) -> Any:
        try:
            mode = raw_mode(kwargs)
            if mode is not None:
                return wrap_raw_response(
                    result, mode, call, lambda parsed: record(call, parsed), is_async
                )
            return record(call, result)
        except Exception as exc:  # noqa: BLE001
            warn_once("anthropic:finish", "anthropic: could not record a reply: %r", exc)
            call.finish()
            return result

    return finish


def create_wrapper(
    *, is_async: bool = False
) -> Callable[[LLMPatcher], Wrapper]:
    """Factory for ``messages.create`` / ``messages.parse`` (and beta, Bedrock, Vertex)."""

    def factory(inst: LLMPatcher) -> Wrapper:
        op = _operation("chat", stream=False)
        stream_types = _sdk_types("Stream", "AsyncStream")
        proxy_type = AsyncStreamProxy if is_async else SyncStreamProxy

        def record(call: CallSpan, result: Any) -> Any:
            if isinstance(result, stream_types):
                return proxy_type(result, call, MessageStreamState(call.serializer))
            call.finish(message_reply(result, call.serializer))
            return result

        return _call_wrapper(inst, op, _finisher(record, is_async), is_async)

    return factory


def count_tokens_wrapper(
    *, is_async: bool = False
) -> Callable[[LLMPatcher], Wrapper]:
    """Factory for ``messages.count_tokens``: the count is the call's output."""

    def factory(inst: LLMPatcher) -> Wrapper:
        op = _operation("count_tokens", stream=False)

        def record(call: CallSpan, result: Any) -> Any:
            count = getattr(result, "input_tokens", None)
            call.finish({COUNTED_INPUT_TOKENS: count} if isinstance(count, int) else None)
            return result

        return _call_wrapper(inst, op, _finisher(record, is_async), is_async)

    return factory


def stream_wrapper(
    *, is_async: bool = False
) -> Callable[[LLMPatcher], Wrapper]:
    """Factory for ``messages.stream(...)``: trace the manager it returns."""

    def factory(inst: LLMPatcher) -> Wrapper:
        op = _operation("chat", stream=True)
        manager_proxy = AsyncStreamManagerProxy if is_async else StreamManagerProxy

        def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            manager = wrapped(*args, **kwargs)  # sends nothing yet

            def start() -> tuple[CallSpan, MessageStreamState] | None:
                if inst.should_skip_call():
                    return None
                call = _start(inst, op, instance, kwargs)
                if call is None:
                    return None
                return call, MessageStreamState(call.serializer)

            try:
                return manager_proxy(manager, start, inst)
            except Exception as exc:  # noqa: BLE001
                warn_once("anthropic:stream", "anthropic: could not trace a stream: %r", exc)
                return manager

        return wrapper

    return factory

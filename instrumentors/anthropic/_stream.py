"""Messages streams: accumulate raw events, and trace ``messages.stream(...)``.

:class:`MessageStreamState` is the :class:`~instrumentors._stream.StreamState`
for Anthropic's server-sent events: it sees every ``RawMessageStreamEvent``
the app receives and keeps just enough to describe the reply at the end (id,
model, content blocks, stop reason, usage). Per event that is a few attribute
reads and a list append; strings are joined once, when the span ends.

``messages.stream(...)`` returns a ``MessageStreamManager`` whose request is
only sent on ``__enter__``. :class:`StreamManagerProxy` (and the async twin)
starts the span there and slips our stream proxy in as the ``MessageStream``'s
raw stream, so the SDK's own helper (``text_stream``, ``get_final_message()``,
``get_final_text()``, ``until_done()``, the high-level events) runs unchanged
on top of it, and the span ends when that raw stream ends, fails, is closed
(leaving the ``with`` block closes it) or is garbage collected.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import wrapt

from honeyhive_agent._log import logger
from honeyhive_agent.serializer import Attributes, Serializer
from instrumentors._span import CallSpan
from instrumentors._stream import AsyncStreamProxy, StreamState, SyncStreamProxy, finish_stream

from ._attributes import message_usage, reply_attributes
from ._content import REDACTED_THINKING, TOOL_CALL_BLOCKS, Part, block_part, field

__all__ = [
    "AsyncStreamManagerProxy",
    "MessageStreamState",
    "StreamManagerProxy",
    "helper_close_wrapper",
    "instancecheck_wrapper",
]


class _Block:
    """One content block: its start event and the text of its deltas so far."""

    __slots__ = ("chunks", "head", "kind")

    def __init__(self, head: Any) -> None:
        self.head = head
        self.kind = field(head, "type")
        self.chunks: list[str] = []

    def text(self) -> str:
        return "".join(self.chunks)


class MessageStreamState(StreamState):
    """Rebuilds the reply from raw stream events (see the module docstring).

    The API streams content blocks one after another (start, deltas, stop),
    so each delta goes to the block started last, without an index lookup.
    Only the delta's string is kept (no SDK objects: keeping those alive
    costs more in garbage collection than it saves); without content capture
    deltas are not read at all.
    """

    __slots__ = (
        "_blocks", "_current", "_keep", "id", "model", "serializer", "stop_reason", "usage"
    )

    def __init__(self, serializer: Serializer) -> None:
        super().__init__()
        self.serializer = serializer
        self.id: str | None = None
        self.model: str | None = None
        self.stop_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self._blocks: dict[int, _Block] = {}
        self._current: list[str] | None = None
        self._keep = serializer.capture_content

    def on_chunk(self, chunk: Any) -> bool:
        if chunk.type == "content_block_delta":
            if not self.first_ns:  # the first output token
                self.first_ns = time.perf_counter_ns()
            chunks = self._current
            if chunks is not None:
                delta = chunk.delta
                dtype = delta.type
                if dtype == "text_delta":
                    chunks.append(delta.text)
                elif dtype == "input_json_delta":
                    chunks.append(delta.partial_json)
                elif dtype == "thinking_delta":
                    chunks.append(delta.thinking)
        else:
            self._event(chunk)
        return True

    def _event(self, chunk: Any) -> None:
        """The few events that are not deltas."""
        kind = chunk.type
        if kind == "content_block_start":
            block = _Block(chunk.content_block)
            self._blocks[chunk.index] = block
            self._current = block.chunks if self._keep else None
        elif kind == "message_start":
            message = chunk.message
            self.id = message.id
            self.model = message.model
            usage = message_usage(message.usage)
            # message_start's output count is a placeholder (1): the real one
            # comes with message_delta; a stream cut before it leaves it unknown.
            usage.pop("output_tokens", None)
            self.usage.update(usage)
        elif kind == "message_delta":
            self.stop_reason = field(chunk.delta, "stop_reason")
            self.usage.update(message_usage(getattr(chunk, "usage", None)))

    def attributes(self, call: CallSpan) -> Attributes:
        return reply_attributes(
            self.serializer,
            response_id=self.id,
            model=self.model,
            stop_reason=self.stop_reason,
            usage=self.usage,
            parts=self.parts() if self.serializer.capture_content else None,
        )

    def parts(self) -> list[Part]:
        """The content blocks received so far, as GenAI parts, in index order."""
        out: list[Part] = []
        for index in sorted(self._blocks):
            block = self._blocks[index]
            kind = block.kind
            if kind == "text":
                out.append({"type": "text", "content": block.text()})
            elif kind in TOOL_CALL_BLOCKS:
                part = block_part(block.head)
                raw = block.text()
                if raw:
                    part["arguments"] = _arguments(raw)
                out.append(part)
            elif kind == "thinking":
                out.append({"type": "reasoning", "content": block.text()})
            elif kind == "redacted_thinking":
                out.append({"type": "reasoning", "content": REDACTED_THINKING})
            else:
                out.append(block_part(block.head))
        return out


def _arguments(raw: str) -> Any:
    """Streamed tool input: the parsed JSON object, or the raw text if cut short."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


StartCall = Callable[[], "tuple[CallSpan, MessageStreamState] | None"]
"""Starts the span of a ``messages.stream`` call (None: run untraced)."""


def _attach(stream: Any, call: CallSpan, state: MessageStreamState, is_async: bool) -> None:
    """Put our proxy under the SDK's ``MessageStream`` as its raw stream."""
    raw = getattr(stream, "_raw_stream", None)
    if raw is None:
        # An SDK whose helper has another shape: the span still ends, without output.
        call.finish()
        logger.debug("anthropic: MessageStream without _raw_stream; output not recorded")
        return
    proxy_type = AsyncStreamProxy if is_async else SyncStreamProxy
    stream._raw_stream = proxy_type(raw, call, state)


class StreamManagerProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """``MessageStreamManager`` whose ``__enter__`` starts the call's span."""

    def __init__(self, wrapped: Any, start: StartCall, inst: Any) -> None:
        super().__init__(wrapped)
        self._self_start = start
        self._self_inst = inst

    def __enter__(self) -> Any:
        started = self._self_start()
        if started is None:
            return self.__wrapped__.__enter__()
        call, state = started
        token = self._self_inst.enter_call()
        try:
            stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            self._self_inst.exit_call(token)
        try:
            _attach(stream, call, state, is_async=False)
        except Exception as exc:  # noqa: BLE001 - the app gets its stream regardless
            logger.debug("anthropic: could not trace a message stream: %r", exc)
            call.finish()
        return stream

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        return self.__wrapped__.__exit__(exc_type, exc, tb)


class AsyncStreamManagerProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """``AsyncMessageStreamManager`` whose ``__aenter__`` starts the call's span."""

    def __init__(self, wrapped: Any, start: StartCall, inst: Any) -> None:
        super().__init__(wrapped)
        self._self_start = start
        self._self_inst = inst

    async def __aenter__(self) -> Any:
        started = self._self_start()
        if started is None:
            return await self.__wrapped__.__aenter__()
        call, state = started
        token = self._self_inst.enter_call()
        try:
            stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            self._self_inst.exit_call(token)
        try:
            _attach(stream, call, state, is_async=True)
        except Exception as exc:  # noqa: BLE001
            logger.debug("anthropic: could not trace a message stream: %r", exc)
            call.finish()
        return stream

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        return await self.__wrapped__.__aexit__(exc_type, exc, tb)


def instancecheck_wrapper(_inst: Any) -> Callable[..., Any]:
    """Wrapper of ``_SyncStreamMeta.__instancecheck__`` (and the async twin).

    anthropic 0.x gives ``Stream`` a metaclass whose ``isinstance`` check is
    False for anything but a ``MessageStream`` (exact instances never reach
    it), so ``isinstance(stream, anthropic.Stream)`` would turn False once the
    stream is our proxy. This keeps it True for our proxies of real streams.
    """

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        if not result and args and isinstance(args[0], SyncStreamProxy | AsyncStreamProxy):
            return isinstance(args[0].__wrapped__, instance)
        return result

    return wrapper


def helper_close_wrapper(is_async: bool) -> Callable[[Any], Callable[..., Any]]:
    """Wrapper of ``MessageStream.close`` (and the async and beta twins).

    Some SDK releases (0.4x) close the HTTP response there rather than the raw
    stream our proxy wraps, so the span would only end at garbage collection:
    end it here. Where ``close`` does close the raw stream this is a no-op.
    """

    def factory(_inst: Any) -> Callable[..., Any]:
        if is_async:

            async def async_wrapper(
                wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any
            ) -> Any:
                try:
                    return await wrapped(*args, **kwargs)
                finally:
                    finish_stream(getattr(instance, "_raw_stream", None), "closed")

            return async_wrapper

        def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            try:
                return wrapped(*args, **kwargs)
            finally:
                finish_stream(getattr(instance, "_raw_stream", None), "closed")

        return wrapper

    return factory

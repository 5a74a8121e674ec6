"""Transparent stream proxies that end their span exactly once.

:class:`SyncStreamProxy` and :class:`AsyncStreamProxy` wrap an SDK stream in a
:class:`wrapt.ObjectProxy`: ``isinstance``, attributes (``.response``),
``close()``, ``with`` / ``async with`` behave as without the agent,
``__enter__`` returns the proxy, and iteration yields the very chunk objects
the SDK produced. Each chunk is handed to a :class:`StreamState` (one subclass
per wire format) that accumulates cheaply - appending deltas, keeping ids -
and may hide a chunk from the caller (the usage-only chunk that we asked for).
The attributes are built once, when the stream ends.

The span ends on the first of: exhaustion, an exception from the SDK,
``close()`` / context-manager exit, garbage collection of a stream that
was abandoned unclosed, or interpreter exit for one still referenced then
(an ``atexit`` hook, run before the tracers' exit flush). Streams that did
not run to completion carry ``honeyhive_metadata.incomplete = true`` and
``honeyhive_metadata.stream_end`` (``closed``, ``garbage_collected``,
``exit`` or ``error``) next to the partial output.
"""

from __future__ import annotations

import atexit
import os
import weakref
from typing import Any

import wrapt

from honeyhive_agent._log import logger, warn_once
from honeyhive_agent.serializer import Attributes

from ._span import INCOMPLETE, STREAM_END, TIME_TO_FIRST_TOKEN, CallSpan

__all__ = ["AsyncStreamProxy", "StreamState", "SyncStreamProxy", "finish_stream", "track"]


class StreamState:
    """Accumulates one stream's chunks; subclass per wire format.

    :meth:`on_chunk` runs once per chunk on the app's thread: keep it to a
    few attribute reads and appends. It returns False to hide the chunk from
    the caller. :meth:`attributes` runs once, at the end.
    Set ``first_ns`` (``time.perf_counter_ns()``) at the first chunk that
    carries output: it becomes ``honeyhive_metrics.time_to_first_token_ms``.
    """

    __slots__ = ("first_ns",)

    def __init__(self) -> None:
        self.first_ns = 0

    def on_chunk(self, chunk: Any) -> bool:
        return True

    def attributes(self, call: CallSpan) -> Attributes:
        return {}


def _end(proxy: Any, how: str, exc: BaseException | None = None) -> None:
    """End the proxy's span once: ``how`` is done/closed/garbage_collected/error."""
    call: CallSpan | None = proxy._self_call
    if call is None or call.ended:
        return
    proxy._self_call = None
    try:
        attrs = proxy._self_state.attributes(call)
        first = getattr(proxy._self_state, "first_ns", 0)
        if first:
            attrs[TIME_TO_FIRST_TOKEN] = call.elapsed_ms(first)
        if how != "done":
            attrs[INCOMPLETE] = True
            attrs[STREAM_END] = how
    except Exception as err:  # noqa: BLE001
        warn_once("stream-attributes", "could not record a stream's output: %r", err)
        attrs = {}
    if exc is not None:
        call.fail(exc, attrs)
    else:
        call.finish(attrs)


def _collected(proxy: Any) -> None:
    # __del__ may run on a half-built proxy or at interpreter exit.
    try:
        if proxy._self_call is not None:
            _end(proxy, "garbage_collected")
    except Exception:  # noqa: BLE001 - nothing sensible to do in a finalizer
        pass


_live: dict[int, weakref.ref[Any]] | None = None
"""Proxies whose span may still be open, by id; created with the first one."""


def track(proxy: Any) -> None:
    """Remember ``proxy`` until it is collected, so exit can end its span.

    At exit, ``proxy._self_end_at_exit()`` is called if it is still alive.
    """
    global _live
    live = _live
    if live is None:
        # Registered after the tracers' own exit hooks (they exist before any
        # call is traced), so it runs before their flush.
        live = _live = {}
        atexit.register(_end_live_streams)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_forget_live)
    key = id(proxy)
    live[key] = weakref.ref(proxy, lambda _ref: live.pop(key, None))


def _forget_live() -> None:
    """In a forked child: the calls it inherited are the parent's to end.

    Their proxies here record nothing (not at exit, not when collected).
    """
    global _live
    live = _live
    if live is None:
        return
    _live = {}
    for ref in list(live.values()):
        try:
            proxy = ref()
            if proxy is not None:
                proxy._self_call = None
        except Exception:  # noqa: BLE001 - never break a fork
            pass


def _end_live_streams() -> None:
    """atexit: end the spans of streams still referenced (never iterated out)."""
    refs: list[weakref.ref[Any]] = []
    for _ in range(3):  # a collection during the copy may drop entries: retry
        try:
            refs = list((_live or {}).values())
            break
        except RuntimeError:
            continue
    for ref in refs:
        try:
            proxy = ref()
            if proxy is not None:
                proxy._self_end_at_exit()
        except Exception:  # noqa: BLE001 - nothing sensible to do at exit
            pass


def finish_stream(stream: Any, how: str = "closed") -> None:
    """End the span of ``stream`` if it is one of our proxies (helper streams)."""
    if isinstance(stream, SyncStreamProxy | AsyncStreamProxy):
        try:
            _end(stream, how)
        except Exception as err:  # noqa: BLE001
            logger.debug("finish_stream failed: %r", err)


class SyncStreamProxy(wrapt.ObjectProxy[Any]):  # type: ignore[misc]
    """A sync SDK stream whose iteration feeds a :class:`StreamState`."""

    def __init__(self, wrapped: Any, call: CallSpan, state: StreamState) -> None:
        super().__init__(wrapped)
        self._self_call: CallSpan | None = call
        self._self_state = state
        self._self_next = wrapped.__next__
        track(self)

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        while True:
            try:
                chunk = self._self_next()
            except StopIteration:
                _end(self, "done")
                raise
            except BaseException as exc:
                _end(self, "error", exc)
                raise
            try:
                keep = self._self_state.on_chunk(chunk)
            except Exception as err:  # noqa: BLE001 - the chunk still reaches the app
                warn_once("stream-chunk", "could not record a stream chunk: %r", err)
                keep = True
            if keep:
                return chunk

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            _end(self, "closed")

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def _self_end_at_exit(self) -> None:
        if self._self_call is not None:
            _end(self, "exit")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            _end(self, "closed")

    def __del__(self) -> None:
        _collected(self)


class AsyncStreamProxy(wrapt.ObjectProxy[Any]):  # type: ignore[misc]
    """An async SDK stream whose iteration feeds a :class:`StreamState`."""

    def __init__(self, wrapped: Any, call: CallSpan, state: StreamState) -> None:
        super().__init__(wrapped)
        self._self_call: CallSpan | None = call
        self._self_state = state
        self._self_anext = wrapped.__anext__
        track(self)

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        while True:
            try:
                chunk = await self._self_anext()
            except StopAsyncIteration:
                _end(self, "done")
                raise
            except BaseException as exc:
                _end(self, "error", exc)
                raise
            try:
                keep = self._self_state.on_chunk(chunk)
            except Exception as err:  # noqa: BLE001
                warn_once("stream-chunk", "could not record a stream chunk: %r", err)
                keep = True
            if keep:
                return chunk

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            _end(self, "closed")

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    def _self_end_at_exit(self) -> None:
        if self._self_call is not None:
            _end(self, "exit")

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            _end(self, "closed")

    def __del__(self) -> None:
        _collected(self)

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
from collections.abc import AsyncIterator, Iterator
from typing import Any

import wrapt

from honeyhive_agent._log import logger, warn_once
from honeyhive_agent.serializer import Attributes

from ._span import INCOMPLETE, STREAM_END, TIME_TO_FIRST_TOKEN, CallSpan

__all__ = [
    "AsyncStreamProxy",
    "Ending",
    "StreamState",
    "SyncStreamProxy",
    "finish_stream",
    "track",
]


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


class Ending:
    """A call whose span must end once, even if its owner is dropped or the
    process exits first (see :func:`track`)."""

    __slots__ = ("call",)

    def __init__(self, call: CallSpan) -> None:
        self.call: CallSpan | None = call

    def end(self, how: str, exc: BaseException | None = None) -> None:
        """End the span (``how``: why; a no-op once ended or forgotten)."""
        call, self.call = self.call, None
        if call is not None:
            call.finish()

    def forget(self) -> None:
        """Never end the span here (a forked child: it is the parent's)."""
        self.call = None


class _Tracking(Ending):
    """One stream's span and accumulator; :meth:`end` ends the span once.

    Shared by the proxy and the tap generator (:func:`_tap`) and tracked by
    the SDK stream's lifetime, not the proxy's: ``for chunk in stream``
    iterates the SDK stream's own generator, which does not keep the proxy
    alive.
    """

    __slots__ = ("state",)

    def __init__(self, call: CallSpan, state: StreamState) -> None:
        super().__init__(call)
        self.state = state

    def end(self, how: str, exc: BaseException | None = None) -> None:
        """End the span once: ``how`` is done/closed/garbage_collected/exit/error."""
        call = self.call
        if call is None or call.ended:
            return
        self.call = None
        try:
            attrs = self.state.attributes(call)
            first = self.state.first_ns
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


_PULLING = object()
"""Marks that the tap is waiting on the SDK (an exception then is the SDK's)."""


def _tap(chunks: Iterator[Any], tracking: _Tracking) -> Iterator[Any]:
    """Yield ``chunks`` as they come, feeding each to the stream's state.

    The per-chunk loop is kept to the call and the yield. An exception is
    told apart by ``chunk``: still ``_PULLING`` means the SDK raised (the app
    gets it, the span records it); a chunk means our state failed on it (the
    app still gets the chunk, warned once, and iteration goes on).
    """
    on_chunk = tracking.state.on_chunk
    while True:
        chunk: Any = _PULLING
        try:
            for chunk in chunks:
                if on_chunk(chunk):
                    yield chunk
                chunk = _PULLING
        except GeneratorExit:
            raise  # closed or collected: close() or the stream's collection ends the span
        except BaseException as exc:
            if chunk is _PULLING or not isinstance(exc, Exception):
                tracking.end("error", exc)
                raise
            warn_once("stream-chunk", "could not record a stream chunk: %r", exc)
            yield chunk
            continue
        tracking.end("done")
        return


async def _atap(chunks: AsyncIterator[Any], tracking: _Tracking) -> AsyncIterator[Any]:
    """The async twin of :func:`_tap`."""
    on_chunk = tracking.state.on_chunk
    while True:
        chunk: Any = _PULLING
        try:
            async for chunk in chunks:
                if on_chunk(chunk):
                    yield chunk
                chunk = _PULLING
        except GeneratorExit:
            raise
        except BaseException as exc:
            if chunk is _PULLING or not isinstance(exc, Exception):
                tracking.end("error", exc)
                raise
            warn_once("stream-chunk", "could not record a stream chunk: %r", exc)
            yield chunk
            continue
        tracking.end("done")
        return


def _end(proxy: Any, how: str, exc: BaseException | None = None) -> None:
    """End the span of ``proxy`` once."""
    proxy._self_tracking.end(how, exc)


_live: dict[int, tuple[weakref.ref[Any], Ending]] | None = None
"""Calls whose span may still be open, by ``id(ending)``; created with the first."""


def track(owner: Any, ending: Ending) -> None:
    """End ``ending`` when ``owner`` is garbage collected, or at exit.

    ``owner`` is what the app holds (the SDK stream, a raw response); it
    must not be referenced by ``ending``. At exit, the calls still open end
    with ``how="exit"``; in a forked child they are forgotten.
    """
    global _live
    live = _live
    if live is None:
        # Registered after the tracers' own exit hooks (they exist before any
        # call is traced), so it runs before their flush.
        live = _live = {}
        atexit.register(_end_live_calls)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_forget_live)
    key = id(ending)

    def collected(_ref: Any) -> None:
        live.pop(key, None)
        try:  # noqa: SIM105 - a weakref callback: nothing sensible to do on failure
            ending.end("garbage_collected")
        except Exception:  # noqa: BLE001
            pass

    try:
        live[key] = (weakref.ref(owner, collected), ending)
    except TypeError:  # not weak-referenceable: still ended at exit
        live[key] = (weakref.ref(ending), ending)


def _forget_live() -> None:
    """In a forked child: the calls it inherited are the parent's to end."""
    global _live
    live = _live
    if live is None:
        return
    _live = {}
    for _, ending in list(live.values()):
        ending.forget()


def _end_live_calls() -> None:
    """atexit: end the spans of calls still open (streams never iterated out)."""
    endings: list[Ending] = []
    for _ in range(3):  # a collection during the copy may drop entries: retry
        try:
            endings = [ending for _, ending in (_live or {}).values()]
            break
        except RuntimeError:
            continue
    for ending in endings:
        try:  # noqa: SIM105 - contextlib may be torn down this late
            ending.end("exit")
        except Exception:  # noqa: BLE001 - nothing sensible to do at exit
            pass


def finish_stream(stream: Any, how: str = "closed") -> None:
    """End the span of ``stream`` if it is one of our proxies (helper streams)."""
    if isinstance(stream, SyncStreamProxy | AsyncStreamProxy):
        try:
            _end(stream, how)
        except Exception as err:  # noqa: BLE001
            logger.debug("finish_stream failed: %r", err)


class SyncStreamProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """A sync SDK stream whose chunks feed a :class:`StreamState`.

    The SDKs' streams (``openai.Stream``, ``anthropic.Stream``) iterate their
    ``_iterator`` generator, in ``__iter__`` and ``__next__`` alike. The proxy
    puts :func:`_tap` in its place, so iterating costs one generator step per
    chunk and ``iter(stream)`` is what it is without the agent. A stream of
    another shape is iterated through the proxy's own ``__next__`` instead.
    """

    def __init__(self, wrapped: Any, call: CallSpan, state: StreamState) -> None:
        super().__init__(wrapped)
        tracking = self._self_tracking = _Tracking(call, state)
        chunks = getattr(wrapped, "_iterator", None)
        if isinstance(chunks, Iterator):
            wrapped._iterator = _tap(chunks, tracking)
            self._self_tapped = True
            self._self_next = wrapped.__next__
        else:
            self._self_tapped = False
            self._self_next = _tap(iter(wrapped), tracking).__next__
        track(wrapped, tracking)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.__wrapped__) if self._self_tapped else self

    def __next__(self) -> Any:
        return self._self_next()

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            _end(self, "closed")

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            _end(self, "closed")


class AsyncStreamProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """An async SDK stream whose chunks feed a :class:`StreamState` (see the sync one)."""

    def __init__(self, wrapped: Any, call: CallSpan, state: StreamState) -> None:
        super().__init__(wrapped)
        tracking = self._self_tracking = _Tracking(call, state)
        chunks = getattr(wrapped, "_iterator", None)
        if isinstance(chunks, AsyncIterator):
            wrapped._iterator = _atap(chunks, tracking)
            self._self_tapped = True
            self._self_anext = wrapped.__anext__
        else:
            self._self_tapped = False
            self._self_anext = _atap(aiter(wrapped), tracking).__anext__
        track(wrapped, tracking)

    def __aiter__(self) -> AsyncIterator[Any]:
        return aiter(self.__wrapped__) if self._self_tapped else self

    async def __anext__(self) -> Any:
        return await self._self_anext()

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            _end(self, "closed")

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            _end(self, "closed")

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
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import wrapt

from honeyhive_agent._log import logger, warn_once
from honeyhive_agent.serializer import Attributes

from ._span import INCOMPLETE, STREAM_END, TIME_TO_FIRST_TOKEN, CallSpan
from ._wire import HIDDEN, Reader, install, reading

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
    the caller. A state with ``reads_events`` gets each event's JSON instead,
    in :meth:`on_data`, before the SDK builds the chunk (see :mod:`._wire`),
    through :meth:`reader` (which a state may specialise for its hottest
    chunks); :meth:`on_chunk` then serves only streams that cannot be read
    that way.
    :meth:`attributes` runs once, at the end.
    Set ``first_ns`` (``time.perf_counter_ns()``) at the first chunk that
    carries output: it becomes ``honeyhive_metrics.time_to_first_token_ms``.
    """

    __slots__ = ("first_ns",)
    reads_events = False

    def __init__(self) -> None:
        self.first_ns = 0

    def on_chunk(self, chunk: Any) -> bool:
        return True

    def on_data(self, data: dict[str, Any]) -> bool:
        """One event's JSON (read it, never change it); False: the app must not see it."""
        return True

    def unset_field(self) -> str | None:
        """A field only our request made the server send: taken out of each
        event where it is null (:func:`._wire.drop_null`), else unmarked in
        the chunk built."""
        return None

    def reader(self, process: Callable[..., Any]) -> Reader:
        """What the SDK calls instead of ``process`` (its ``_process_response_data``)."""
        return reading(process, self.on_data, self.unset_field())

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
    iterates the tap (or the SDK's generator around it), which does not keep
    the proxy alive.
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


def _tap(
    chunks: Iterator[Any], tracking: _Tracking, owner: Any, on_chunk: Callable[[Any], bool] | None
) -> Iterator[Any]:
    """Yield ``chunks`` as they come, each that ``on_chunk`` (the state's)
    passes; with ``on_chunk=None`` (the events were read, see :mod:`._wire`),
    each but :data:`._wire.HIDDEN`.

    ``owner``, the SDK stream, is held until the span has ended: the app may
    iterate the tap alone, and the stream's collection ends a span too.

    An exception from the SDK reaches the app and ends the span; one from
    the state is ours: the app still gets the chunk, it is warned once, and
    iteration goes on. (``try`` costs nothing per chunk on CPython >= 3.11.)
    """
    try:
        for chunk in chunks:
            if on_chunk is not None:
                try:
                    if not on_chunk(chunk):
                        continue
                except Exception as exc:  # noqa: BLE001 - our failure, not the app's
                    warn_once("stream-chunk", "could not record a stream chunk: %r", exc)
            elif chunk is HIDDEN:
                continue
            yield chunk
    except GeneratorExit:
        raise  # closed or collected: close() or the stream's collection ends the span
    except BaseException as exc:
        tracking.end("error", exc)
        raise
    tracking.end("done")


async def _atap(
    chunks: AsyncIterator[Any],
    tracking: _Tracking,
    owner: Any,
    on_chunk: Callable[[Any], bool] | None,
) -> AsyncIterator[Any]:
    """The async twin of :func:`_tap`."""
    try:
        async for chunk in chunks:
            if on_chunk is not None:
                try:
                    if not on_chunk(chunk):
                        continue
                except Exception as exc:  # noqa: BLE001
                    warn_once("stream-chunk", "could not record a stream chunk: %r", exc)
            elif chunk is HIDDEN:
                continue
            yield chunk
    except GeneratorExit:
        raise
    except BaseException as exc:
        tracking.end("error", exc)
        raise
    tracking.end("done")


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


def _per_chunk(stream: Any, events: Any, state: StreamState) -> Callable[[Any], bool] | None:
    """What the tap calls per chunk: nothing when the state reads the events'
    JSON (:func:`._wire.install`), else the state's ``on_chunk``."""
    if state.reads_events and install(stream, events, state.reader):
        return None
    return state.on_chunk


def _reyield(self: Any) -> Iterator[Any]:
    for item in self._iterator:  # noqa: UP028 - the SDK's own form, compared by bytecode
        yield item


async def _areyield(self: Any) -> AsyncIterator[Any]:
    async for item in self._iterator:
        yield item


_reyielding: dict[tuple[type, str], bool] = {}


def _reyields(cls: type, name: str, reference: Any) -> bool:
    """Whether ``cls.<name>`` only re-yields ``self._iterator``, as ``reference`` does.

    openai's streams' ``__iter__`` / ``__aiter__`` do (anthropic's also feed
    an observer): for those the proxy hands out the tap itself instead of the
    SDK's generator around it, so a chunk costs one generator level, as bare.
    """
    key = (cls, name)
    plain = _reyielding.get(key)
    if plain is None:
        code, ref = getattr(getattr(cls, name, None), "__code__", None), reference.__code__
        plain = _reyielding[key] = (
            code is not None
            and code.co_code == ref.co_code
            and code.co_names == ref.co_names
            and code.co_flags == ref.co_flags
        )
    return plain


class SyncStreamProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """A sync SDK stream whose chunks feed a :class:`StreamState`.

    The SDKs' streams (``openai.Stream``, ``anthropic.Stream``) iterate their
    ``_iterator`` generator, in ``__iter__`` and ``__next__`` alike. The proxy
    puts :func:`_tap` in its place; where the SDK's ``__iter__`` only
    re-yields it (openai), ``iter(stream)`` is the tap itself, so a chunk
    costs the same generator steps as without the agent. A stream of another
    shape is iterated through the proxy's own ``__next__`` instead.
    """

    def __init__(self, wrapped: Any, call: CallSpan, state: StreamState) -> None:
        super().__init__(wrapped)
        tracking = self._self_tracking = _Tracking(call, state)
        chunks = getattr(wrapped, "_iterator", None)
        if isinstance(chunks, Iterator):
            tap = wrapped._iterator = _tap(
                chunks, tracking, wrapped, _per_chunk(wrapped, chunks, state)
            )
            self._self_iter = tap if _reyields(type(wrapped), "__iter__", _reyield) else None
            self._self_next = wrapped.__next__
        else:
            self._self_iter = self
            self._self_next = _tap(iter(wrapped), tracking, wrapped, state.on_chunk).__next__
        track(wrapped, tracking)

    def __iter__(self) -> Iterator[Any]:
        it = self._self_iter
        return iter(self.__wrapped__) if it is None else it

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
            tap = wrapped._iterator = _atap(
                chunks, tracking, wrapped, _per_chunk(wrapped, chunks, state)
            )
            self._self_aiter = tap if _reyields(type(wrapped), "__aiter__", _areyield) else None
            self._self_anext = wrapped.__anext__
        else:
            self._self_aiter = self
            self._self_anext = _atap(aiter(wrapped), tracking, wrapped, state.on_chunk).__anext__
        track(wrapped, tracking)

    def __aiter__(self) -> AsyncIterator[Any]:
        it = self._self_aiter
        return aiter(self.__wrapped__) if it is None else it

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

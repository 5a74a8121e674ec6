"""``with_raw_response`` / ``with_streaming_response`` for Stainless-generated SDKs.

openai and anthropic share this design: ``client.x.with_raw_response.create``
calls the (patched) ``create`` with an ``X-Stainless-Raw-Response`` header and
gets back a response wrapper instead of the parsed object:

* ``"true"`` - a ``LegacyAPIResponse`` whose body is already read. We parse it
  at once (the SDK caches by type, so the app's own ``.parse()`` returns the
  very same object) and, for streams, put our stream proxy into that cache.
* ``"stream"`` - an ``APIResponse`` whose body is not read yet. It is wrapped
  in a proxy whose ``parse()`` records the result and whose ``close()`` (run
  by the ``with`` block) ends the span, so the body is read when, and only
  when, the app reads it.

Either way the call makes exactly one span and the app receives the objects
it would receive without the agent.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import wrapt

from honeyhive_agent._log import logger

from ._span import CallSpan
from ._stream import AsyncStreamProxy, Ending, SyncStreamProxy, finish_stream, track

__all__ = ["RAW_RESPONSE_HEADER", "raw_mode", "wrap_raw_response"]

RAW_RESPONSE_HEADER = "X-Stainless-Raw-Response"

OnParsed = Callable[[Any], Any]
"""Records a parsed result on the span (ending it, or handing it to a stream
proxy) and returns the object the app should get."""


def raw_mode(kwargs: dict[str, Any]) -> str | None:
    """``"true"``, ``"stream"`` or None, from the call's ``extra_headers``."""
    headers = kwargs.get("extra_headers")
    if not headers:
        return None
    try:
        value = headers.get(RAW_RESPONSE_HEADER)
    except Exception:  # noqa: BLE001 - an exotic mapping
        return None
    return value if isinstance(value, str) else None


def wrap_raw_response(
    result: Any, mode: str, call: CallSpan, on_parsed: OnParsed, is_async: bool
) -> Any:
    """The object to return for a raw-response call (see the module docstring)."""
    if mode == "stream" and hasattr(result, "parse"):
        cls = AsyncRawResponseProxy if is_async else SyncRawResponseProxy
        return cls(result, call, on_parsed)
    if is_async and inspect.iscoroutinefunction(getattr(result, "parse", None)):
        # An async client's with_raw_response whose parse() is a coroutine
        # (anthropic >= 1: AsyncAPIResponse): calling it here would leave a
        # never-awaited coroutine; record when the app awaits it instead.
        return AsyncRawResponseProxy(result, call, on_parsed)
    if not hasattr(result, "parse") or not hasattr(result, "_parsed_by_type"):
        call.finish()
        return result
    try:
        parsed = result.parse()
    except Exception as exc:  # noqa: BLE001 - the app's parse() raises it again
        call.fail(exc)
        return result
    replaced = on_parsed(parsed)
    if replaced is not parsed:
        _replace_cached(result, parsed, replaced)
    return result


def _replace_cached(response: Any, parsed: Any, replaced: Any) -> None:
    try:
        cache = response._parsed_by_type
        for key, value in list(cache.items()):
            if value is parsed:
                cache[key] = replaced
    except Exception as exc:  # noqa: BLE001
        logger.debug("could not cache the wrapped stream: %r", exc)


class _RawResponseProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    def __init__(self, wrapped: Any, call: CallSpan, on_parsed: OnParsed) -> None:
        super().__init__(wrapped)
        # Dropped or left open at exit without parse()/close(): the span still ends.
        self._self_ending = Ending(call)
        self._self_on_parsed = on_parsed
        self._self_stream: Any = None
        self._self_parsed: dict[Any, Any] = {}
        track(self, self._self_ending)

    def _self_take(self) -> CallSpan | None:
        """The call, if its span is still ours to end (then never again)."""
        ending = self._self_ending
        call, ending.call = ending.call, None
        return call

    def _self_record(self, to: Any, parsed: Any) -> Any:
        call = self._self_take()
        if call is None:  # already recorded: an explicit to= type, or a re-parse
            return self._self_parsed.get(to, parsed)
        try:
            replaced = self._self_on_parsed(parsed)
        except Exception as exc:  # noqa: BLE001
            logger.debug("recording a raw response failed: %r", exc)
            call.finish()
            return parsed
        if isinstance(replaced, SyncStreamProxy | AsyncStreamProxy):
            self._self_stream = replaced
        self._self_parsed[to] = replaced
        return replaced

    def _self_closed(self) -> None:
        self._self_ending.end("closed")
        if self._self_stream is not None:
            finish_stream(self._self_stream, "closed")


class SyncRawResponseProxy(_RawResponseProxy):
    """``with_streaming_response`` result: span ends at ``parse()`` or ``close()``."""

    def parse(self, *, to: Any = None) -> Any:
        if to is not None:
            return self.__wrapped__.parse(to=to)
        if None in self._self_parsed:
            return self._self_parsed[None]
        try:
            parsed = self.__wrapped__.parse()
        except Exception as exc:
            call = self._self_take()
            if call is not None:
                call.fail(exc)
            raise
        return self._self_record(None, parsed)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_closed()


class AsyncRawResponseProxy(_RawResponseProxy):
    """Async ``with_streaming_response`` result."""

    async def parse(self, *, to: Any = None) -> Any:
        if to is not None:
            return await self.__wrapped__.parse(to=to)
        if None in self._self_parsed:
            return self._self_parsed[None]
        try:
            parsed = await self.__wrapped__.parse()
        except Exception as exc:
            call = self._self_take()
            if call is not None:
                call.fail(exc)
            raise
        return self._self_record(None, parsed)

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_closed()

"""Building one stream's models with the SDK's checks settled once per stream.

For each event of a stream, the Stainless SDKs (openai, anthropic) call the
client's ``_process_response_data(data=..., cast_to=..., response=...)``.
In every release we know of (openai 1.40 to 3.x, anthropic 0.40 to 2.x) it
reads, in order:

- ``data is None``: return None; ``cast_to is object``: return ``data``;
- ``cast_to`` is a class matching ``ModelBuilderProtocol``: ``cast_to.build(...)``;
- ``_strict_response_validation``: ``validate_type(...)``;
- else ``construct_type(type_=cast_to, value=data)``, with a
  ``pydantic.ValidationError`` raised as ``APIResponseValidationError``.

Only the first test depends on the event. The protocol test is a
runtime-checkable ``issubclass`` whose hook runs in Python on every event:
about 21,000 instructions on CPython 3.11, more than all our own reading of
a chunk costs. :func:`lean_process` settles those tests once, when a stream
is set up, and then builds each event as the method would have.

It stands in only for the SDK's own method, as we know it: a client class
that overrides it, a wrapper around it (another instrumentor's), a strict
client, a ``cast_to`` the SDK would treat otherwise, or a method whose code
uses any name we have not seen in it, all keep the SDK's own call. An
exception from the direct construction is left to the SDK's own call to
raise, exactly as it would.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

__all__ = ["lean_process"]

_QUALNAME = "BaseClient._process_response_data"
_NEEDED = frozenset({"ModelBuilderProtocol", "_strict_response_validation", "construct_type"})
_KNOWN = _NEEDED | {
    "APIResponseValidationError", "ResponseT", "ValidationError", "VectorStoreFileBatch",
    "__setattr__", "build", "cast", "get", "inspect", "is_dict", "isclass", "issubclass",
    "object", "pydantic", "types.vector_stores", "validate_type",
}
"""Every global and attribute name the method's code uses, in the releases above."""

_known: dict[Callable[..., Any], tuple[Callable[..., Any], type] | None] = {}


def _as_known(function: Callable[..., Any]) -> tuple[Callable[..., Any], type] | None:
    """(``construct_type``, ``ModelBuilderProtocol``) of the SDK module, if
    ``function`` is its ``BaseClient._process_response_data`` as we know it."""
    if function in _known:
        return _known[function]
    known = None
    code = getattr(function, "__code__", None)
    if type(function) is types.FunctionType and function.__qualname__ == _QUALNAME and code:
        names = frozenset(code.co_names)
        construct = function.__globals__.get("construct_type")
        protocol = function.__globals__.get("ModelBuilderProtocol")
        if _NEEDED <= names <= _KNOWN and callable(construct) and isinstance(protocol, type):
            known = (construct, protocol)
    _known[function] = known
    return known


def _direct(process: Callable[..., Any], cast_to: Any) -> Callable[..., Any] | None:
    """The SDK's ``construct_type`` when ``process`` builds every non-null
    event as ``construct_type(type_=cast_to, value=data)``; else None."""
    if type(process) is not types.MethodType:
        return None
    known = _as_known(process.__func__)
    if known is None or cast_to is object:
        return None
    construct, protocol = known
    if getattr(process.__self__, "_strict_response_validation", True) is not False:
        return None
    if inspect.isclass(cast_to) and _builds(cast_to, protocol):
        return None
    return construct


_built_by_class: dict[tuple[type, type], bool] = {}


def _builds(cast_to: type, protocol: type) -> bool:
    """``issubclass(cast_to, protocol)``, once per class: the test is what
    costs the SDK ~21,000 instructions, and a stream's class is one of a few
    the SDK defines."""
    key = (cast_to, protocol)
    builds = _built_by_class.get(key)
    if builds is None:
        builds = _built_by_class[key] = issubclass(cast_to, protocol)
    return builds


def lean_process(process: Callable[..., Any], cast_to: Any) -> Callable[..., Any]:
    """``process`` (a client's ``_process_response_data``) for the events of
    one stream whose models are ``cast_to``: the same call, keyword for
    keyword and result for result, without the per-event tests that this
    stream's ``cast_to`` and client settle once. ``process`` itself where
    they cannot be settled."""
    try:
        construct = _direct(process, cast_to)
    except Exception:  # noqa: BLE001 - an odd cast_to or client: the SDK's own call
        construct = None
    if construct is None:
        return process
    stream_cast_to = cast_to

    def process_response_data(*, data: Any, cast_to: Any, response: Any) -> Any:
        if data is None or cast_to is not stream_cast_to:
            return process(data=data, cast_to=cast_to, response=response)
        try:
            return construct(type_=cast_to, value=data)
        except Exception:  # noqa: BLE001 - for the SDK's own call to raise as it does
            return process(data=data, cast_to=cast_to, response=response)

    return process_response_data

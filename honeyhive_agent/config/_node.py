"""A configuration value together with where it was written.

Every source (YAML file, explicit arguments) is turned into a tree of
:class:`Node` before validation, so one validator serves all of them and
every error can name the line it is about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


class Record:
    """Base of the loader's small immutable value classes.

    What ``@dataclass(frozen=True)`` would give them (``==``, ``hash``,
    ``repr``, read-only fields) without compiling those methods for each
    class at import time: the loader is on the start-up path of every
    bootstrapped process. Subclasses name their fields in ``__slots__`` and
    set them in ``__init__`` through ``object.__setattr__``.
    """

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")


class Node(Record):
    """One value of a configuration tree.

    ``value`` is a scalar, a ``list[Node]`` or a ``dict[str, Node]`` (kept in
    source order). ``line`` is the 1-based line of the value and ``key_line``
    the line of the mapping key that holds it; both are None for values that
    did not come from a file.
    """

    __slots__ = ("value", "line", "key_line")  # noqa: RUF023 - field order (repr, ==)
    value: Any
    line: int | None
    key_line: int | None

    def __init__(self, value: Any, line: int | None = None, key_line: int | None = None) -> None:
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "key_line", key_line)


def from_python(value: object) -> Node:
    """Wrap plain Python data (explicit arguments) into a :class:`Node` tree.

    Mappings keep their order, tuples become lists, and dataclass instances
    (``SessionConfig(...)``, ``BatchConfig(...)``) are read field by field, so
    callers may pass either form. ``None`` inside a mapping means "not given"
    and is dropped.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return from_python(fields)
    if isinstance(value, Mapping):
        return Node({str(k): from_python(v) for k, v in value.items() if v is not None})
    if isinstance(value, (list, tuple)):
        return Node([from_python(v) for v in value])
    return Node(value)

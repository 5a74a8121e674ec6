"""A configuration value together with where it was written.

Every source (YAML file, explicit arguments) is turned into a tree of
:class:`Node` before validation, so one validator serves all of them and
every error can name the line it is about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Node:
    """One value of a configuration tree.

    ``value`` is a scalar, a ``list[Node]`` or a ``dict[str, Node]`` (kept in
    source order). ``line`` is the 1-based line of the value and ``key_line``
    the line of the mapping key that holds it; both are None for values that
    did not come from a file.
    """

    value: Any
    line: int | None = None
    key_line: int | None = None


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

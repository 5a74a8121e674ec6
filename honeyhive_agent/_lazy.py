"""Module-level ``__getattr__`` for packages whose public names load on first use.

Keeps ``import honeyhive_agent`` (and its subpackages) cheap at start-up: a
name is imported from its defining module the first time it is read, then
cached in the package namespace so later reads are plain lookups. This module
imports nothing at run time (the bootstrap goes through it).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, MutableMapping
    from typing import Any


def lazy_getattr(
    package: str, exports: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> Callable[[str], Any]:
    """A ``__getattr__`` that imports ``name`` from ``exports[name]`` on demand."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__

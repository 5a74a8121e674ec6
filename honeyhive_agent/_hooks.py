"""Post-import hooks: run a callback right after a module finishes importing.

The bootstrap uses these to patch a library only when (and if) the app
imports it, so start-up imports nothing heavy; ``instrumentors._patcher``
uses them for the library's own submodules. This is a minimal meta path
finder (no dependency on ``wrapt`` or ``importlib.abc``, both of which would
cost start-up time) that delegates finding and loading to the rest of
``sys.meta_path`` and calls the hooks after the module body has run.

Each hook runs once. A hook that raises is logged once and never breaks the
import that triggered it.
"""

from __future__ import annotations

import _thread  # threading.RLock() is _thread.RLock(); threading costs start-up time
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["clear", "forget", "pending", "when_imported"]

Hook = Callable[[ModuleType], None]

_lock = _thread.RLock()
_hooks: dict[str, list[Hook]] = {}
_finding: set[str] = set()


def _run(name: str, module: ModuleType, hooks: list[Hook]) -> None:
    for hook in hooks:
        try:
            hook(module)
        except Exception as exc:  # noqa: BLE001 - a hook must never break the app's import
            from honeyhive_agent import _log

            _log.warn_once(
                f"hook:{name}:{getattr(hook, '__name__', hook)}",
                "post-import hook for %r failed (%s: %s); %r stays unpatched",
                name,
                type(exc).__name__,
                exc,
                name,
            )


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once ``name`` is imported (at once if it already is)."""
    module = sys.modules.get(name)
    if module is not None and not _initializing(module):
        _run(name, module, [hook])
        return
    with _lock:
        _hooks.setdefault(name, []).append(hook)
        _install()


def forget(name: str, hook: Hook) -> None:
    """Drop ``hook`` if it is still waiting for ``name`` (it then never runs)."""
    with _lock:
        hooks = _hooks.get(name)
        if hooks:
            hooks[:] = [h for h in hooks if h is not hook]
            if not hooks:
                del _hooks[name]


def pending() -> list[str]:
    """Module names that still have hooks waiting for their import."""
    with _lock:
        return sorted(_hooks)


def clear() -> None:
    """Forget every waiting hook and remove the finder (tests and ``HH_DISABLED``)."""
    with _lock:
        _hooks.clear()
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]


def _initializing(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


def _fire(name: str, module: ModuleType) -> None:
    with _lock:
        hooks = _hooks.pop(name, [])
    if hooks:
        _run(name, module, hooks)


class _Finder:
    """Finds nothing itself: asks the other finders and wraps their loader."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _hooks or fullname in _finding:
            return None
        _finding.add(fullname)
        try:
            for finder in sys.meta_path:
                if finder is self or isinstance(finder, _Finder):
                    continue
                find = getattr(finder, "find_spec", None)
                if find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            _finding.discard(fullname)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        spec.loader = _Loader(fullname, loader)
        return spec

    def invalidate_caches(self) -> None:
        return None


class _Loader:
    """Delegates to the real loader; runs the hooks after ``exec_module``."""

    def __init__(self, name: str, loader: Any) -> None:
        self._name = name
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        # Put the real loader back first, so the module (and anything that
        # inspects __loader__ / __spec__.loader, like importlib.resources)
        # never sees this wrapper.
        module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self._loader
        self._loader.exec_module(module)
        _fire(self._name, sys.modules.get(self._name, module))

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._loader, attr)

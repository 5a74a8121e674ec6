"""Map a call's arguments to parameter names, cheaply.

:func:`inspect.Signature.bind` costs several microseconds per call and builds
objects the tracer throws away. :class:`ArgumentBinder` reads the signature
once, on the first call, and afterwards binds with a couple of dict
operations. The result matches ``Signature.bind(...).arguments`` with defaults
applied, minus ``self``/``cls``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ArgumentBinder"]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_RECEIVER_NAMES = ("self", "cls")


class ArgumentBinder:
    """Bind ``(args, kwargs)`` of one function to its parameter names.

    ``func`` is the plain function (``staticmethod``/``classmethod``
    unwrapped). The signature is computed lazily on the first :meth:`bind`,
    so decorating costs nothing at import time.
    """

    __slots__ = (
        "_defaults",
        "_func",
        "_keywords",
        "_positional",
        "_ready",
        "_receiver_named",
        "_unsupported",
        "_varargs",
        "_varkw",
    )

    def __init__(self, func: Callable[..., Any]) -> None:
        self._func = func
        self._ready = False
        self._unsupported = False
        self._positional: tuple[str, ...] = ()
        self._keywords: frozenset[str] = frozenset()
        self._varargs: str | None = None
        self._varkw: str | None = None
        self._defaults: tuple[tuple[str, Any], ...] = ()
        self._receiver_named = False

    def _prepare(self) -> None:
        try:
            params = tuple(inspect.signature(self._func).parameters.values())
        except (TypeError, ValueError):
            # Builtins and some C callables have no introspectable signature.
            self._unsupported = True
            self._ready = True
            return
        self._positional = tuple(p.name for p in params if p.kind in _POSITIONAL)
        self._keywords = frozenset(p.name for p in params if p.kind in _KEYWORD)
        for p in params:
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                self._varargs = p.name
            elif p.kind is inspect.Parameter.VAR_KEYWORD:
                self._varkw = p.name
        self._defaults = tuple(
            (p.name, p.default) for p in params if p.default is not inspect.Parameter.empty
        )
        self._receiver_named = bool(self._positional) and self._positional[0] in _RECEIVER_NAMES
        self._ready = True

    def bind(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], *, receiver_bound: bool
    ) -> dict[str, Any]:
        """The call's arguments by parameter name, without ``self``/``cls``.

        ``receiver_bound`` says the receiver (instance or class) was already
        taken off ``args`` by method binding. Otherwise a first positional
        parameter named ``self`` or ``cls`` is skipped (``classmethod`` over a
        wrapper on Python >= 3.13 passes ``cls`` in ``args``).
        """
        if not self._ready:
            self._prepare()
        if self._unsupported:
            out: dict[str, Any] = {}
            if args:
                out["args"] = args
            if kwargs:
                out["kwargs"] = dict(kwargs)
            return out
        names = self._positional
        skip = ""
        if receiver_bound:
            skip = names[0] if names else ""
            names = names[1:]
        elif self._receiver_named and args:
            skip = names[0]
            names = names[1:]
            args = args[1:]
        out = dict(zip(names, args, strict=False))
        if len(args) > len(names) and self._varargs is not None:
            out[self._varargs] = args[len(names) :]
        if kwargs:
            varkw = self._varkw
            extra: dict[str, Any] = {}
            for key, value in kwargs.items():
                if key in self._keywords:
                    out[key] = value
                elif varkw is not None:
                    extra[key] = value
            if varkw is not None and extra:
                out[varkw] = extra
        for key, value in self._defaults:
            if key not in out and key != skip:
                out[key] = value
        return out

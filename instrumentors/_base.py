"""The shared base of every LLM library instrumentor: lazy, guarded, reversible patching.

How a library instrumentor is written
-------------------------------------
Subclass :class:`LLMInstrumentor`, set three class attributes and return a
declarative patch table from :meth:`~LLMInstrumentor.patches`::

    class AcmeInstrumentor(LLMInstrumentor):
        name = "acme"                        # key in instrumentors.KNOWN and in the config
        library = "acme"                     # the import name of the SDK
        dependencies = ("acme >= 1.0",)      # requirement strings, as in pyproject

        def patches(self) -> Sequence[Patch]:
            return (
                Patch("acme.resources.chat", "Chat.create", chat_wrapper(operation="chat")),
                Patch("acme.resources.chat", "AsyncChat.create", chat_wrapper(..., is_async=True)),
            )

A :class:`Patch` names a module, a dotted ``"Class.method"`` inside it and a
*wrapper factory*. The factory runs once, at patch time, with the
instrumentor as its only argument, and returns a wrapt wrapper
``wrapper(wrapped, instance, args, kwargs)``. Precompute everything that does
not depend on the call (operation name, provider, which keyword arguments map
to which attributes) in the factory, so the per-call path stays short.
Inside the wrapper:

* return ``wrapped(*args, **kwargs)`` untouched when ``inst.should_skip_call()``
  is true (OpenTelemetry suppression, a peer-conflict policy, or a call nested
  in another traced call of the same library);
* wrap the SDK call in ``token = inst.enter_call()`` / ``inst.exit_call(token)``
  so that nested calls (SDK helpers calling patched methods) are skipped;
* start spans with ``inst.tracer`` and turn values into attributes with
  ``inst.serializer`` (the helpers in :mod:`instrumentors._span` and
  :mod:`instrumentors._stream` do both);
* never let the agent's own failures reach the app: only the exception raised
  by ``wrapped`` itself may propagate, unchanged.

Patching is lazy: each patch module that is already imported is patched at
once, every other one through a post-import hook
(:func:`wrapt.register_post_import_hook`) when the app imports it, so nothing
here imports the SDK. ``hh_tracer`` (a ``HoneyHiveTracer`` or a zero-argument
callable returning one) is resolved only when the first patch is applied.
Every hook and every patch is guarded: a failure undoes this instrumentor's
patches, logs one warning and never breaks the app's import. Targets missing
in an older or newer SDK are skipped quietly (debug log). ``instrument()`` is
idempotent; ``uninstrument()`` removes every wrapper and disarms pending hooks.
:attr:`LLMInstrumentor.patched_targets` lists what is currently wrapped (for
peer-conflict detection), and :attr:`LLMInstrumentor.calls_disabled` switches
our spans off for every call without unpatching.
"""

from __future__ import annotations

import contextvars
import importlib
import sys
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from honeyhive_agent._log import logger, warn_once
from honeyhive_agent.serializer import Serializer

__all__ = ["LLMInstrumentor", "Patch", "Wrapper", "WrapperFactory"]

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
"""A wrapt function wrapper: ``wrapper(wrapped, instance, args, kwargs)``."""
WrapperFactory = Callable[["LLMInstrumentor"], Wrapper]
"""Builds a :data:`Wrapper` at patch time; receives the instrumentor."""

_SUPPRESS_KEY = otel_context._SUPPRESS_INSTRUMENTATION_KEY
_ACTIVE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "honeyhive_agent_llm_call", default=None
)
"""The library whose traced SDK call is running in this context, if any."""
_SUPPRESS_KEY_PLAIN = "suppress_instrumentation"  # what older contrib releases set


@dataclass(frozen=True)
class Patch:
    """One entry of a patch table: wrap ``module.target`` with ``factory(inst)``."""

    module: str
    """The module that defines the class, e.g. ``"openai.resources.embeddings"``."""
    target: str
    """Dotted path inside the module, e.g. ``"Embeddings.create"``."""
    factory: WrapperFactory

    @property
    def key(self) -> str:
        return f"{self.module}:{self.target}"


class _Applied:
    """One wrapper we installed, kept so that it can be removed again."""

    __slots__ = ("handle", "name", "owner")

    def __init__(self, owner: Any, name: str, handle: Any) -> None:
        self.owner = owner
        self.name = name
        self.handle = handle


class LLMInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """An OpenTelemetry ``BaseInstrumentor`` that patches one LLM SDK lazily.

    ``XInstrumentor().instrument(tracer_provider=None, hh_tracer=None)``:
    ``hh_tracer`` wins over ``tracer_provider``; with neither, the global
    provider and a default :class:`~honeyhive_agent.serializer.Serializer`
    are used (plain ``opentelemetry-instrument``). Like every
    ``BaseInstrumentor`` the class is a singleton.
    """

    name: ClassVar[str] = ""
    """Short name: ``instrumentors.KNOWN`` key and ``instrumentors:`` config key."""
    library: ClassVar[str] = ""
    """Import name of the instrumented SDK."""
    dependencies: ClassVar[tuple[str, ...]] = ()
    """Requirement strings checked by ``opentelemetry-instrument``."""

    # BaseInstrumentor is a singleton whose __init__ runs on every
    # ``XInstrumentor()``: keep the state in class defaults that _instrument
    # overwrites on the instance, never in __init__.
    calls_disabled: bool = False
    """When true every call runs unwrapped (a peer instrumentor wins)."""
    _lock: ClassVar[threading.RLock] = threading.RLock()
    _generation: int = 0
    _applied: dict[str, _Applied] | None = None
    _hooks: tuple[tuple[str, Callable[[ModuleType], None]], ...] = ()
    _tracer_provider: Any = None
    _hh_tracer: Any = None
    _resolved: bool = False
    _tracer: otel_trace.Tracer | None = None
    _serializer: Serializer | None = None
    _failed: bool = False

    # ----------------------------------------------------------------- to override
    def patches(self) -> Sequence[Patch]:
        """The declarative patch table of this library."""
        raise NotImplementedError

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.dependencies

    def _check_dependency_conflicts(self) -> Any:
        # The bootstrap instruments a library as it is imported: it is
        # installed, and a package-metadata scan would only add to the app's
        # `import` time. Otherwise (opentelemetry-instrument at start-up) the
        # stock check decides whether we are loaded at all.
        if self.library in sys.modules:
            return None
        return super()._check_dependency_conflicts()

    @property
    def scope(self) -> str:
        """Instrumentation scope name of the spans."""
        return f"honeyhive_agent.instrumentors.{self.name}"

    # ----------------------------------------------------------------- public API
    def instrument(self, **kwargs: Any) -> Any:
        """Patch the library now or on import; never raises (idempotent)."""
        if self.is_instrumented_by_opentelemetry:
            logger.debug("%s: already instrumented", self.name)
            return None
        try:
            return super().instrument(**kwargs)
        except Exception as exc:
            # opentelemetry-instrument asks for conflicts to be raised so it
            # can skip us; anything else must stay inside the agent.
            if kwargs.get("raise_exception_on_conflict") and type(exc).__name__ == (
                "DependencyConflictError"
            ):
                raise
            warn_once(f"instrument:{self.name}", "%s instrumentation not enabled: %r",
                      self.name, exc)
            return None

    def uninstrument(self, **kwargs: Any) -> Any:
        """Remove every wrapper and disarm pending import hooks; never raises."""
        if not self.is_instrumented_by_opentelemetry:
            return None
        try:
            return super().uninstrument(**kwargs)
        except Exception as exc:  # noqa: BLE001 - must never reach the app
            logger.debug("%s: uninstrument failed: %r", self.name, exc)
            return None

    @property
    def patched_targets(self) -> list[str]:
        """``"module:Class.method"`` of every wrapper currently installed."""
        with self._lock:
            return list(self._applied or ())

    @property
    def tracer(self) -> otel_trace.Tracer:
        """The OpenTelemetry tracer our spans go to (resolved at first patch)."""
        tracer = self._tracer
        if tracer is None:
            self._resolve()
            tracer = self._tracer
            assert tracer is not None
        return tracer

    @property
    def serializer(self) -> Serializer:
        """The tracer's serializer (``capture_content``, ``redact``, truncation)."""
        serializer = self._serializer
        if serializer is None:
            self._resolve()
            serializer = self._serializer
            assert serializer is not None
        return serializer

    def should_skip_call(self) -> bool:
        """True when this call must run without our span (checked per call).

        Also true inside another traced call of the same library (an SDK
        helper calling a patched method: one span, the outer one).
        """
        if self.calls_disabled or _ACTIVE.get() == self.name:
            return True
        context = otel_context.get_current()
        return bool(context.get(_SUPPRESS_KEY) or context.get(_SUPPRESS_KEY_PLAIN))

    def enter_call(self) -> contextvars.Token[str | None]:
        """Mark the SDK call now running as traced; pass the token to :meth:`exit_call`."""
        return _ACTIVE.set(self.name)

    @staticmethod
    def exit_call(token: contextvars.Token[str | None]) -> None:
        try:
            _ACTIVE.reset(token)
        except ValueError:  # reset from another context (a generator moved threads)
            _ACTIVE.set(None)

    # Alias under the name the launcher's peer-conflict code may override.
    _should_skip_call = should_skip_call

    # ----------------------------------------------------------------- BaseInstrumentor
    def _instrument(self, **kwargs: Any) -> None:
        if kwargs.get("hh_tracer") is None:
            # Started outside the agent's bootstrap (stock opentelemetry-instrument,
            # instrument() in code): a peer instrumentor must still not double spans.
            _arbitrate_peers(self)
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._tracer_provider = kwargs.get("tracer_provider")
            self._hh_tracer = kwargs.get("hh_tracer")
            self._resolved = False
            self._tracer = None
            self._serializer = None
            self._failed = False
            self._applied = {}
            table = list(self.patches())
        modules = list(dict.fromkeys(p.module for p in table))
        hooked = []
        for module_name in modules:
            patches = [p for p in table if p.module == module_name]
            module = sys.modules.get(module_name)
            if module is not None:
                self._apply(module, patches, generation)
                continue
            hook = self._hook(patches, generation)
            hooked.append((module_name, hook))
            wrapt.register_post_import_hook(hook, module_name)
        self._hooks = tuple(hooked)

    def _uninstrument(self, **kwargs: Any) -> None:
        with self._lock:
            self._generation += 1  # pending hooks see a stale generation: no-ops
            applied, self._applied = self._applied or {}, {}
            hooked, self._hooks = self._hooks, ()
        for key, entry in applied.items():
            self._remove(key, entry)
        _forget_hooks(hooked)

    # ----------------------------------------------------------------- internals
    def _hook(self, patches: list[Patch], generation: int) -> Callable[[ModuleType], None]:
        def on_import(module: ModuleType) -> None:
            # Runs inside the app's import statement: must never raise.
            try:
                self._apply(module, patches, generation)
            except BaseException as exc:  # noqa: BLE001 - the import must succeed
                logger.debug("%s: import hook failed: %r", self.name, exc)

        return on_import

    def _apply(self, module: ModuleType, patches: list[Patch], generation: int) -> None:
        with self._lock:
            if generation != self._generation or self._failed or self._applied is None:
                return
            try:
                self._resolve()
                if self._tracer is None:
                    logger.debug("%s: no tracer (agent disabled): not patching", self.name)
                    return
                for patch in patches:
                    self._apply_one(module, patch)
            except Exception as exc:  # noqa: BLE001 - leave the library as it was
                self._failed = True
                applied, self._applied = self._applied, {}
                for key, entry in applied.items():
                    self._remove(key, entry)
                warn_once(
                    f"patch:{self.name}",
                    "%s instrumentation disabled: patching %s failed: %r",
                    self.name,
                    module.__name__,
                    exc,
                )

    def _apply_one(self, module: ModuleType, patch: Patch) -> None:
        assert self._applied is not None
        key = patch.key
        if key in self._applied:
            return
        owner: Any = module
        *path, attribute = patch.target.split(".")
        for part in path:
            owner = getattr(owner, part, None)
            if owner is None:
                logger.debug("%s: %s not found, skipped", self.name, key)
                return
        if getattr(owner, attribute, None) is None:
            logger.debug("%s: %s not found, skipped", self.name, key)
            return
        for entry in self._applied.values():
            # The same class re-exported under another module path (older
            # and newer SDK layouts listed side by side): wrap it once.
            if entry.owner is owner and entry.name == attribute:
                return
        wrapper = patch.factory(self)
        handle = wrapt.wrap_function_wrapper(owner, attribute, wrapper)
        self._applied[key] = _Applied(owner, attribute, handle)

    def _remove(self, key: str, entry: _Applied) -> None:
        try:
            unwrap_object = getattr(wrapt, "unwrap_object", None)
            if unwrap_object is not None:
                # wrapt >= 2 splices us out even when a peer wrapped on top.
                unwrap_object(entry.owner, entry.name, entry.handle, missing_ok=True)
                return
            current = entry.owner.__dict__.get(entry.name)
            if current is entry.handle:
                setattr(entry.owner, entry.name, entry.handle.__wrapped__)
            else:
                logger.debug("%s: %s was rewrapped by someone else; left in place",
                             self.name, key)
        except Exception as exc:  # noqa: BLE001
            logger.debug("%s: could not unwrap %s: %r", self.name, key, exc)

    def _resolve(self) -> None:
        if self._resolved:
            return
        self._resolved = True
        hh = self._hh_tracer
        if hh is not None and not hasattr(hh, "get_otel_tracer") and callable(hh):
            hh = hh()
            if hh is None:
                return
        version = _library_version(self.library)
        if hh is not None:
            self._tracer = hh.get_otel_tracer(self.scope, version)
            serializer = getattr(hh, "serializer", None)
            self._serializer = serializer if isinstance(serializer, Serializer) else Serializer()
            return
        self._tracer = otel_trace.get_tracer(
            self.scope, version, tracer_provider=self._tracer_provider
        )
        self._serializer = Serializer()


def _arbitrate_peers(inst: LLMInstrumentor) -> None:
    """Apply ``instrumentors.NAME.on_conflict`` to peers of ``inst`` (see ``_peers``)."""
    try:
        from honeyhive_agent import _peers

        _peers.arbitrate(inst.name, inst)
    except Exception as exc:  # noqa: BLE001 - arbitration is best effort
        logger.debug("%s: peer arbitration failed: %r", inst.name, exc)


def _library_version(library: str) -> str | None:
    """The SDK's ``__version__`` when it is imported (no metadata scan)."""
    module = sys.modules.get(library)
    version = getattr(module, "__version__", None)
    return version if isinstance(version, str) else None


def _forget_hooks(hooks: Sequence[tuple[str, Callable[[ModuleType], None]]]) -> None:
    """Drop our pending hooks from wrapt's table (best effort, private API).

    The hooks are already inert through the generation check; this only
    keeps repeated instrument/uninstrument cycles from piling them up.
    """
    try:
        importer: Any = importlib.import_module("wrapt.importer")

        table = importer._post_import_hooks
        with importer._post_import_hooks_lock:
            for name, hook in hooks:
                pending = table.get(name)
                if pending:
                    pending[:] = [h for h in pending if h is not hook]
                    if not pending:
                        del table[name]
    except Exception as exc:  # noqa: BLE001
        logger.debug("could not forget import hooks: %r", exc)

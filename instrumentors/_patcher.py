"""The patching engine of every LLM library instrumentor: lazy, guarded, reversible.

:class:`LLMPatcher` holds everything an instrumentor does (patch table,
post-import hooks, wrapt wrap/unwrap, tracer resolution, per-call skip
checks) without depending on OpenTelemetry's ``BaseInstrumentor``: the
zero-code bootstrap patches a library through it the moment the app imports
that library, and importing ``opentelemetry.instrumentation`` (its
``packaging`` requirement parser, its semantic-convention tables) would add
to that ``import``. :class:`instrumentors._base.LLMInstrumentor` is the thin
``BaseInstrumentor`` face of the same engine, for ``opentelemetry-instrument``
entry points and ``XInstrumentor().instrument(...)`` in code; how to write an
instrumentor is described there.

One state per patch table: every class that inherits its :meth:`~LLMPatcher.patches`
from the same class shares one instance state (``OpenAIPatcher()`` and
``OpenAIInstrumentor()`` are two faces of the same patched library), so
instrumenting through one and asking or uninstrumenting through the other
behaves like a single ``BaseInstrumentor`` singleton.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from honeyhive_agent import _hooks
from honeyhive_agent._log import logger, warn_once
from honeyhive_agent.serializer import Serializer

if TYPE_CHECKING:
    from opentelemetry import trace as otel_trace

    from honeyhive_agent.tracer.emitter import FinishedSpanEmitter

# wrapt and OpenTelemetry are imported when the first patch is applied (or
# the first call is checked), not when a library's import registers hooks:
# `import openai` arms hooks on its resource modules, which openai itself
# imports only when the app first uses them.

__all__ = ["LLMPatcher", "Patch", "Wrapper", "WrapperFactory"]

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
"""A wrapt function wrapper: ``wrapper(wrapped, instance, args, kwargs)``."""
WrapperFactory = Callable[["LLMPatcher"], Wrapper]
"""Builds a :data:`Wrapper` at patch time; receives the instrumentor."""

_otel_context: Any = None
"""``opentelemetry.context``, once :func:`_load_otel_context` ran."""
_SUPPRESS_KEY: Any = None
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


_STATES: dict[type, dict[str, Any]] = {}
"""Instance state per patch-table class (see :meth:`LLMPatcher.__new__`)."""


def _table_owner(cls: type) -> type:
    """The class whose ``patches`` ``cls`` uses: the key of its shared state."""
    for klass in cls.__mro__:
        if "patches" in vars(klass):
            return klass
    return cls


class LLMPatcher:
    """Patches one LLM SDK lazily; the engine behind every instrumentor.

    ``instrument(tracer_provider=None, hh_tracer=None)``: ``hh_tracer`` wins
    over ``tracer_provider``; with neither, the global provider and a default
    :class:`~honeyhive_agent.serializer.Serializer` are used. One instance
    per class (like a ``BaseInstrumentor``), and one state per patch table:
    see the module docstring.
    """

    name: ClassVar[str] = ""
    """Short name: ``instrumentors.KNOWN`` key and ``instrumentors:`` config key."""
    library: ClassVar[str] = ""
    """Import name of the instrumented SDK."""
    dependencies: ClassVar[tuple[str, ...]] = ()
    """Requirement strings checked by ``opentelemetry-instrument``."""

    # A singleton whose __init__ runs on every ``XPatcher()``: keep the state
    # in class defaults that _instrument overwrites on the instance, never in
    # __init__.
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
    _emitter: FinishedSpanEmitter | None = None
    _serializer: Serializer | None = None
    _failed: bool = False
    _instrumented: bool = False

    _singleton: ClassVar[LLMPatcher | None] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        instance = vars(cls).get("_singleton")
        if instance is not None:
            return instance
        with LLMPatcher._lock:
            instance = vars(cls).get("_singleton")
            if instance is None:
                instance = object.__new__(cls)
                # Shared with every class using the same patch table.
                instance.__dict__ = _STATES.setdefault(_table_owner(cls), {})
                cls._singleton = instance
        return instance

    # ----------------------------------------------------------------- to override
    def patches(self) -> Sequence[Patch]:
        """The declarative patch table of this library."""
        raise NotImplementedError

    @property
    def scope(self) -> str:
        """Instrumentation scope name of the spans."""
        return f"honeyhive_agent.instrumentors.{self.name}"

    # ----------------------------------------------------------------- state
    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        """Whether :meth:`instrument` is in effect (through either face)."""
        return self._instrumented

    # BaseInstrumentor.instrument()/uninstrument() set this flag: keep one.
    @property
    def _is_instrumented_by_opentelemetry(self) -> bool:
        return self._instrumented

    @_is_instrumented_by_opentelemetry.setter
    def _is_instrumented_by_opentelemetry(self, value: bool) -> None:
        self._instrumented = bool(value)

    # ----------------------------------------------------------------- public API
    def instrument(self, **kwargs: Any) -> Any:
        """Patch the library now or on import; never raises (idempotent).

        No dependency check: the bootstrap calls this when the library has
        just been imported (``LLMInstrumentor`` adds the stock check).
        """
        if self._instrumented:
            logger.debug("%s: already instrumented", self.name)
            return None
        kwargs.pop("skip_dep_check", None)
        kwargs.pop("raise_exception_on_conflict", None)
        try:
            self._instrument(**kwargs)
        except Exception as exc:  # noqa: BLE001 - must never reach the app
            warn_once(f"instrument:{self.name}", "%s instrumentation not enabled: %r",
                      self.name, exc)
            return None
        self._instrumented = True
        return None

    def uninstrument(self, **kwargs: Any) -> Any:
        """Remove every wrapper and disarm pending import hooks; never raises."""
        if not self._instrumented:
            return None
        try:
            self._uninstrument(**kwargs)
        except Exception as exc:  # noqa: BLE001 - must never reach the app
            logger.debug("%s: uninstrument failed: %r", self.name, exc)
            return None
        self._instrumented = False
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
    def emitter(self) -> FinishedSpanEmitter | None:
        """Records our finished spans without the SDK's span object, when the
        tracer's pipeline allows it (see :mod:`honeyhive_agent.tracer.emitter`)."""
        if not self._resolved:
            self._resolve()
        return self._emitter

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
        otel_context = _otel_context or _load_otel_context()
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

    # ----------------------------------------------------------------- engine
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
            self._emitter = None
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
            _hooks.when_imported(module_name, hook)
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
        import wrapt

        handle = wrapt.wrap_function_wrapper(owner, attribute, wrapper)
        self._applied[key] = _Applied(owner, attribute, handle)

    def _remove(self, key: str, entry: _Applied) -> None:
        try:
            import wrapt

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
        else:
            from opentelemetry import trace as otel_trace

            self._tracer = otel_trace.get_tracer(
                self.scope, version, tracer_provider=self._tracer_provider
            )
            self._serializer = Serializer()
        self._emitter = _emitter_for(self._tracer)


def _emitter_for(tracer: object) -> FinishedSpanEmitter | None:
    try:
        from honeyhive_agent.tracer.emitter import FinishedSpanEmitter

        return FinishedSpanEmitter.for_tracer(tracer)
    except Exception as exc:  # noqa: BLE001 - no SDK, or one we do not know: the slow path
        logger.debug("finished-span emitter unavailable: %r", exc)
        return None


def _arbitrate_peers(inst: LLMPatcher) -> None:
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
    """Drop our pending post-import hooks (best effort).

    The hooks are already inert through the generation check; this only
    keeps repeated instrument/uninstrument cycles from piling them up.
    """
    try:
        for name, hook in hooks:
            _hooks.forget(name, hook)
    except Exception as exc:  # noqa: BLE001
        logger.debug("could not forget import hooks: %r", exc)


def _load_otel_context() -> Any:
    """Import ``opentelemetry.context`` (first patch or first checked call)."""
    global _otel_context, _SUPPRESS_KEY
    from opentelemetry import context

    _SUPPRESS_KEY = context._SUPPRESS_INSTRUMENTATION_KEY
    _otel_context = context
    return context

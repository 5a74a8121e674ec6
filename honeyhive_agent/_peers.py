"""One span per LLM call when a peer instrumentor patches the same library.

Peers are OpenLLMetry (``opentelemetry-instrumentation-openai/-anthropic``),
OpenInference (``openinference-instrumentation-*``) and the official
``opentelemetry-instrumentation-openai-v2`` and ``-genai-openai/-anthropic``.
Whichever starts first, the policy ``instrumentors.NAME.on_conflict`` decides who records the call:

``honeyhive`` (default)
    a peer that is already active is uninstrumented before we patch; a peer
    that instruments later (``opentelemetry-instrument`` loading it through
    its entry point, or the app calling ``.instrument()``) is skipped.
``peer``
    our wrappers stay installed but pass every call through
    (``LLMInstrumentor.calls_disabled``) while the peer is active.

The peer modules are watched with post-import hooks, so nothing is imported
to find out. A wrapper of unknown origin on one of our targets is reported
once: we cannot remove it, and both may then record the call.
"""

from __future__ import annotations

import _thread  # threading.RLock() is _thread.RLock(); threading costs start-up time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from honeyhive_agent.config.model import AgentConfig, InstrumentorConfig

__all__ = [
    "PEERS",
    "Peer",
    "active_peers",
    "arbitrate",
    "register_ours",
    "resolve_before_patch",
    "watch",
]


@dataclass(frozen=True)
class Peer:
    """A known third-party instrumentor of one of our libraries."""

    library: str
    """Our instrumentor name (``instrumentors.KNOWN`` key)."""
    module: str
    cls: str
    distribution: str
    """The package that ships it."""

    @property
    def label(self) -> str:
        return self.distribution


PEERS: tuple[Peer, ...] = (
    Peer("openai", "opentelemetry.instrumentation.openai_v2", "OpenAIInstrumentor",
         "opentelemetry-instrumentation-openai-v2"),
    Peer("openai", "opentelemetry.instrumentation.openai", "OpenAIInstrumentor",
         "opentelemetry-instrumentation-openai"),
    Peer("openai", "openinference.instrumentation.openai", "OpenAIInstrumentor",
         "openinference-instrumentation-openai"),
    Peer("anthropic", "opentelemetry.instrumentation.anthropic", "AnthropicInstrumentor",
         "opentelemetry-instrumentation-anthropic"),
    Peer("anthropic", "openinference.instrumentation.anthropic", "AnthropicInstrumentor",
         "openinference-instrumentation-anthropic"),
    Peer("openai", "opentelemetry.instrumentation.genai.openai", "OpenAIInstrumentor",
         "opentelemetry-instrumentation-genai-openai"),
    Peer("anthropic", "opentelemetry.instrumentation.genai.anthropic", "AnthropicInstrumentor",
         "opentelemetry-instrumentation-genai-anthropic"),
)

_OUR_MODULE_PREFIXES = ("instrumentors.", "honeyhive_agent.")
_GUARD = "_honeyhive_agent_guard"

_lock = _thread.RLock()
_policy: dict[str, str] = {}
"""library -> on_conflict, for every library our agent instruments."""
_ours: dict[str, Any] = {}
"""library -> our instrumentor, once it exists."""
_peer_active: dict[str, Peer] = {}
"""library -> the peer currently recording it (policy ``peer``)."""


def watch(config: AgentConfig, libraries: list[str] | None = None) -> None:
    """Arbitrate every known peer of the libraries we instrument (lazy, idempotent)."""
    from honeyhive_agent import _hooks

    for peer in PEERS:
        if libraries is not None and peer.library not in libraries:
            continue
        settings = config.instrumentor(peer.library)
        if not settings.enabled:
            continue
        with _lock:
            _policy[peer.library] = settings.on_conflict
        _hooks.when_imported(peer.module, _guard_hook(peer))


def arbitrate(library: str, instrumentor: Any, on_conflict: str = "honeyhive") -> None:
    """Arbitrate ``library``'s peers for an instrumentor started outside the bootstrap.

    For ``XInstrumentor().instrument()`` in code or a stock
    ``opentelemetry-instrument`` run: applies ``on_conflict`` to peers already
    active and guards those loaded later. A policy the bootstrap already set wins.
    """
    from honeyhive_agent import _hooks
    from honeyhive_agent.config.model import InstrumentorConfig

    with _lock:
        known = _policy.get(library)
    if known is None:
        known = _configured_policy(library) or on_conflict
    with _lock:
        policy = _policy.setdefault(library, known)
    for peer in PEERS:
        if peer.library == library:
            _hooks.when_imported(peer.module, _guard_hook(peer))
    settings = InstrumentorConfig(on_conflict="peer" if policy == "peer" else "honeyhive")
    resolve_before_patch(library, instrumentor, settings)


def _configured_policy(library: str) -> str | None:
    """``instrumentors.LIBRARY.on_conflict`` from the configuration, if it loads."""
    try:
        from honeyhive_agent.config.loader import load_config

        return load_config().instrumentor(library).on_conflict
    except Exception:  # noqa: BLE001 - a broken config is reported elsewhere
        return None


def register_ours(library: str, instrumentor: Any) -> None:
    """Record our instrumentor; with policy ``peer`` and an active peer, mute it."""
    with _lock:
        _ours[library] = instrumentor
        peer = _peer_active.get(library)
    if peer is not None:
        instrumentor.calls_disabled = True


def active_peers(library: str) -> list[Peer]:
    """Known peers of ``library`` that report themselves instrumented now."""
    import sys

    found = []
    for peer in PEERS:
        if peer.library != library:
            continue
        module = sys.modules.get(peer.module)
        cls = getattr(module, peer.cls, None)
        if cls is None:
            continue
        try:
            if cls().is_instrumented_by_opentelemetry:
                found.append(peer)
        except Exception:  # noqa: BLE001 - a broken peer is not our problem
            from honeyhive_agent._log import logger

            logger.debug("could not ask %s whether it is active", peer.distribution)
    return found


def resolve_before_patch(
    library: str, instrumentor: Any, settings: InstrumentorConfig | None
) -> bool:
    """Apply the policy to peers already active; return whether to patch at all."""
    policy = settings.on_conflict if settings is not None else "honeyhive"
    for peer in active_peers(library):
        if policy == "peer":
            _announce(peer, winner="peer")
            with _lock:
                _peer_active[library] = peer
        else:
            _announce(peer, winner="honeyhive")
            _uninstrument_peer(peer)
            _strip_peer_wrappers(peer, instrumentor)
    register_ours(library, instrumentor)
    _report_unknown_wrappers(library, instrumentor)
    return True


def _announce(peer: Peer, *, winner: str) -> None:
    from honeyhive_agent._log import warn_once

    if winner == "honeyhive":
        message = (
            "%s is also instrumented by %s; honeyhive-agent records its calls and the peer's "
            "instrumentation is switched off (instrumentors.%s.on_conflict: honeyhive)"
        )
    else:
        message = (
            "%s is also instrumented by %s; the peer records its calls and honeyhive-agent's "
            "spans for it are off (instrumentors.%s.on_conflict: peer)"
        )
    warn_once(f"peer:{peer.library}:{peer.module}", message, peer.library, peer.label,
              peer.library)


def _uninstrument_peer(peer: Peer) -> None:
    import sys

    cls = getattr(sys.modules.get(peer.module), peer.cls, None)
    if cls is None:
        return
    try:
        cls().uninstrument()
    except Exception as exc:  # noqa: BLE001
        from honeyhive_agent._log import warn_once

        warn_once(f"peer-off:{peer.module}", "could not switch %s off: %r", peer.distribution, exc)


def _guard_hook(peer: Peer) -> Callable[[ModuleType], None]:
    def hook(module: ModuleType) -> None:
        cls = getattr(module, peer.cls, None)
        if cls is not None:
            _guard(peer, cls)

    hook.__name__ = f"guard_{peer.module.replace('.', '_')}"
    return hook


def _guard(peer: Peer, cls: Any) -> None:
    """Wrap the peer class's ``_instrument``/``_uninstrument`` with the policy."""
    if getattr(cls, _GUARD, False):
        return
    original_instrument = cls._instrument
    original_uninstrument = cls._uninstrument

    def _instrument(self: Any, **kwargs: Any) -> Any:
        with _lock:
            policy = _policy.get(peer.library)
        if policy is None:
            return original_instrument(self, **kwargs)
        if policy == "honeyhive":
            _announce(peer, winner="honeyhive")
            self._honeyhive_agent_skipped = True
            return None
        _announce(peer, winner="peer")
        with _lock:
            _peer_active[peer.library] = peer
            ours = _ours.get(peer.library)
        if ours is not None:
            ours.calls_disabled = True
        self._honeyhive_agent_skipped = False
        return original_instrument(self, **kwargs)

    def _uninstrument(self: Any, **kwargs: Any) -> Any:
        if getattr(self, "_honeyhive_agent_skipped", False):
            # We skipped its patching: its unwrap would remove *our* wrappers.
            self._honeyhive_agent_skipped = False
            return None
        with _lock:
            if _peer_active.get(peer.library) == peer:
                del _peer_active[peer.library]
                ours = _ours.get(peer.library)
            else:
                ours = None
        result = original_uninstrument(self, **kwargs)
        if ours is not None:
            ours.calls_disabled = False
        return result

    cls._instrument = _instrument
    cls._uninstrument = _uninstrument
    setattr(cls, _GUARD, True)


def _targets(instrumentor: Any) -> list[tuple[Any, str, str]]:
    """``(owner, attribute, key)`` of our patch targets whose module is imported."""
    import sys

    try:
        patches = instrumentor.patches()
    except Exception:  # noqa: BLE001
        return []
    found = []
    for patch in patches:
        owner: Any = sys.modules.get(patch.module)
        *path, attribute = patch.target.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        if owner is not None and hasattr(owner, "__dict__"):
            found.append((owner, attribute, patch.key))
    return found


def _wrapper_origin(value: Any) -> str | None:
    """The module of the wrapt wrapper around ``value``, or None when not wrapped."""
    wrapper = getattr(value, "_self_wrapper", None)
    if wrapper is None:
        return None
    return str(getattr(wrapper, "__module__", None) or "")


def _strip_peer_wrappers(peer: Peer, instrumentor: Any) -> None:
    """Remove wrappers the peer left on our targets after its ``uninstrument``.

    Some peers do not undo everything (OpenLLMetry's openai unwrap misses
    dotted targets); a wrapper still there would record a second span.
    """
    for owner, attribute, key in _targets(instrumentor):
        for _ in range(8):  # peel nested layers of this peer, outermost first
            current = vars(owner).get(attribute)
            origin = _wrapper_origin(current)
            if origin is None or not origin.startswith(peer.module):
                break
            try:
                setattr(owner, attribute, current.__wrapped__)
            except Exception:  # noqa: BLE001
                break
            from honeyhive_agent._log import logger

            logger.debug("removed the %s wrapper left on %s", peer.distribution, key)


def _report_unknown_wrappers(library: str, instrumentor: Any) -> None:
    """Warn once about wrappers on our targets that no known peer owns."""
    for owner, attribute, key in _targets(instrumentor):
        origin = _wrapper_origin(vars(owner).get(attribute))
        if origin is None or origin.startswith(_OUR_MODULE_PREFIXES):
            continue
        if any(origin.startswith(p.module) for p in PEERS):
            continue
        from honeyhive_agent._log import warn_once

        warn_once(
            f"foreign:{library}:{origin}",
            "%s is already wrapped by %s (not a known peer); its calls may be recorded twice",
            key,
            origin,
        )
        return

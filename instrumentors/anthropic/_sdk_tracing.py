"""Keep the SDK's own OpenTelemetry spans from doubling ours.

``anthropic`` 2.x traces every API call itself: each client resolves an
``open_telemetry`` option when it is constructed (the ``open_telemetry=``
argument, else the ``ANTHROPIC_OPEN_TELEMETRY*`` environment variables, else
on) and, whenever a global tracer provider is registered (the distro
registers one), starts a ``CLIENT`` span per call and injects its trace
context into the request headers. With our instrumentor that would be two
spans per call, and the SDK's lacks our contract (content, HoneyHive
attributes, session).

The rule, while our instrumentor is active:

* a client whose user made **no explicit choice** (no ``open_telemetry=``
  argument and no ``ANTHROPIC_OPEN_TELEMETRY*`` variable set) gets the SDK's
  spans switched off, so each call has exactly one span: ours. Copies made
  with ``with_options()`` / ``copy()`` inherit that;
* a client whose user **did** choose (``open_telemetry={...}`` or ``False``,
  or any ``ANTHROPIC_OPEN_TELEMETRY*`` variable) is left exactly as
  configured: with the SDK's spans on there are two spans per call (the
  SDK's and ours, siblings under the app's current span).

Only the client's cached tracer is cleared (``_lazy_tracer = None``, the
SDK's own "no spans" state, which also skips all its per-call span work): the
resolved option the app can read back (``client.open_telemetry``) is
unchanged. The SDK's other spans hang off the same tracer, so the beta tool
runner's ``invoke_agent`` / ``execute_tool`` spans are off too for such
clients; ``open_telemetry={}`` brings all of them back. Clients constructed
before ``instrument()`` keep the SDK's spans (the zero-code path patches at
``import anthropic``, before any client exists). With the SDK's spans off
the SDK also sends no ``traceparent`` header, exactly as when no tracer
provider is registered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from honeyhive_agent._log import logger

__all__ = ["copy_option_wrapper", "set_option_wrapper", "user_configured"]

_ENV_PREFIX = "ANTHROPIC_OPEN_TELEMETRY"
_MARK = "_honeyhive_sdk_spans_off"


class _Inherited(dict):  # type: ignore[type-arg]
    """The resolved option a copy of a switched-off client is given."""


def user_configured(option: Any) -> bool:
    """Whether the app chose the SDK's tracing itself (argument or environment)."""
    if option is not None:
        return True
    return any(key.startswith(_ENV_PREFIX) for key in os.environ)


def set_option_wrapper(_inst: Any) -> Callable[..., Any]:
    """Wrapper of ``BaseClient._set_open_telemetry(self, open_telemetry)``."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        try:
            option = args[0] if args else kwargs.get("open_telemetry")
            inherited = isinstance(option, _Inherited)
            if inherited or not user_configured(option):
                instance._lazy_tracer = None  # the SDK's "this client has no spans"
                setattr(instance, _MARK, True)
        except Exception as exc:  # noqa: BLE001 - never break client construction
            logger.debug("anthropic: could not switch the SDK's own spans off: %r", exc)
        return result

    return wrapper


def copy_option_wrapper(_inst: Any) -> Callable[..., Any]:
    """Wrapper of ``BaseClient._copy_open_telemetry(self, open_telemetry)``.

    A copy given no option of its own keeps the original's: so a copy of a
    switched-off client is switched off too, and the copy of a client the
    user configured stays configured.
    """

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        option = args[0] if args else kwargs.get("open_telemetry")
        if option is None and isinstance(result, dict) and getattr(instance, _MARK, False):
            return _Inherited(result)
        return result

    return wrapper

"""``${VAR}`` and ``${VAR:-default}`` expansion inside YAML string values.

Rules (shell-like, deliberately small):

* ``${VAR}`` is the variable's value, or ``""`` when it is unset.
* ``${VAR:-default}`` is ``default`` when the variable is unset *or empty*.
* ``$$`` is a literal ``$``; a ``$`` not followed by ``{`` or ``$`` is kept.

An unterminated ``${`` is an error rather than silently kept text, because it
is almost always a typo in a value that was meant to come from the
environment (often a secret).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\{"
)


class ExpansionError(ValueError):
    """A ``${...}`` reference that cannot be expanded (the text is not included)."""


class Expanded(str):
    """A string that came out of ``${...}`` expansion.

    The validator accepts such strings for boolean and integer keys (an env
    variable can only hold text), while literal YAML values must be real
    booleans and integers.
    """

    __slots__ = ()


def has_reference(text: str) -> bool:
    """Whether ``text`` contains anything :func:`expand` would change."""
    return "$" in text and ("${" in text or "$$" in text)


def expand(text: str, env: Mapping[str, str]) -> str:
    """Return ``text`` with every reference replaced from ``env``.

    Raises :class:`ExpansionError` for a malformed reference such as an
    unterminated ``${`` or a name that is not a valid variable name.
    """

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$$":
            return "$"
        name = match.group("name")
        if name is None:
            raise ExpansionError("malformed ${...} reference")
        value = env.get(name, "")
        default = match.group("default")
        if default is not None and value == "":
            return default
        return value

    return _TOKEN.sub(replace, text)

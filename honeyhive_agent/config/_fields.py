"""Validators for single configuration values.

Each validator takes a :class:`Node`, the :class:`Where` it came from and the
key to report, and returns the checked Python value, or :data:`UNSET` when
the value is empty (``""`` or null: "not set here", so a lower-precedence
source or the default applies). Failures raise
:class:`~honeyhive_agent.errors.ConfigurationError` through
:meth:`Where.fail`, naming file, line, key and what was expected; values of
secret keys are never quoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import NoReturn

from honeyhive_agent.config._expand import Expanded
from honeyhive_agent.config._node import Node, Record
from honeyhive_agent.config.model import EXPORTER_NAMES
from honeyhive_agent.errors import ConfigurationError


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()
"""Returned for empty values: the key counts as not set in this source."""

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Where(Record):
    """The source being validated: a file (``file`` set) or not (env, arguments)."""

    __slots__ = ("file",)
    file: str | None

    def __init__(self, file: str | None) -> None:
        object.__setattr__(self, "file", file)

    def fail(
        self, reason: str, *, key: str | None, line: int | None, expected: str | None
    ) -> NoReturn:
        raise ConfigurationError(reason, file=self.file, line=line, key=key, expected=expected)


Validator = Callable[[Node, Where, str], object]


def show(value: object, secret: bool = False) -> str:
    """A short, safe rendering of a bad value for an error message."""
    if secret:
        return "the given value (hidden)"
    if isinstance(value, (list, dict)):
        return "[...]" if isinstance(value, list) else "{...}"
    text = repr(str(value) if isinstance(value, Expanded) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    import difflib  # only on the error path

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def text(*, secret: bool = False) -> Validator:
    """A string; numbers are accepted and turned into text (``project: 2024``)."""

    def check(node: Node, where: Where, key: str) -> object:
        value = node.value
        if _is_empty(value):
            return UNSET
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            where.fail(
                f"wrong type: got {type_name(value)}", key=key, line=node.line, expected="a string"
            )
        return str(value).strip()

    return check


def url() -> Validator:
    """An absolute http(s) URL; a trailing slash is dropped."""
    as_text = text()

    def check(node: Node, where: Where, key: str) -> object:
        value = as_text(node, where, key)
        if value is UNSET:
            return UNSET
        assert isinstance(value, str)
        # Deferred: urllib.parse (with ipaddress) costs start-up time, and
        # only a configured URL needs it.
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            where.fail(
                f"invalid URL {show(value)}",
                key=key,
                line=node.line,
                expected="an http:// or https:// URL",
            )
        return value.rstrip("/")

    return check


def boolean() -> Validator:
    """A YAML boolean; text (env vars, ``${VAR}``) may say true/false/1/0/yes/no/on/off."""

    def check(node: Node, where: Where, key: str) -> object:
        value = node.value
        if isinstance(value, bool):
            return value
        if isinstance(value, Expanded):
            word = value.strip().lower()
            if word == "":
                return UNSET
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            expected = "true or false (or 1/0, yes/no, on/off)"
        else:
            if value is None:
                return UNSET
            expected = "true or false"
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                # capture_content: "false" - a quoted word is a string in YAML.
                where.fail(
                    f"wrong type: got {type_name(value)} {show(value)}",
                    key=key,
                    line=node.line,
                    expected="true or false, without quotes",
                )
        where.fail(f"invalid value {show(value)}", key=key, line=node.line, expected=expected)

    return check


def integer(minimum: int = 1) -> Validator:
    """An integer of at least ``minimum``; text from the environment is parsed."""
    expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"

    def check(node: Node, where: Where, key: str) -> object:
        value = node.value
        if isinstance(value, Expanded):
            if value.strip() == "":
                return UNSET
            try:
                value = int(value.strip())
            except ValueError:
                where.fail(
                    f"invalid value {show(str(node.value))}",
                    key=key,
                    line=node.line,
                    expected=expected,
                )
        if value is None:
            return UNSET
        if isinstance(value, bool) or not isinstance(value, int):
            where.fail(
                f"wrong type: got {type_name(value)} {show(value)}",
                key=key,
                line=node.line,
                expected=expected,
            )
        if value < minimum:
            where.fail(f"invalid value {value}", key=key, line=node.line, expected=expected)
        return value

    return check


def choice(options: tuple[str, ...], *, normalize: Callable[[str], str] = str.lower) -> Validator:
    """One of ``options`` (compared after ``normalize``)."""
    expected = "one of " + ", ".join(f"'{o}'" for o in options)

    def check(node: Node, where: Where, key: str) -> object:
        value = node.value
        if _is_empty(value):
            return UNSET
        if not isinstance(value, str):
            where.fail(
                f"wrong type: got {type_name(value)} {show(value)}",
                key=key,
                line=node.line,
                expected=expected,
            )
        word = normalize(value.strip())
        if word not in options:
            where.fail(
                f"invalid value {show(value)}{suggest(word, options)}",
                key=key,
                line=node.line,
                expected=expected,
            )
        return word

    return check


def log_level() -> Validator:
    """A logging level name, case-insensitive (``warn`` means WARNING)."""
    return choice(LOG_LEVELS, normalize=lambda s: "WARNING" if s.upper() == "WARN" else s.upper())


def name_list(
    names: tuple[str, ...], *, what: str, exclusive: str | None = None
) -> Validator:
    """A list of names from ``names``; a single string or a comma list is accepted too.

    ``exclusive`` names a value that cannot be combined with others
    (``none`` among the exporters).
    """
    expected = f"a list of {what}: " + ", ".join(names)

    def check(node: Node, where: Where, key: str) -> object:
        items = _items(node, where, key, expected)
        if items is UNSET:
            return UNSET
        assert isinstance(items, list)
        out: list[str] = []
        for item in items:
            if not isinstance(item.value, str):
                where.fail(
                    f"wrong type: got {type_name(item.value)} {show(item.value)}",
                    key=key,
                    line=item.line,
                    expected=expected,
                )
            for part in item.value.split(","):
                word = part.strip().lower()
                if not word:
                    continue
                if word not in names:
                    where.fail(
                        f"unknown {what.rstrip('s')} {show(part.strip())}{suggest(word, names)}",
                        key=key,
                        line=item.line,
                        expected=expected,
                    )
                if word not in out:
                    out.append(word)
        if not out:
            return UNSET
        if exclusive and exclusive in out and len(out) > 1:
            where.fail(
                f"'{exclusive}' cannot be combined with other {what}",
                key=key,
                line=node.line,
                expected=f"either '{exclusive}' alone or a list without it",
            )
        return tuple(out)

    return check


def exporters() -> Validator:
    return name_list(EXPORTER_NAMES, what="exporters", exclusive="none")


def regex_list() -> Validator:
    """A list of regular expressions (a single string is accepted too)."""
    expected = "a list of valid regular expressions"

    def check(node: Node, where: Where, key: str) -> object:
        items = _items(node, where, key, expected)
        if items is UNSET:
            return UNSET
        assert isinstance(items, list)
        out: list[str] = []
        for index, item in enumerate(items, start=1):
            pattern = item.value
            if isinstance(pattern, bool) or not isinstance(pattern, (str, int, float)):
                where.fail(
                    f"item {index}: wrong type: got {type_name(pattern)}",
                    key=key,
                    line=item.line,
                    expected=expected,
                )
            pattern = str(pattern)
            if pattern == "":
                continue
            try:
                re.compile(pattern)
                # The serializer joins all patterns into one alternation;
                # global flags such as (?i) are only legal at the very start.
                re.compile(f"(?:{pattern})")
            except re.error as exc:
                hint = (
                    "; write global flags as a scoped group, e.g. (?i:secret)"
                    if "global flags" in str(exc)
                    else ""
                )
                where.fail(
                    f"item {index} {show(pattern)} is not a valid regular expression: {exc}{hint}",
                    key=key,
                    line=item.line,
                    expected=expected,
                )
            out.append(pattern)
        return tuple(out) if out else UNSET

    return check


def string_map() -> Validator:
    """A mapping of names to text values (``otlp.headers``, resource attributes).

    Values are never quoted in errors: header values are often credentials.
    """
    expected = "a mapping of names to strings"

    def check(node: Node, where: Where, key: str) -> object:
        if _is_empty(node.value):
            return UNSET
        if not isinstance(node.value, dict):
            where.fail(
                f"wrong type: got {type_name(node.value)}",
                key=key,
                line=node.line,
                expected=expected,
            )
        out: dict[str, str] = {}
        for name, item in node.value.items():
            value = item.value
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                where.fail(
                    f"wrong type: got {type_name(value)}",
                    key=f"{key}.{name}",
                    line=item.line,
                    expected="a string",
                )
            out[str(name).strip()] = str(value).strip()
        return MappingProxyType(out)

    return check


def _items(node: Node, where: Where, key: str, expected: str) -> list[Node] | _Unset:
    if _is_empty(node.value):
        return UNSET
    if isinstance(node.value, list):
        return node.value
    if isinstance(node.value, str):
        return [node]
    where.fail(
        f"wrong type: got {type_name(node.value)}", key=key, line=node.line, expected=expected
    )


def type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return type(value).__name__

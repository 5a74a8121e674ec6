"""Turn arbitrary Python values into OpenTelemetry span attributes.

Every caller (decorators, ``enrich_span``, instrumentors) goes through one
:class:`Serializer`, so ``capture_content``, ``redact`` and truncation apply
the same way everywhere. Structured values are flattened with dots and list
indexes: ``{"a": [{"b": 1}]}`` under prefix ``honeyhive_inputs`` becomes
``honeyhive_inputs.a.0.b = 1``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Union

AttributeValue = Union[str, bool, int, float]
Attributes = dict[str, AttributeValue]

_MAX_DEPTH = 10
_MAX_ITEMS = 256
REDACTED = "[REDACTED]"
TRUNCATED_SUFFIX = "...[truncated]"


class Serializer:
    """Flatten values into span attributes under one tracer's content rules.

    ``capture_content=False`` drops values passed with ``content=True``
    (prompts, completions, function inputs and outputs) while keeping
    configuration, metadata and metrics. ``redact`` is a list of regular
    expressions; every match in every string is replaced by ``[REDACTED]``.
    Strings longer than ``max_length`` are cut and marked.
    """

    __slots__ = ("_redact", "capture_content", "max_length")

    def __init__(
        self,
        *,
        capture_content: bool = True,
        redact: Iterable[str | re.Pattern[str]] = (),
        max_length: int = 16_384,
    ) -> None:
        self.capture_content = capture_content
        self.max_length = max_length
        patterns = [p if isinstance(p, re.Pattern) else re.compile(p) for p in redact]
        self._redact: re.Pattern[str] | None = (
            re.compile("|".join(f"(?:{p.pattern})" for p in patterns)) if patterns else None
        )

    def text(self, value: str) -> str:
        """Apply redaction and truncation to one string."""
        if self._redact is not None:
            value = self._redact.sub(REDACTED, value)
        if len(value) > self.max_length:
            value = value[: self.max_length] + TRUNCATED_SUFFIX
        return value

    def scalar(self, value: Any) -> AttributeValue:
        """One attribute value: scalars as-is, anything else as JSON or ``str``."""
        if value is None:
            return "null"
        if isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping | list | tuple | set | frozenset):
            return self.text(to_json(value))
        plain = to_plain(value)
        if plain is not value:
            return self.text(to_json(plain))
        return self.text(_display(value))

    def flatten(self, prefix: str, value: Any, *, content: bool = False) -> Attributes:
        """Flatten ``value`` under ``prefix`` into a new attribute dict."""
        out: Attributes = {}
        self.flatten_into(out, prefix, value, content=content)
        return out

    def flatten_into(
        self, out: Attributes, prefix: str, value: Any, *, content: bool = False
    ) -> None:
        """Like :meth:`flatten`, writing into ``out`` (the hot-path form)."""
        if content and not self.capture_content:
            return
        self._walk(out, prefix, value, 0)

    def json(self, value: Any, *, content: bool = True) -> str | None:
        """A whole value as one JSON string attribute (GenAI message arrays)."""
        if content and not self.capture_content:
            return None
        return self.text(to_json(value))

    def _walk(self, out: Attributes, key: str, value: Any, depth: int) -> None:
        if value is None or isinstance(value, str | bool | int | float):
            if value is not None:
                out[key] = self.scalar(value)
            return
        if depth >= _MAX_DEPTH:
            out[key] = self.scalar(value)
            return
        if isinstance(value, Mapping):
            for i, (k, v) in enumerate(value.items()):
                if i >= _MAX_ITEMS:
                    break
                self._walk(out, f"{key}.{k}", v, depth + 1)
            return
        if isinstance(value, list | tuple):
            for i, v in enumerate(value[:_MAX_ITEMS]):
                self._walk(out, f"{key}.{i}", v, depth + 1)
            return
        as_dict = to_plain(value)
        if as_dict is not value:
            self._walk(out, key, as_dict, depth + 1)
            return
        out[key] = self.scalar(value)


def to_plain(value: Any) -> Any:
    """Pydantic models and dataclasses as dicts; anything else unchanged."""
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:  # noqa: BLE001 - a user model's dump may fail in any way
            return value
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None and not isinstance(value, type):
        return {name: getattr(value, name, None) for name in fields}
    return value


def to_json(value: Any) -> str:
    """Best-effort JSON: falls back to ``str`` for what JSON cannot hold."""
    try:
        return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    except Exception:  # noqa: BLE001 - circular or hostile objects
        try:
            return str(value)
        except Exception:  # noqa: BLE001
            return f"<{type(value).__name__}>"


def _display(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a hostile __str__
        return f"<{type(value).__name__}>"


def _json_default(value: Any) -> Any:
    plain = to_plain(value)
    if plain is not value:
        return plain
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, set | frozenset):
        return list(value)
    return str(value)

"""The agent's exception hierarchy.

Only :class:`ConfigurationError` is ever meant to reach a user, and then only
from explicit calls (``load_config``, ``HoneyHiveTracer(...)``) or from
``honeyhive-agent doctor``; the zero-code paths catch everything and log.
"""

from __future__ import annotations


class HoneyHiveError(Exception):
    """Base class for every error raised by honeyhive-agent."""


class ConfigurationError(HoneyHiveError):
    """A configuration source holds a value the agent cannot use.

    The message always names where the value came from (``file`` and
    ``line`` for YAML, the variable name for the environment), the ``key``
    and what was ``expected``. Secret values are never included.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.expected = expected
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = []
        if where:
            parts.append(where)
        if self.key:
            parts.append(f"key '{self.key}'")
        head = ": ".join(parts)
        text = f"{head}: {self.reason}" if head else self.reason
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class ExportError(HoneyHiveError):
    """An exporter could not deliver a batch (never raised into the app)."""

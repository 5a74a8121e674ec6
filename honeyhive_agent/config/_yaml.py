"""Read a YAML config file into a :class:`~honeyhive_agent.config._node.Node` tree.

The file is *composed* (not loaded) so every key and value keeps its line;
scalars are then constructed with the safe constructor. Mapping keys are
taken as written (``on:`` stays the string ``"on"``), duplicate keys are an
error, ``<<`` merge keys work, and ``${VAR}`` references in string values
are expanded from the given environment.

``yaml`` is imported here only, and this module is imported only when a file
exists, so an agent without a config file never pays for PyYAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from honeyhive_agent.config._expand import Expanded, ExpansionError, expand, has_reference
from honeyhive_agent.config._node import Node
from honeyhive_agent.errors import ConfigurationError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def read_file(path: Path, file: str, env: Mapping[str, str]) -> Node | None:
    """Parse ``path``; return None for an empty document.

    ``file`` is the name used in error messages. Raises
    :class:`ConfigurationError` for unreadable files, YAML syntax errors and
    malformed ``${...}`` references, always with the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigurationError(
            f"cannot read config file: {reason}", file=file, expected="a readable UTF-8 YAML file"
        ) from None
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"invalid YAML: {type(exc).__name__}", file=file, expected="valid YAML"
        ) from None
    if root is None:
        return None
    return _Converter(file, env).convert(root)


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> ConfigurationError:
    # Only the problem text and its position: str(exc) would quote the
    # offending source line, which may hold a secret.
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = exc.problem or exc.context or "syntax error"
    if exc.context and exc.problem:
        started = exc.context_mark.line + 1 if exc.context_mark is not None else None
        where = f" (started on line {started})" if started and started != line else ""
        problem = f"{exc.context}{where}: {exc.problem}"
    return ConfigurationError(
        f"invalid YAML: {problem}", file=file, line=line, expected="valid YAML"
    )


class _Converter:
    """Turn composed YAML nodes into :class:`Node` trees."""

    def __init__(self, file: str, env: Mapping[str, str]) -> None:
        self._file = file
        self._env = env
        self._constructor = yaml.constructor.SafeConstructor()
        self._open: set[int] = set()

    def convert(
        self, node: yaml.Node, key_line: int | None = None, key: str | None = None
    ) -> Node:
        """``key`` is the dotted path of the value, to name it in errors."""
        line = node.start_mark.line + 1
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            # An alias may point at its own ancestor (`a: &x [*x]`).
            if id(node) in self._open:
                raise ConfigurationError(
                    "recursive alias", file=self._file, line=line, expected="a finite value"
                )
            self._open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return Node(self._mapping(node, key), line, key_line)
                items = [self.convert(item, key=key) for item in node.value]
                return Node(items, line, key_line)
            finally:
                self._open.discard(id(node))
        assert isinstance(node, yaml.ScalarNode)
        return Node(self._scalar(node, line, key), line, key_line)

    def _mapping(self, node: yaml.MappingNode, path: str | None) -> dict[str, Node]:
        out: dict[str, Node] = {}
        merged: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                for source in self._merge_sources(value_node):
                    for key, value in self.convert(source, key=path).value.items():
                        merged.setdefault(key, value)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigurationError(
                    "mapping keys must be plain names",
                    file=self._file,
                    line=key_line,
                    expected="a string key",
                )
            key = str(key_node.value)
            if key in out:
                raise ConfigurationError(
                    f"duplicate key '{key}' (first set on line {out[key].key_line})",
                    file=self._file,
                    line=key_line,
                    key=key,
                    expected="each key at most once per mapping",
                )
            out[key] = self.convert(value_node, key_line, f"{path}.{key}" if path else key)
        # Explicit keys win over merged ones, as in YAML's merge-key spec.
        for key, value in merged.items():
            out.setdefault(key, value)
        return out

    def _merge_sources(self, node: yaml.Node) -> list[yaml.MappingNode]:
        if isinstance(node, yaml.MappingNode):
            return [node]
        if isinstance(node, yaml.SequenceNode) and all(
            isinstance(item, yaml.MappingNode) for item in node.value
        ):
            return list(node.value)
        raise ConfigurationError(
            "'<<' needs a mapping or a list of mappings",
            file=self._file,
            line=node.start_mark.line + 1,
            expected="a mapping alias such as <<: *defaults",
        )

    def _scalar(self, node: yaml.ScalarNode, line: int, key: str | None) -> object:
        if node.tag == _STR_TAG and has_reference(node.value):
            try:
                return Expanded(expand(node.value, self._env))
            except ExpansionError as exc:
                raise ConfigurationError(
                    str(exc),
                    file=self._file,
                    line=line,
                    key=key,
                    expected="${NAME} or ${NAME:-default}",
                ) from None
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            # e.g. an impossible timestamp: keep the text, the validator
            # will report it against the key's expected type.
            return str(node.value)

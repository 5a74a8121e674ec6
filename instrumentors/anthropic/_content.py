"""Anthropic content blocks as GenAI message parts.

The Messages API carries everything as typed content blocks, in requests
(``TypedDict`` params, or SDK models the app passes back) and in responses
(SDK models). This module maps each block to one part of the OpenTelemetry
GenAI message shape (``{"role", "parts": [...]}``), from which both
``gen_ai.*.messages`` and HoneyHive's ``chat_history`` are built:

========================  ===================================================
block                     part
========================  ===================================================
``text``                  ``{"type": "text", "content"}``
``tool_use``              ``{"type": "tool_call", "id", "name", "arguments"}``
``tool_result``           ``{"type": "tool_call_response", "id", "response"}``
                          in a message of its own with role ``tool``
``thinking``              ``{"type": "reasoning", "content"}``
``redacted_thinking``     ``{"type": "reasoning", "content": "[redacted]"}``
``image`` / ``document``  a placeholder: ``blob`` (never the bytes), ``uri``,
                          or ``file`` (``file_id``)
anything else             ``{"type": <block type>}``
========================  ===================================================

Everything here is pure and cheap: no JSON, no copies of large values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from instrumentors._span import media_part, text_part, tool_call_part, tool_response_part

__all__ = [
    "REDACTED_THINKING",
    "block_part",
    "field",
    "input_messages",
    "output_parts",
    "system_parts",
]

Part = dict[str, Any]
Message = dict[str, Any]

REDACTED_THINKING = "[redacted]"
_MISSING = object()
_SEQUENCES = (list, tuple)
TOOL_CALL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_MODALITY = {"image": "image", "document": "document"}


def field(block: Any, name: str, default: Any = None) -> Any:
    """``block[name]`` for a param dict, ``block.name`` for an SDK model."""
    if type(block) is dict:  # params: plain dicts at run time (TypedDict)
        return block.get(name, default)
    value = getattr(block, name, _MISSING)  # SDK models, before the slower ABC check
    if value is not _MISSING:
        return value
    if isinstance(block, Mapping):
        return block.get(name, default)
    return default


def system_parts(system: Any) -> list[Part]:
    """The ``system`` request parameter (a string or text blocks) as parts."""
    if system is None:
        return []
    if isinstance(system, str):
        return [text_part(system)]
    if isinstance(system, _SEQUENCES):
        return [block_part(b) for b in system]
    return []  # an iterator would be consumed before the SDK sends it: not read


def input_messages(messages: Any) -> list[Message]:
    """The ``messages`` request parameter in the GenAI input-message shape.

    ``tool_result`` blocks become messages of role ``tool`` of their own
    (placed where they were, before the rest of that turn), which is how
    OpenTelemetry GenAI and HoneyHive both expect tool output.
    """
    out: list[Message] = []
    # Only lists and tuples are read: iterating a generator the app passed
    # would consume it before the SDK sends the request.
    if not isinstance(messages, _SEQUENCES):
        return out
    for message in messages:
        role = field(message, "role", "user")
        content = field(message, "content")
        if isinstance(content, str):
            out.append({"role": role, "parts": [text_part(content)]})
            continue
        parts: list[Part] = []
        if not isinstance(content, _SEQUENCES):
            content = ()
        for block in content:
            part = block_part(block)
            if part["type"] == "tool_call_response":
                out.append({"role": "tool", "parts": [part]})
            else:
                parts.append(part)
        if parts or not content:
            out.append({"role": role, "parts": parts})
    return out


def output_parts(content: Any) -> list[Part]:
    """A response's ``content`` blocks as parts."""
    return [block_part(b) for b in content] if isinstance(content, _SEQUENCES) else []


def block_part(block: Any) -> Part:
    """One content block as one GenAI part (see the module table)."""
    if isinstance(block, str):
        return text_part(block)
    kind = field(block, "type")
    if kind == "text":
        return text_part(field(block, "text", ""))
    if kind in TOOL_CALL_BLOCKS:
        return tool_call_part(field(block, "id"), field(block, "name"), field(block, "input"))
    if kind == "tool_result":
        return tool_response_part(
            field(block, "tool_use_id"), _tool_result(field(block, "content"))
        )
    if kind == "thinking":
        return {"type": "reasoning", "content": field(block, "thinking", "")}
    if kind == "redacted_thinking":
        return {"type": "reasoning", "content": REDACTED_THINKING}
    if kind in _MODALITY:
        return _media(_MODALITY[kind], field(block, "source"))
    return {"type": str(kind)}


def _tool_result(content: Any) -> Any:
    """A tool result's content: the string, or its blocks reduced to text/placeholders."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, _SEQUENCES):
        return ""
    parts = [block_part(b) for b in content]
    if all(p["type"] == "text" for p in parts):
        return "".join(p["content"] for p in parts)
    return parts


def _media(modality: str, source: Any) -> Part:
    """A placeholder for an image or document: never the base64 payload."""
    kind = field(source, "type")
    if kind == "file":
        return {"type": "file", "modality": modality, "file_id": field(source, "file_id")}
    uri = field(source, "url") if kind == "url" else None
    return media_part(modality, uri=uri, mime_type=field(source, "media_type"))

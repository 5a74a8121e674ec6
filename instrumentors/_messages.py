"""GenAI message parts and the message attributes, shared by the instrumentors.

Parts follow the current GenAI semantic conventions (``text``, ``tool_call``,
``tool_call_response``, ``uri`` / ``blob`` for media, ``reasoning``,
``refusal``); :func:`add_messages` writes them twice: as the
``gen_ai.{system_instructions,input.messages,output.messages}`` JSON strings
and flattened as ``honeyhive_inputs.chat_history.N.*`` /
``honeyhive_outputs.*``. Plain text messages (most traffic) are encoded
without the JSON encoder: this runs on the app's thread for every call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from honeyhive_agent import semconv as sc
from honeyhive_agent.serializer import Attributes, Serializer, _json_default, to_json

__all__ = [
    "Message",
    "add_messages",
    "media_part",
    "part_text",
    "text_part",
    "tool_call_part",
    "tool_response_part",
]

Message = dict[str, Any]
"""A GenAI semconv message: ``{"role", "parts": [...], "finish_reason"?}``."""


def text_part(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "tool_call", "name": name}
    if call_id is not None:
        part["id"] = call_id
    if arguments is not None:
        part["arguments"] = _maybe_json(arguments)
    return part


def tool_response_part(call_id: Any, response: Any) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "tool_call_response", "response": response}
    if call_id is not None:
        part["id"] = call_id
    return part


def media_part(
    modality: str, uri: str | None = None, mime_type: str | None = None
) -> dict[str, Any]:
    """An image/audio/file input: its http(s) URI if it has one, else a placeholder.

    Inline data (base64, ``data:`` URLs) is never recorded.
    """
    if uri and uri.startswith(("http://", "https://")):
        return {"type": "uri", "modality": modality, "uri": uri}
    part: dict[str, Any] = {"type": "blob", "modality": modality, "content": f"[{modality}]"}
    if mime_type:
        part["mime_type"] = mime_type
    return part


def _maybe_json(arguments: Any) -> Any:
    """Tool arguments as an object when they are a JSON object string."""
    if isinstance(arguments, str) and arguments.startswith("{"):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def part_text(part: Mapping[str, Any]) -> str | None:
    """How a part reads in the flattened HoneyHive ``content`` string."""
    kind = part.get("type")
    if kind in ("text", "refusal"):
        content = part.get("content")
        return content if isinstance(content, str) else None
    if kind in ("uri", "blob"):
        return f"[{part.get('modality', 'file')}]"
    return None


def add_messages(
    out: Attributes,
    serializer: Serializer,
    *,
    inputs: Sequence[Message] | None = None,
    outputs: Sequence[Message] | None = None,
    system: Sequence[dict[str, Any]] | None = None,
) -> None:
    """GenAI message JSON plus the flattened HoneyHive inputs/outputs.

    ``system`` holds the system-instruction parts; for HoneyHive they are
    ``chat_history`` entries with role ``system`` (unless ``inputs`` already
    carries them as system messages, as Chat Completions does).
    """
    if not serializer.capture_content:
        return
    if system:
        out[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = _parts_json(serializer, system)
    if inputs is not None:
        out[sc.GEN_AI_INPUT_MESSAGES] = _messages_json(serializer, inputs)
        offset = 0
        if system:
            for message in inputs:
                if message.get("role") in _SYSTEM_ROLES:
                    break
            else:
                _flatten_message(out, serializer, f"{sc.INPUTS}.chat_history.0",
                                 {"role": "system", "parts": system})
                offset = 1
        for i, message in enumerate(inputs, offset):
            keys = _history_keys(i)
            if not _flatten_plain(out, serializer, keys, message):
                _flatten_message(out, serializer, keys[3], message)
    if outputs:
        out[sc.GEN_AI_OUTPUT_MESSAGES] = _messages_json(serializer, outputs)
        if not _flatten_plain(out, serializer, _OUTPUT_KEYS, outputs[0]):
            _flatten_message(out, serializer, sc.OUTPUTS, outputs[0])
        if len(outputs) > 1:
            for i, message in enumerate(outputs):
                _flatten_message(out, serializer, f"{sc.OUTPUTS}.choices.{i}", message)


_SYSTEM_ROLES = ("system", "developer")
_ENCODE = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_json_default
).encode


def _json(serializer: Serializer, value: Any) -> str:
    """``serializer.json`` with a reused encoder (the caller checked capture_content)."""
    try:
        text = _ENCODE(value)
    except Exception:  # noqa: BLE001 - circular or hostile objects
        text = to_json(value)
    return serializer.text(text)


def _messages_json(serializer: Serializer, messages: Sequence[Message]) -> str:
    """JSON of a message list; plain text messages are written without the encoder
    (the common case, and a third of the per-call cost otherwise)."""
    fragments = []
    for message in messages:
        parts = message.get("parts")
        role = message.get("role")
        if type(role) is not str or type(parts) is not list or len(message) > 3:
            return _json(serializer, messages)
        texts = []
        for part in parts:
            content = part.get("content")
            if part.get("type") != "text" or len(part) != 2 or type(content) is not str:
                return _json(serializer, messages)
            texts.append(f'{{"type":"text","content":{_string(content)}}}')
        finish = message.get("finish_reason")
        tail = ""
        if finish is not None:
            if type(finish) is not str or len(message) != 3:
                return _json(serializer, messages)
            tail = f',"finish_reason":{_string(finish)}'
        elif len(message) != 2:
            return _json(serializer, messages)
        fragments.append(f'{{"role":{_string(role)},"parts":[{",".join(texts)}]{tail}}}')
    return serializer.text(f"[{','.join(fragments)}]")


def _parts_json(serializer: Serializer, parts: Sequence[dict[str, Any]]) -> str:
    """JSON of a part list (system instructions); text parts without the encoder."""
    texts = []
    for part in parts:
        content = part.get("content")
        if part.get("type") != "text" or len(part) != 2 or type(content) is not str:
            return _json(serializer, parts)
        texts.append(f'{{"type":"text","content":{_string(content)}}}')
    return serializer.text(f"[{','.join(texts)}]")


_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


_Keys = tuple[str, str, str, str]  # role, content, finish_reason keys; the prefix
_OUTPUT_KEYS: _Keys = (
    f"{sc.OUTPUTS}.role", f"{sc.OUTPUTS}.content", f"{sc.OUTPUTS}.finish_reason", sc.OUTPUTS
)
_HISTORY_KEYS: list[_Keys] = []


def _history_keys(i: int) -> _Keys:
    """``honeyhive_inputs.chat_history.{i}.*`` key strings, built once per index."""
    keys = _HISTORY_KEYS
    while len(keys) <= i:
        prefix = f"{sc.INPUTS}.chat_history.{len(keys)}"
        keys.append((f"{prefix}.role", f"{prefix}.content", f"{prefix}.finish_reason", prefix))
    return keys[i]


def _flatten_plain(out: Attributes, serializer: Serializer, keys: _Keys, message: Message) -> bool:
    """The one-text-part message (most of them) without the generic walk; False otherwise."""
    parts = message.get("parts")
    if type(parts) is not list or len(parts) != 1:
        return False
    part = parts[0]
    content = part.get("content")
    role = message.get("role")
    if part.get("type") != "text" or type(content) is not str or type(role) is not str:
        return False
    finish = message.get("finish_reason")
    out[keys[0]] = role
    out[keys[1]] = serializer.text(content)
    if finish is not None:
        out[keys[2]] = str(finish)
    return True


def _flatten_message(
    out: Attributes, serializer: Serializer, prefix: str, message: Message
) -> None:
    out[f"{prefix}.role"] = str(message.get("role", ""))
    texts: list[str] = []
    calls = 0
    for part in message.get("parts", ()):
        kind = part.get("type")
        if kind == "text":
            content = part.get("content")
            if isinstance(content, str):
                texts.append(content)
        elif kind == "tool_call":
            base = f"{prefix}.tool_calls.{calls}"
            calls += 1
            if part.get("id") is not None:
                out[f"{base}.id"] = serializer.scalar(part["id"])
            out[f"{base}.name"] = serializer.scalar(part.get("name"))
            arguments = part.get("arguments")
            if arguments is not None:
                out[f"{base}.arguments"] = serializer.scalar(
                    arguments if isinstance(arguments, str) else to_json(arguments)
                )
        elif kind == "tool_call_response":
            if part.get("id") is not None:
                out[f"{prefix}.tool_call_id"] = serializer.scalar(part["id"])
            response = part.get("response")
            texts.append(response if isinstance(response, str) else to_json(response))
        else:
            text = part_text(part)
            if text is not None:
                texts.append(text)
    if texts:
        out[f"{prefix}.content"] = serializer.text(
            texts[0] if len(texts) == 1 else "\n".join(texts)
        )
    finish = message.get("finish_reason")
    if finish is not None:
        out[f"{prefix}.finish_reason"] = str(finish)

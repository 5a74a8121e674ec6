"""What every OpenAI endpoint mapping shares: the Endpoint shape and small readers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from honeyhive_agent import semconv as sc
from honeyhive_agent.serializer import Attributes, Serializer

from .._span import ParamMap, base_attributes, media_part, text_part
from .._stream import StreamState

OPENAI = "openai"
AZURE = "azure.ai.openai"
_AZURE_CLASSES = frozenset({"AzureOpenAI", "AsyncAzureOpenAI", "BaseAzureClient"})
_AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


_MISSING: Any = object()


def get(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for request dicts, ``obj.key`` for SDK models."""
    if type(obj) is dict:  # the common case first: no ABC check
        return obj.get(key, default)
    if obj is None:
        return default
    value = getattr(obj, key, _MISSING)
    if value is _MISSING:
        return obj.get(key, default) if isinstance(obj, Mapping) else default
    return value


class Endpoint:
    """How one OpenAI endpoint maps onto span attributes.

    One instance per patched method, built at patch time. Subclasses fill
    :meth:`request`, :meth:`response` and :meth:`stream_state`.
    """

    operation: str = "chat"
    injects_usage: bool = False
    """Add ``stream_options.include_usage`` to streamed requests (Chat/Completions)."""

    def __init__(self, params: ParamMap) -> None:
        self.params = params

    def request(self, out: Attributes, kwargs: Mapping[str, Any], serializer: Serializer) -> None:
        """Input attributes (content) and request-derived attributes."""

    def response(self, out: Attributes, result: Any, serializer: Serializer) -> str | None:
        """Output attributes of a complete response; returns an error text or None."""
        return None

    def stream_state(
        self, kwargs: Mapping[str, Any], serializer: Serializer, hide_usage: bool
    ) -> StreamState:
        return StreamState()


class ClientInfo:
    """Provider and server address of an SDK client (cached per client object)."""

    __slots__ = ("address", "port", "provider", "templates", "usage_ok")

    def __init__(self, client: Any) -> None:
        azure = any(c.__name__ in _AZURE_CLASSES for c in type(client).__mro__)
        self.templates: dict[tuple[str, str], Attributes] = {}
        self.address: str | None = None
        self.port: int | None = None
        url = getattr(client, "base_url", None)
        host = getattr(url, "host", None)
        if isinstance(host, str) and host:
            self.address = host
            port = getattr(url, "port", None)
            self.port = port if isinstance(port, int) else None
        # A plain OpenAI client pointed at Azure's v1 endpoint is Azure too.
        self.provider = AZURE if azure or (host or "").endswith(_AZURE_HOSTS) else OPENAI
        # Azure accepts stream_options only from API version 2024-09-01 on;
        # an older version would reject the request we changed.
        version = getattr(client, "_api_version", None)
        self.usage_ok = not azure or (isinstance(version, str) and version >= "2024-09-01")

    def add(self, out: Attributes) -> None:
        if self.address:
            out[sc.SERVER_ADDRESS] = self.address
            if self.port is not None:
                out[sc.SERVER_PORT] = self.port

    def template(self, operation: str, event_name: str) -> Attributes:
        """The attributes every call of this client and operation starts with."""
        key = (operation, event_name)
        cached = self.templates.get(key)
        if cached is None:
            cached = base_attributes(
                operation=operation, provider=self.provider, event_name=event_name, model=None
            )
            self.add(cached)
            self.templates[key] = cached
        return cached


def output_type(response_format: Any) -> str | None:
    """``gen_ai.output.type`` from a Chat ``response_format`` / Responses ``text.format``."""
    if response_format is None:
        return None
    if isinstance(response_format, type):
        return "json"
    kind = get(response_format, "type")
    if kind in ("json_schema", "json_object"):
        return "json"
    if kind == "text":
        return "text"
    return None


def content_parts(content: Any) -> list[dict[str, Any]]:
    """Chat / Responses message content -> GenAI parts (media as placeholders)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    if not isinstance(content, list | tuple):
        return [text_part(str(content))]
    parts: list[dict[str, Any]] = []
    for item in content:
        if isinstance(item, str):
            parts.append(text_part(item))
            continue
        kind = get(item, "type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(text_part(str(get(item, "text", ""))))
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": str(get(item, "refusal", ""))})
        elif kind == "image_url":
            image = get(item, "image_url")
            url = image if isinstance(image, str) else get(image, "url")
            parts.append(media_part("image", url if isinstance(url, str) else None))
        elif kind == "input_image":
            url = get(item, "image_url")
            parts.append(media_part("image", url if isinstance(url, str) else None))
        elif kind == "input_audio":
            audio = get(item, "input_audio")
            fmt = get(audio, "format")
            parts.append(media_part("audio", None, f"audio/{fmt}" if fmt else None))
        elif kind in ("file", "input_file"):
            parts.append(media_part("file"))
        else:
            parts.append({"type": str(kind)})
    return parts


def tool_definitions(tools: list[Any] | tuple[Any, ...]) -> list[Any]:
    """``gen_ai.tool.definitions``: Chat's ``{"type", "function": {...}}`` flattened to
    the semconv shape ``{"type", "name", "description", "parameters"}``."""
    out: list[Any] = []
    for tool in tools:
        function = get(tool, "function")
        if isinstance(function, Mapping):
            out.append({"type": get(tool, "type", "function"), **function})
        else:
            out.append(tool)
    return out

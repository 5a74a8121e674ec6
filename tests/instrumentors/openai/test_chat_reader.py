"""The chat state's own reader (its common chunk in one frame) records and
shows exactly what the general path (every event through ``on_data``) does,
whatever shape the events take."""

from __future__ import annotations

import copy
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from honeyhive_agent.serializer import Serializer
from instrumentors._stream import StreamState
from instrumentors._wire import HIDDEN
from instrumentors.openai._chat import ChatEndpoint, ChatStreamState

BASE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}


def chunk(*choices: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**BASE, "choices": list(choices), **extra}


def choice(index: int = 0, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}


def call(index: int, arguments: str, **first: str) -> dict[str, Any]:
    """A tool-call delta; ``first``: its id and name, on its first piece."""
    function = {"arguments": arguments}
    if "name" in first:
        function["name"] = first["name"]
    out: dict[str, Any] = {"index": index, "function": function}
    if "id" in first:
        out.update(id=first["id"], type="function")
    return out


USAGE = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}

STREAMS = {
    "openai": [
        chunk(choice(role="assistant", content="", refusal=None), usage=None),
        chunk(choice(content="Hel"), usage=None),
        chunk(choice(content="lo"), usage=None),
        chunk(choice(finish="stop"), usage=None),
        chunk(usage=USAGE),
    ],
    "openai, padded": [  # the API's default: each chunk ends with an "obfuscation" pad
        chunk(choice(role="assistant", content="", refusal=None), usage=None, obfuscation="ab"),
        chunk(choice(content="Hel"), usage=None, obfuscation="abcd"),
        chunk(choice(content="lo"), usage=None, obfuscation=""),
        chunk(choice(content="!"), obfuscation="a"),  # no usage before the pad
        chunk(choice(content="?"), usage={"n": 1}, obfuscation="a"),  # not null: kept
        chunk(choice(finish="stop"), usage=None, obfuscation="abc"),
        chunk(usage=USAGE, obfuscation="abcdef"),
    ],
    "no usage field": [
        chunk(choice(role="assistant", content="")),
        chunk(choice(content="Hi")),
        chunk(choice(content=" there", finish="stop")),  # content and finish together
    ],
    "n=2": [
        chunk(choice(0, role="assistant", content="")),
        chunk(choice(1, role="assistant", content="")),
        chunk(choice(0, content="a")),
        chunk(choice(1, content="b")),
        chunk(choice(2, content="c")),  # an index seen first on a plain content delta
        chunk(choice(0, content="a2"), choice(1, content="b2")),
        chunk(choice(0, finish="stop"), choice(1, finish="length"), choice(2, finish="stop")),
    ],
    "tools": [
        chunk(choice(role="assistant", content=None)),
        chunk(choice(tool_calls=[call(0, "", id="c1", name="f")])),
        chunk(choice(tool_calls=[call(0, '{"a":')])),
        chunk(choice(tool_calls=[call(0, "1}")])),
        chunk(choice(finish="tool_calls")),
    ],
    "odd shapes": [
        chunk(prompt_filter_results=[]),  # Azure's opening chunk: no choices
        chunk(choice(role="assistant", content="x")),
        chunk(choice(content=None)),
        chunk(choice(content="y", reasoning_content=None)),
        chunk({"index": 0, "delta": {"content": "z"}}),  # no finish_reason key
        chunk({"delta": {"content": "w"}, "finish_reason": None}),  # no index key
        chunk(choice(content="u"), usage=USAGE),  # usage on a content chunk
        {**BASE, "choices": None},
        chunk(choice(refusal="no")),
        chunk(choice(content="r", refusal="and no")),
        chunk(choice(content="t", tool_calls=[call(1, "{}", id="c9", name="g")])),
        chunk(choice(content="v"), choice(content="v2")),
        chunk(choice(finish="stop")),
    ],
}


class _Process:
    """The SDK's ``_process_response_data``: builds the chunk model."""

    def __init__(self) -> None:
        self.built: list[dict[str, Any]] = []

    def __call__(self, *, data: Any, cast_to: Any, response: Any) -> Any:
        self.built.append(data)
        return ChatCompletionChunk.construct(**data)


def run(events: list[dict[str, Any]], hide: bool, general: bool) -> tuple[Any, ...]:
    state = ChatStreamState(ChatEndpoint.__new__(ChatEndpoint), Serializer(), hide)
    process = _Process()
    reader = (StreamState.reader if general else ChatStreamState.reader)(state, process)
    out = [reader(event, ChatCompletionChunk, None) for event in copy.deepcopy(events)]
    shown = [None if m is HIDDEN else (m.model_dump(exclude_unset=True), m.to_json()) for m in out]
    attrs = state.attributes(None)  # type: ignore[arg-type]
    return shown, process.built, attrs, bool(state.first_ns)


@pytest.mark.parametrize("hide", [True, False])
@pytest.mark.parametrize("name", list(STREAMS))
def test_the_chat_reader_matches_the_general_path(name: str, hide: bool) -> None:
    events = STREAMS[name]
    fast, general = run(events, hide, general=False), run(events, hide, general=True)
    assert fast == general
    assert fast[2]["gen_ai.output.messages"]  # it did record something


def test_the_common_chunk_is_read_without_on_data(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    on_data = ChatStreamState.on_data
    monkeypatch.setattr(
        ChatStreamState, "on_data", lambda self, data: seen.append(data) or on_data(self, data)
    )
    shown, built, attrs, _ = run(STREAMS["openai"], hide=True, general=False)
    assert [d["choices"][0]["delta"] for d in seen[:2]] == [
        {"role": "assistant", "content": "", "refusal": None},
        {},
    ]
    assert len(seen) == 3 and seen[2]["usage"] == USAGE  # the two content chunks were not there
    assert shown[-1] is None and len(built) == 4
    assert attrs["honeyhive_outputs.content"] == "Hello"
    assert attrs["gen_ai.usage.output_tokens"] == 4
    # usage, which only our include_usage put there, is unmarked in every chunk built
    assert all("usage" not in dump for dump, _ in shown[:-1])


def test_a_sdk_error_is_not_taken_for_another_shape() -> None:
    """The SDK's own exception passes through, and the event is built once."""
    calls: list[Any] = []

    def failing(*, data: Any, cast_to: Any, response: Any) -> Any:
        calls.append(data)
        raise openai.APIError("bad", request=None, body=None)  # type: ignore[arg-type]

    state = ChatStreamState(ChatEndpoint.__new__(ChatEndpoint), Serializer(), True)
    reader = state.reader(failing)
    first, content = copy.deepcopy(STREAMS["openai"][:2])
    with pytest.raises(openai.APIError):
        reader(first, ChatCompletionChunk, None)
    with pytest.raises(openai.APIError):
        reader(content, ChatCompletionChunk, None)
    assert calls == [first, content]

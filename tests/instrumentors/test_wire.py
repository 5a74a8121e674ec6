"""Reading stream events as JSON (:mod:`instrumentors._wire`) and the helpers
the stream proxies choose their per-chunk path with."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pydantic
import pytest

from instrumentors import _stream
from instrumentors._fields import fields_of, fields_set_of
from instrumentors._wire import HIDDEN, PAD, WireClient, drop_null, install, reading


class _Model(pydantic.BaseModel):
    text: str | None = None
    usage: int | None = None


class _Client:
    """The part of a Stainless SDK client a stream uses."""

    def __init__(self) -> None:
        self.built: list[Any] = []
        self.timeout = 7

    def _process_response_data(self, *, data: Any, cast_to: Any, response: Any) -> Any:
        self.built.append(data)
        return cast_to.model_construct(**data)


class _Stream:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._iterator = self.__stream__()

    def __stream__(self) -> Iterator[Any]:
        process = self._client._process_response_data
        for data in ({"text": "a", "usage": None}, {"usage": 3}):
            yield process(data=data, cast_to=_Model, response=None)


def _reader(hide: set[str]) -> tuple[list[dict[str, Any]], Any]:
    seen: list[dict[str, Any]] = []

    def on_data(data: dict[str, Any]) -> bool:
        seen.append(dict(data))
        return not hide & data.keys() or data.get("text") is not None

    return seen, on_data


def _reading(on_data: Any, unset: str | None = None) -> Any:
    return lambda process: reading(process, on_data, unset)


def test_events_reach_the_state_as_json_and_hidden_ones_are_never_built() -> None:
    client = _Client()
    stream = _Stream(client)
    seen, on_data = _reader({"usage"})
    assert install(stream, stream._iterator, _reading(on_data, "usage"))
    assert isinstance(stream._client, WireClient)
    assert stream._client.timeout == 7  # the rest is the client's
    out = list(stream._iterator)
    # The null field only our request made the server send is taken out first.
    assert seen == [{"text": "a"}, {"usage": 3}]
    assert out[1] is HIDDEN
    assert out[0] is not HIDDEN and client.built == [{"text": "a"}]
    assert out[0].model_dump(exclude_unset=True) == {"text": "a"}


def test_a_null_field_elsewhere_is_unmarked_in_the_model_instead() -> None:
    client = _Client()
    seen, on_data = _reader(set())
    read = reading(client._process_response_data, on_data, "usage")
    model = read({"usage": None, "text": "a"}, _Model, None)  # not last: popitem() cannot
    assert seen == client.built == [{"usage": None, "text": "a"}]
    assert model.model_dump(exclude_unset=True) == {"text": "a"}


@pytest.mark.parametrize(
    ("event", "after", "dropped"),
    [
        ({"a": 1, "usage": None}, {"a": 1}, True),
        ({"a": 1, "usage": None, PAD: "xy"}, {"a": 1, PAD: "xy"}, True),
        ({"usage": None, "a": 1}, {"usage": None, "a": 1}, False),
        ({"a": 1, "usage": {"n": 2}}, {"a": 1, "usage": {"n": 2}}, False),
        ({"a": 1, "usage": {"n": 2}, PAD: "xy"}, {"a": 1, "usage": {"n": 2}, PAD: "xy"}, False),
        ({"a": 1, PAD: "xy"}, {"a": 1, PAD: "xy"}, False),
        ({PAD: "xy"}, {PAD: "xy"}, False),
        ({}, {}, False),
    ],
)
def test_drop_null_takes_only_a_trailing_null_field(
    event: dict[str, Any], after: dict[str, Any], dropped: bool
) -> None:
    assert drop_null(event, "usage") is dropped
    assert event == after and list(event) == list(after)  # order kept too
    assert not drop_null(["usage", None], "usage")


def test_a_failing_state_is_ours_the_event_still_reaches_the_sdk() -> None:
    def on_data(data: dict[str, Any]) -> bool:
        raise RuntimeError("agent bug")

    stream = _Stream(_Client())
    assert install(stream, stream._iterator, _reading(on_data))
    out = list(stream._iterator)
    assert [m.model_dump(exclude_unset=True) for m in out] == [
        {"text": "a", "usage": None},
        {"usage": 3},
    ]


def test_no_install_on_a_started_stream_or_an_unknown_client() -> None:
    started = _Stream(_Client())
    next(started._iterator)
    assert not install(started, started._iterator, _reading(_reader(set())[1]))

    class _Other(_Client):
        def _process_response_data(self, **kwargs: Any) -> Any:  # type: ignore[override]
            return super()._process_response_data(**kwargs)

    for client in (_Other(), object()):
        stream = _Stream(client)
        assert not install(stream, stream._iterator, _reading(_reader(set())[1]))
        assert stream._client is client


async def test_async_generators_are_checked_before_they_start() -> None:
    async def events() -> Any:
        yield 1

    gen = events()
    stream = _Stream(_Client())
    assert install(stream, gen, _reading(_reader(set())[1]))
    await gen.__anext__()
    assert not install(_Stream(_Client()), gen, _reading(_reader(set())[1]))


def test_the_sdks_iter_is_bypassed_only_where_it_just_reyields() -> None:
    assert _stream._reyields(openai.Stream, "__iter__", _stream._reyield)
    assert _stream._reyields(openai.AsyncStream, "__aiter__", _stream._areyield)
    # anthropic 2.x also feeds an observer in __iter__ (its own tracing); older ones do not.
    observed = "_observer" in inspect.getsource(anthropic.Stream.__iter__)
    assert _stream._reyields(anthropic.Stream, "__iter__", _stream._reyield) is not observed

    class _Counting:
        def __iter__(self) -> Iterator[Any]:
            for item in self._iterator:  # type: ignore[attr-defined]
                yield item + 1

    assert not _stream._reyields(_Counting, "__iter__", _stream._reyield)


def test_model_fields_read_without_the_attribute_hook() -> None:
    model = _Model.model_construct(text="x")
    assert fields_of(model) == {"text": "x", "usage": None}
    assert fields_set_of(model) == {"text"}

"""API errors: span ERROR with the SDK's exception class; the app sees the same exception."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from opentelemetry.trace import StatusCode

from tests.fakes.anthropic_server import ErrorReply, FakeAnthropic

from .conftest import MODEL, USER, MakeTraced, Traced


def _raise(fake: FakeAnthropic, status: int, stream: bool = False) -> BaseException:
    fake.script(ErrorReply(status, f"boom {status}"))
    with anthropic.Anthropic(base_url=fake.url, api_key="x", max_retries=0) as c:
        try:
            if stream:
                list(c.messages.create(model=MODEL, max_tokens=8, messages=USER, stream=True))
            else:
                c.messages.create(model=MODEL, max_tokens=8, messages=USER)
        except Exception as exc:  # noqa: BLE001 - the test compares what was raised
            return exc
    raise AssertionError("no error raised")


def _shape(exc: BaseException) -> dict[str, Any]:
    return {
        "type": type(exc),
        "message": str(exc),
        "status": getattr(exc, "status_code", None),
        "body": getattr(exc, "body", None),
    }


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 529])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_api_errors(make_traced: MakeTraced, fake: FakeAnthropic, status: int,
                    stream: bool) -> None:
    bare = _shape(_raise(fake, status, stream))
    traced = make_traced()
    raised = _raise(fake, status, stream)
    shape = _shape(raised)
    # The request id differs per request; everything else is what the bare run raised.
    assert shape["type"] is bare["type"] and shape["status"] == status
    assert shape["body"]["error"] == bare["body"]["error"]
    span = traced.only()
    attrs: dict[str, Any] = dict(span.attributes or {})
    assert span.status.status_code is StatusCode.ERROR
    assert attrs["error.type"] == type(raised).__name__
    assert attrs["http.response.status_code"] == status
    assert f"boom {status}" in attrs["honeyhive_error"]
    assert attrs["gen_ai.request.model"] == MODEL
    assert [e.name for e in span.events] == ["exception"]


def test_connection_error(traced: Traced) -> None:
    from tests.support.otlp_receiver import closed_url

    url = closed_url("")
    with anthropic.Anthropic(base_url=url, api_key="x", max_retries=0) as c, \
            pytest.raises(anthropic.APIConnectionError):
        c.messages.create(model=MODEL, max_tokens=8, messages=USER)
    span = traced.only()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "APIConnectionError"


async def test_async_error(traced: Traced, aclient: anthropic.AsyncAnthropic,
                           fake: FakeAnthropic) -> None:
    fake.script(ErrorReply(401, "bad key"))
    with pytest.raises(anthropic.AuthenticationError):
        await aclient.messages.create(model=MODEL, max_tokens=8, messages=USER)
    attrs = traced.attrs()
    assert attrs["error.type"] == "AuthenticationError"
    assert attrs["http.response.status_code"] == 401


def test_sdk_validation_error_passes_through(traced: Traced, client: anthropic.Anthropic) -> None:
    with pytest.raises(TypeError):
        client.messages.create(model=MODEL, messages=USER)  # type: ignore[call-overload]
    span = traced.only()
    assert dict(span.attributes or {})["error.type"] == "TypeError"

"""The one serializer every caller uses: flattening, content switch, redaction, truncation."""

from __future__ import annotations

import dataclasses

from pydantic import BaseModel

from honeyhive_agent.serializer import REDACTED, TRUNCATED_SUFFIX, Serializer, to_json


class Doc(BaseModel):
    title: str
    tags: list[str]


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_scalars_kept_as_is() -> None:
    s = Serializer()
    assert s.flatten("p", 3) == {"p": 3}
    assert s.flatten("p", 2.5) == {"p": 2.5}
    assert s.flatten("p", True) == {"p": True}
    assert s.flatten("p", "x") == {"p": "x"}
    assert s.flatten("p", None) == {}


def test_dicts_and_lists_flatten_with_dots_and_indexes() -> None:
    value = {"a": [{"b": 1}, {"c": "two"}], "d": {"e": None, "f": False}}
    assert Serializer().flatten("honeyhive_inputs", value) == {
        "honeyhive_inputs.a.0.b": 1,
        "honeyhive_inputs.a.1.c": "two",
        "honeyhive_inputs.d.f": False,
    }


def test_models_and_dataclasses_become_dicts() -> None:
    s = Serializer()
    assert s.flatten("o", Doc(title="t", tags=["x"])) == {"o.title": "t", "o.tags.0": "x"}
    assert s.flatten("o", Point(1, 2)) == {"o.x": 1, "o.y": 2}


def test_other_objects_become_json_or_str() -> None:
    s = Serializer()
    assert s.flatten("o", {1, 2}) in ({"o": "[1,2]"}, {"o": "[2,1]"})
    assert s.flatten("o", object())["o"].startswith("<object object")
    assert s.flatten("o", b"abc") == {"o": "<3 bytes>"}
    assert s.flatten("o", ("a", 1)) == {"o.0": "a", "o.1": 1}


def test_content_dropped_when_capture_is_off_but_metadata_kept() -> None:
    s = Serializer(capture_content=False)
    assert s.flatten("honeyhive_inputs", {"q": "secret prompt"}, content=True) == {}
    assert s.json(["m"], content=True) is None
    assert s.flatten("honeyhive_metadata", {"tokens": 3}) == {"honeyhive_metadata.tokens": 3}


def test_redact_applies_to_every_string() -> None:
    s = Serializer(redact=[r"sk-[A-Za-z0-9]+", r"\d{3}-\d{2}-\d{4}"])
    out = s.flatten("i", {"key": "use sk-abc123 now", "ssn": ["123-45-6789"]})
    assert out == {"i.key": f"use {REDACTED} now", "i.ssn.0": REDACTED}
    assert s.json({"k": "sk-zzz"}) == '{"k":"' + REDACTED + '"}'


def test_long_strings_truncated_and_marked() -> None:
    s = Serializer(max_length=10)
    out = s.flatten("o", "x" * 50)
    assert out == {"o": "x" * 10 + TRUNCATED_SUFFIX}


def test_deep_and_wide_values_are_bounded() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(50):
        node["n"] = {}
        node = node["n"]  # type: ignore[assignment]
    out = Serializer().flatten("d", deep)
    assert len(out) == 1
    wide = Serializer().flatten("w", list(range(10_000)))
    assert len(wide) == 256


def test_to_json_never_raises() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert isinstance(to_json(loop), str)

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert to_json(Hostile()) == "<Hostile>"

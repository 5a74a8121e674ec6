"""Decorated callables pickle and copy like the undecorated ones."""

from __future__ import annotations

import copy
import functools
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from honeyhive_agent import trace


@trace
def double(x: int) -> int:
    return x * 2


class Worker:
    def __init__(self, k: int = 3) -> None:
        self.k = k

    @trace
    def scale(self, x: int) -> int:
        return x * self.k

    @trace
    @classmethod
    def make(cls) -> int:
        return 7

    @staticmethod
    @trace
    def static(x: int) -> int:
        return x + 1


@pytest.mark.parametrize(
    ("obj", "args", "expected"),
    [
        (double, (2,), 4),
        (Worker(5).scale, (2,), 10),
        (Worker.make, (), 7),
        (Worker().make, (), 7),
        (Worker.static, (1,), 2),
    ],
)
def test_pickle_round_trip(obj: Any, args: tuple[int, ...], expected: int) -> None:
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        restored = pickle.loads(pickle.dumps(obj, protocol))
        assert restored(*args) == expected


def test_module_function_unpickles_to_itself() -> None:
    assert pickle.loads(pickle.dumps(double)) is double


def test_copy_returns_the_same_function() -> None:
    assert copy.copy(double) is double
    assert copy.deepcopy(double) is double
    assert copy.deepcopy({"f": double})["f"] is double


def test_process_pool_runs_decorated_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    # The workers build their own tracer from the environment: keep it quiet.
    monkeypatch.setenv("HH_EXPORTERS", "none")
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(double, 21).result(timeout=30) == 42
        assert pool.submit(Worker(2).scale, 4).result(timeout=30) == 8


class Statics:
    @trace
    @staticmethod
    def outer(x: int) -> int:
        return x * 10


def test_pickle_traced_staticmethod_read_from_class() -> None:
    assert pickle.loads(pickle.dumps(Statics.outer))(2) == 20
    assert pickle.loads(pickle.dumps(Statics().outer))(3) == 30


def _power(base: int, exp: int) -> int:
    return int(base**exp)


def test_traced_partial_pickles_as_the_partial() -> None:
    square = trace(functools.partial(_power, exp=2))
    assert pickle.loads(pickle.dumps(square))(5) == 25

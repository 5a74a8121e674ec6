"""Post-import hooks (``honeyhive_agent._hooks``) on real modules written to disk."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from honeyhive_agent import _hooks


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        sys.modules.pop(name, None)
    _hooks.clear()


def test_hook_runs_after_the_module_body_once(modules: Path) -> None:
    (modules / "hh_lib_a.py").write_text("VALUE = 1\n")
    seen: list[object] = []
    _hooks.when_imported("hh_lib_a", lambda m: seen.append(m.VALUE))
    assert seen == []
    module = importlib.import_module("hh_lib_a")
    assert seen == [1]
    # The module sees its real loader, not the hook's wrapper.
    assert type(module.__loader__).__name__ == "SourceFileLoader"
    importlib.reload(module)
    assert seen == [1]
    assert "hh_lib_a" not in _hooks.pending()


def test_already_imported_runs_at_once(modules: Path) -> None:
    (modules / "hh_lib_b.py").write_text("VALUE = 2\n")
    importlib.import_module("hh_lib_b")
    seen: list[ModuleType] = []
    _hooks.when_imported("hh_lib_b", seen.append)
    assert [m.__name__ for m in seen] == ["hh_lib_b"]


def test_failing_hook_never_breaks_the_import(modules: Path) -> None:
    (modules / "hh_lib_c").mkdir()
    (modules / "hh_lib_c" / "__init__.py").write_text("from .sub import X\n")
    (modules / "hh_lib_c" / "sub.py").write_text("X = 3\n")

    def broken(module: ModuleType) -> None:
        raise RuntimeError("boom")

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    logging.getLogger("honeyhive_agent").addHandler(handler)
    seen: list[str] = []
    _hooks.when_imported("hh_lib_c", broken)
    _hooks.when_imported("hh_lib_c.sub", lambda m: seen.append(m.__name__))
    module = importlib.import_module("hh_lib_c")
    assert module.X == 3
    assert seen == ["hh_lib_c.sub"]
    logging.getLogger("honeyhive_agent").removeHandler(handler)
    assert [r.levelno for r in records] == [logging.WARNING]
    assert "boom" in records[0].getMessage()


def test_missing_module_stays_missing(modules: Path) -> None:
    _hooks.when_imported("hh_lib_missing", lambda m: None)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("hh_lib_missing")

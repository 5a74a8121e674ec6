"""Field reads on the SDKs' pydantic models, for code that runs once per chunk.

The openai and anthropic models define ``__getattr__``, so CPython reads
every attribute of theirs through a slot hook that looks the type up three
times, and the SDK's own parse of each chunk has just evicted those entries
from the interpreter's type cache. :func:`fields_of` returns a model's field
dict through pydantic's own ``__dict__`` descriptor instead: no type lookup,
and each field is then a plain dict subscript.

Only modules loaded after an SDK (hence after pydantic) import this one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

__all__ = ["fields_of", "fields_set_of"]


def _getters() -> tuple[Callable[[Any], dict[str, Any]], Callable[[Any], set[str]]]:
    try:
        from pydantic import BaseModel

        namespace = BaseModel.__dict__
        if "__pydantic_fields_set__" in namespace:  # pydantic 2: slot descriptors
            return namespace["__dict__"].__get__, namespace["__pydantic_fields_set__"].__get__
    except ImportError:
        pass
    return operator.attrgetter("__dict__"), operator.attrgetter("__fields_set__")  # pydantic 1


fields_of, fields_set_of = _getters()
"""``fields_of(model)``: its field values by name (every declared field is
there); ``fields_set_of(model)``: the names of the fields the wire carried."""

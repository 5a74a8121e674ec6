"""Helpers for tracer tests: tracers that export into memory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from honeyhive_agent._log import logger
from honeyhive_agent.tracer import HoneyHiveTracer

MemoryTracer = tuple[HoneyHiveTracer, InMemorySpanExporter]


@pytest.fixture
def memory_tracer() -> Callable[..., MemoryTracer]:
    """Build a tracer (``exporters=["none"]`` unless given) plus its in-memory exporter."""

    def build(**overrides: Any) -> MemoryTracer:
        overrides.setdefault("exporters", ["none"])
        exporter = InMemorySpanExporter()
        tracer = HoneyHiveTracer(span_processors=[SimpleSpanProcessor(exporter)], **overrides)
        return tracer, exporter

    return build


class AgentLog(logging.Handler):
    """Records of the ``honeyhive_agent`` logger (it does not propagate to root)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= logging.WARNING]


@pytest.fixture
def agent_log() -> Iterator[AgentLog]:
    handler = AgentLog()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)

"""``honeyhive-agent doctor``: is the agent set up right, here and now?

Reports, for the current directory and environment:

* the configuration file found and the effective configuration (secrets
  masked);
* each tracer with its exporters, and whether each destination answers
  (one short request; the local store: whether it can be written);
* each instrumentor with the installed library version (from package
  metadata, so no SDK is imported), and whether it is supported, enabled
  and in conflict with a peer instrumentor.

Exit code 0 when all is well, 1 on a configuration error or a destination
that does not answer.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from honeyhive_agent.config.model import AgentConfig, TracerConfig

__all__ = ["Check", "check_destination", "main", "run"]

DEFAULT_TIMEOUT_S = 2.0
_SECRET_FIELDS = frozenset({"api_key"})
_SECRET_MAPPINGS = frozenset({"headers"})


@dataclass
class Check:
    """One line of the report."""

    ok: bool
    text: str


def _mask(value: str | None) -> str | None:
    from honeyhive_agent.config.model import mask

    return mask(value)


def _render(value: Any, prefix: str) -> Iterator[str]:
    """``key: value`` lines of a config dataclass, secrets masked."""
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            item = getattr(value, f.name)
            key = f"{prefix}{f.name}"
            if f.name in _SECRET_FIELDS:
                yield f"{key}: {_mask(item)!r}" if item else f"{key}: (not set)"
            elif f.name in _SECRET_MAPPINGS and hasattr(item, "items"):
                yield f"{key}: {dict((k, _mask(v)) for k, v in item.items())!r}"
            elif f.name == "exporters" and hasattr(value, "effective_exporters"):
                yield f"{key}: {list(value.effective_exporters)!r}"
            elif is_dataclass(item):
                yield from _render(item, key + ".")
            elif hasattr(item, "items"):
                yield f"{key}: {dict(item)!r}"
            else:
                yield f"{key}: {item!r}"


def _destination_url(tracer: TracerConfig, exporter: str) -> str | None:
    if exporter == "honeyhive":
        return tracer.server_url.rstrip("/") + "/opentelemetry/v1/traces"
    if exporter == "otlp":
        from honeyhive_agent.exporters.factory import DEFAULT_OTLP_TRACES_URL

        return tracer.otlp.resolved_url() or DEFAULT_OTLP_TRACES_URL
    return None


def check_destination(
    url: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    headers: Mapping[str, str] | None = None,
    encoding: str = "protobuf",
    credentials_hint: str = "the credentials",
) -> Check:
    """Whether ``url`` takes an OTLP export with ``headers``.

    One POST of an export request without spans (nothing is recorded): a
    2xx, 400 or 5xx answer is a reachable endpoint; 401/403 means refused
    credentials, 404/405 an URL that is no OTLP traces endpoint, and a
    refused or timed-out connection an unreachable one.
    """
    import urllib.error
    import urllib.request

    body, content_type = (b"{}", "application/json") if encoding == "json" else (
        b"", "application/x-protobuf")
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={**(headers or {}), "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check(False, f"{url}  UNREACHABLE ({reason})")
    if status in (401, 403):
        return Check(False, f"{url}  answers (HTTP {status}): {credentials_hint} REFUSED")
    if status in (404, 405):
        return Check(False, f"{url}  answers (HTTP {status}): NOT an OTLP traces endpoint")
    return Check(True, f"{url}  answers (HTTP {status})")


def _check_local(path: str) -> Check:
    full = os.path.abspath(path)
    if os.path.exists(full):
        ok = os.access(full, os.W_OK)
        return Check(ok, f"{path}  {'writable' if ok else 'NOT WRITABLE'}")
    parent = os.path.dirname(full)
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    ok = bool(parent) and os.access(parent, os.W_OK)
    state = "will be created (writable)" if ok else f"NOT WRITABLE ({parent})"
    return Check(ok, f"{path}  {state}")


def _probe(tracer: TracerConfig, exporter: str, url: str, timeout_s: float) -> Check:
    """:func:`check_destination` with the headers and encoding the exporter sends."""
    from honeyhive_agent.exporters.factory import destination_encoding, destination_headers

    headers = destination_headers(exporter, tracer)
    encoding = destination_encoding(exporter, tracer)
    hint = ("the api_key (HH_API_KEY)" if exporter == "honeyhive"
            else "the otlp.headers (OTEL_EXPORTER_OTLP_HEADERS)")
    return check_destination(url, timeout_s, headers=headers, encoding=encoding,
                             credentials_hint=hint)


def _check_tracer(tracer: TracerConfig, timeout_s: float) -> Iterator[Check]:
    exporters = tracer.effective_exporters
    if not exporters:
        yield Check(True, "exporters: none (spans are dropped)")
    for exporter in exporters:
        if exporter == "local":
            result = _check_local(tracer.local.path)
        elif exporter == "console":
            result = Check(True, "stderr")
        else:
            url = _destination_url(tracer, exporter)
            if url is None:
                result = Check(False, "NOT CONFIGURED")
            else:
                result = _probe(tracer, exporter, url, timeout_s)
                if exporter == "honeyhive" and not tracer.api_key:
                    result = Check(False, result.text + "; NO api_key (HH_API_KEY)")
                if exporter == "otlp" and tracer.otlp.resolved_url() is None:
                    # Where the exporter sends without an endpoint, like any OpenTelemetry SDK.
                    note = "no otlp.endpoint / OTEL_EXPORTER_OTLP_ENDPOINT"
                    result = Check(result.ok, f"{result.text}; the OpenTelemetry default ({note})")
        yield Check(result.ok, f"{exporter:<10}{result.text}")


def _version(distribution: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _supported(target: str, version: str) -> str:
    """``supported`` / ``UNSUPPORTED (needs ...)`` from the instrumentor's requirements."""
    import importlib

    try:
        module_name, _, class_name = target.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        requirements = list(cls().instrumentation_dependencies())
        from packaging.requirements import Requirement

        for text in requirements:
            requirement = Requirement(text)
            if not requirement.specifier.contains(version, prereleases=True):
                return f"UNSUPPORTED (needs {text})"
    except Exception as exc:  # noqa: BLE001 - report, never crash the doctor
        return f"support unknown ({type(exc).__name__}: {exc})"
    return "supported"


def _check_instrumentors(config: AgentConfig) -> Iterator[Check]:
    from honeyhive_agent._peers import PEERS
    from instrumentors import KNOWN

    for name, (import_name, target) in KNOWN.items():
        settings = config.instrumentor(name)
        version = _version(import_name)
        if version is None:
            yield Check(True, f"{name:<10}{import_name} not installed")
            continue
        parts = [f"{import_name} {version}", _supported(target, version)]
        ok = not parts[1].startswith("UNSUPPORTED")
        if settings.enabled:
            parts.append(f"enabled (tracer {settings.tracer})")
        else:
            parts.append("disabled")
        peers = [
            f"{p.label} {v}" for p in PEERS if p.library == name
            for v in [_version(p.distribution)] if v is not None
        ]
        if peers and settings.enabled:
            winner = "honeyhive-agent" if settings.on_conflict == "honeyhive" else "the peer"
            parts.append(
                f"conflicting: peer {', '.join(peers)} installed, {winner} records the "
                f"calls (on_conflict: {settings.on_conflict})"
            )
        yield Check(ok, f"{name:<10}" + ", ".join(parts))


def run(out: IO[str], timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    """Write the report to ``out``; return the exit code."""
    from honeyhive_agent import __version__
    from honeyhive_agent.config.loader import find_config_file, load_config
    from honeyhive_agent.errors import ConfigurationError

    problems = 0

    def line(text: str, ok: bool = True) -> None:
        nonlocal problems
        if not ok:
            problems += 1
        out.write(f"{'  ' if ok else '! '}{text}\n" if text else "\n")

    out.write(f"honeyhive-agent {__version__} doctor (python {sys.version.split()[0]}, "
              f"{sys.executable})\n\nConfiguration\n")
    try:
        path = find_config_file()
        line(f"file: {path}" if path else "file: none found (HONEYHIVE_CONFIG, ./honeyhive.yaml); "
             "using environment and defaults")
        config = load_config()
    except ConfigurationError as exc:
        line(f"configuration error: {exc}", ok=False)
        out.write("\nResult: configuration error\n")
        return 1
    if config.disabled:
        line("the agent is DISABLED (HH_DISABLED / disabled: true)")
    for name, tracer in config.tracers.items():
        for text in _render(tracer, f"tracers.{name}."):
            line("  " + text)
    line(f"log_level: {config.log_level}")

    out.write("\nTracers\n")
    for name, tracer in config.tracers.items():
        line(f"{name}: project={tracer.project!r} source={tracer.source!r} "
             f"session.per={tracer.session.per}")
        for check in _check_tracer(tracer, timeout_s):
            line("  " + check.text, check.ok)

    out.write("\nInstrumentors\n")
    for check in _check_instrumentors(config):
        line(check.text, check.ok)

    out.write("\nResult: " + ("all good\n" if not problems else f"{problems} problem(s)\n"))
    return 0 if not problems else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``honeyhive-agent doctor``."""
    parser = argparse.ArgumentParser(
        prog="honeyhive-agent doctor",
        description="Check the configuration, the backends and the instrumentors.",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help="seconds to wait for each backend (default %(default)s)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    return run(sys.stdout, args.timeout)

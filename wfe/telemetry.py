"""OpenTelemetry traces of runs (the optional extra `wfe[otel]`), built from the event stream.

A run is a trace: its span lasts from `run_started` to `run_finished`, and each node execution
(each attempt, each map item and parallel branch) is a child span with `wfe.run_id`, `wfe.node`,
`wfe.step` and `wfe.attempt`, ending OK or with the error. Configured by OpenTelemetry's own
environment variables: on when `OTEL_TRACES_EXPORTER` names an exporter other than `none`, or an
OTLP endpoint is set, and `OTEL_SDK_DISABLED` is not `true`. Otherwise nothing here runs and
`opentelemetry` is never imported: `listeners()` only reads the environment.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from wfe.engine.events import Event, Listener

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_lock = threading.Lock()
_provider: list[Any] = []  # the tracer provider, made once per process


def configured(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return any(env.get(name) for name in _ENDPOINTS)


def listeners() -> list[Listener]:
    """[a RunTracer] when tracing is configured and the extra installed, else []."""
    if not configured():
        return []
    provider = tracer_provider()
    return [] if provider is None else [RunTracer(provider)]


def tracer_provider() -> Any:
    """The process's tracer provider: one already set by the application, else one made from
    the environment (None, with a warning once, when the extra is not installed)."""
    with _lock:
        if not _provider:
            _provider.append(_make_provider())
        return _provider[0]


def _make_provider() -> Any:
    try:
        # optional extra `otel`: OpenTelemetry may not be installed, and only OTEL_* asks for it
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        sys.stderr.write("wfe: OTEL_* is set but OpenTelemetry is not installed; no traces "
                         "(pip install 'wfe[otel]')\n")
        return None
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "wfe"}
    provider = TracerProvider(resource=Resource.create(attributes))
    for exporter in _exporters():
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _exporters() -> list[Any]:
    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    found: list[Any] = []
    for name in (part.strip() for part in names.split(",")):
        if name == "console":
            # optional extra `otel`, there since _make_provider imported its SDK
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            found.append(ConsoleSpanExporter())
        elif name == "otlp":
            exporter = _otlp_exporter()
            if exporter is not None:
                found.append(exporter)
        elif name != "none":
            sys.stderr.write(f"wfe: OTEL_TRACES_EXPORTER={name}: not an exporter wfe knows "
                             "(console, otlp); ignored\n")
    return found


def _otlp_exporter() -> Any:
    protocol = "grpc" if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc" else "http"
    try:
        module = importlib.import_module(
            f"opentelemetry.exporter.otlp.proto.{protocol}.trace_exporter")
    except ImportError:
        sys.stderr.write("wfe: the OTLP exporter is not installed; no traces are sent "
                         "(pip install 'wfe[otel]')\n")
        return None
    return module.OTLPSpanExporter()


class RunTracer:
    """A listener that turns one run's events into spans."""

    def __init__(self, provider: Any) -> None:
        # optional extra `otel`: made only once a tracer provider was found
        from opentelemetry import trace

        self._trace = trace
        self._provider = provider
        self._tracer = provider.get_tracer("wfe")
        self._run: Any = None
        self._context: Any = None
        self._nodes: dict[tuple[str, int], Any] = {}

    def __call__(self, event: Event) -> None:
        kind = event["event"]
        if kind == "node_started":
            self._node_started(event)
        elif kind == "node_finished":
            self._node_ended(event, None)
        elif kind == "node_failed":
            self._node_ended(event, event.get("error") or {})
        elif kind == "run_started":
            self._run = self._tracer.start_span(
                f"run {event.get('workflow', '')}", attributes={
                    "wfe.run_id": event["run_id"], "wfe.workflow": event.get("workflow", "")})
            self._context = self._trace.set_span_in_context(self._run)
        elif kind == "run_finished":
            self._run_finished(event)

    def _node_started(self, event: Event) -> None:
        node, step = event["node"], event["step"]
        self._nodes[node, step] = self._tracer.start_span(
            node, context=self._context, attributes={
                "wfe.run_id": event["run_id"], "wfe.node": node, "wfe.step": step,
                "wfe.attempt": event.get("attempt", 1)})

    def _node_ended(self, event: Event, error: dict[str, Any] | None) -> None:
        span = self._nodes.pop((event["node"], event["step"]), None)
        if span is None:
            return
        _set_status(self._trace, span, error)
        span.end()

    def _run_finished(self, event: Event) -> None:
        for span in self._nodes.values():  # cut short: the run stopped while they ran
            span.end()
        self._nodes.clear()
        if self._run is None:
            return
        status = event.get("status", "")
        self._run.set_attribute("wfe.status", status)
        failed = status == "failed"
        _set_status(self._trace, self._run, (event.get("error") or {}) if failed else None)
        self._run.end()
        self._run = None
        self._provider.force_flush()


def _set_status(trace: Any, span: Any, error: dict[str, Any] | None) -> None:
    if error is None:
        span.set_status(trace.Status(trace.StatusCode.OK))
        return
    kind, message = str(error.get("type", "")), str(error.get("message", ""))
    span.set_attribute("error.type", kind)
    span.set_status(trace.Status(trace.StatusCode.ERROR, f"{kind}: {message}"))

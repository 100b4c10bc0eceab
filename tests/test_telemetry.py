"""OpenTelemetry (`wfe[otel]`): a trace per run, a span per node execution, from OTEL_*."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wfe import telemetry

try:  # the tests of spans need the SDK (wfe[otel]); those of when tracing is off do not
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode
except ImportError:
    TracerProvider = None  # type: ignore[assignment,misc]

FLAKY = """
imports: [TOOLS]
state: {tries: {type: int, default: 0}, fail: {type: bool, default: false}}
nodes:
  call:
    tool: flaky
    retry: {attempts: 2, delay: 0}
    next: after
  after: {tool: after}
"""
TOOLS = """
calls = []

@tool
def flaky(fail: bool) -> dict:
    calls.append(1)
    if len(calls) == 1:
        raise ConnectionError("first call fails")
    return {"tries": len(calls)}

@tool
def after(fail: bool) -> dict:
    if fail:
        raise ValueError("told to fail")
    return {}
"""


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    if TracerProvider is None:
        pytest.skip("needs opentelemetry-sdk (pip install 'wfe[otel]')")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setattr(telemetry, "_provider", [provider])
    return exporter


def test_a_run_is_a_trace_with_a_span_per_node_execution(
        make_workflow, spans: InMemorySpanExporter) -> None:
    result = make_workflow(FLAKY, TOOLS).run()
    assert result.status == "succeeded"
    finished = spans.get_finished_spans()
    run = next(s for s in finished if s.name == "run wf1")
    nodes = [s for s in finished if s is not run]
    assert [(s.name, s.attributes["wfe.step"], s.attributes["wfe.attempt"], s.status.status_code)
            for s in nodes] == [("call", 1, 1, StatusCode.ERROR), ("call", 1, 2, StatusCode.OK),
                                ("after", 2, 1, StatusCode.OK)]
    assert nodes[0].attributes["error.type"] == "ConnectionError"
    assert nodes[0].status.description == "ConnectionError: first call fails"
    assert {s.attributes["wfe.run_id"] for s in finished} == {result.run_id}
    assert {s.context.trace_id for s in finished} == {run.context.trace_id}
    assert all(s.parent is not None and s.parent.span_id == run.context.span_id for s in nodes)
    assert run.status.status_code == StatusCode.OK


def test_a_failed_run_ends_its_trace_in_error(make_workflow, spans: InMemorySpanExporter) -> None:
    result = make_workflow(FLAKY, TOOLS).run({"fail": True})
    assert result.status == "failed"
    run = next(s for s in spans.get_finished_spans() if s.name.startswith("run "))
    assert run.status.status_code == StatusCode.ERROR
    assert run.attributes["wfe.status"] == "failed"
    assert run.attributes["error.type"] == "NodeFailed"  # the run's error, as run_finished says


@pytest.mark.parametrize(("environ", "on"), [
    ({}, False),
    ({"OTEL_TRACES_EXPORTER": "none"}, False),
    ({"OTEL_TRACES_EXPORTER": "console"}, True),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
])
def test_tracing_is_on_only_when_otel_variables_configure_it(
        environ: dict[str, str], on: bool) -> None:
    assert telemetry.configured(environ) is on


def _run_in_process(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "flow.yaml").write_text("imports: [flow_tools]\nnodes:\n  only: {tool: noop}\n")
    (tmp_path / "flow_tools.py").write_text(
        "from wfe import tool\n\n@tool\ndef noop() -> dict:\n    return {}\n")
    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('imported:', 'opentelemetry' in sys.modules))\n"
              "from wfe.cli import main\n"
              "sys.argv = ['wfe', 'run', 'flow.yaml', '-q']\n"
              "main()\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_a_plain_run_never_imports_opentelemetry(tmp_path: Path) -> None:
    ran = _run_in_process(tmp_path, {})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "imported: False"


def test_the_console_exporter_prints_the_run_spans(tmp_path: Path) -> None:
    if TracerProvider is None:
        pytest.skip("needs opentelemetry-sdk (pip install 'wfe[otel]')")
    ran = _run_in_process(tmp_path, {"OTEL_TRACES_EXPORTER": "console"})
    assert ran.returncode == 0, ran.stderr
    assert '"wfe.node": "only"' in ran.stdout
    assert '"name": "run flow"' in ran.stdout
    assert ran.stdout.rstrip().endswith("imported: True")

"""Shared fixtures: write a workflow and its tools into a temporary folder and load it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from wfe import Workflow

MakeWorkflow = Callable[..., Workflow]


@pytest.fixture
def write_workflow(tmp_path: Path) -> Callable[..., Path]:
    """Write `yaml` (and `tools`, as module `<name>`) into tmp_path; return the YAML path."""
    counter = {"n": 0}

    def write(yaml: str, tools: str = "", module: str | None = None) -> Path:
        counter["n"] += 1
        name = module or f"tools_{tmp_path.name}_{counter['n']}".replace("-", "_")
        yaml = textwrap.dedent(yaml).replace("TOOLS", name)
        if tools:
            (tmp_path / f"{name}.py").write_text(
                "from wfe import tool, log\n" + textwrap.dedent(tools)
            )
        path = tmp_path / f"wf{counter['n']}.yaml"
        path.write_text(yaml)
        return path

    return write


@pytest.fixture
def make_workflow(write_workflow: Callable[..., Path]) -> MakeWorkflow:
    def make(yaml: str, tools: str = "") -> Workflow:
        return Workflow.load(write_workflow(yaml, tools), entry_points=False)

    return make


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test (and every process it starts) gets its own store, never the repo's."""
    monkeypatch.setenv("WFE_STORE", str(tmp_path_factory.mktemp("store") / "wfe.db"))

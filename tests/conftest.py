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


#: The heavy campaigns (`pytest -m "not slow"` leaves them out): kills at every window, real
#: browsers, load on `wfe serve`, fuzzing, and the longest single runs (over 5 s each on two
#: cores, by `pytest --durations=40`).
SLOW_FILES = {"test_crash.py", "test_serve_page_browser.py", "test_serve_page_live.py",
              "test_serve_load.py", "test_serve_slow_clients.py", "test_fuzz.py"}
SLOW_TESTS = {
    "test_a_slow_watcher_never_holds_the_run_back_and_still_gets_everything",
    "test_a_run_of_100000_steps_with_the_store_stays_in_bounded_memory",
    "test_a_tool_returning_a_value_that_is_not_json_fails_its_node_and_the_store_stays_json",
    "test_a_secret_value_is_masked_wherever_it_shows",
    "test_every_route_answers_as_its_schema_says",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", item.name)
        if item.path.name in SLOW_FILES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)

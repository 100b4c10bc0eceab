"""A workflow file's `imports:` import only its project's modules, the ones installed
distributions declare for tools, or ones already imported for another workflow; everything else
is refused before it is imported, at the `imports:` item; `--import` is the user's own choice
and is trusted; a module of the project never replaces a module imported from elsewhere
(issue 15)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from wfe.errors import SpecError
from wfe.graph.compiler import compile_graph
from wfe.graph.load import load_spec_file
from wfe.tools import discovery, import_rule
from wfe.tools.discovery import build_registry


def tools_module(tool: str, marker: Path | None = None) -> str:
    effect = f"open({str(marker)!r}, 'w').close()\n" if marker is not None else ""
    return (f"from wfe import tool\n{effect}\n@tool\ndef {tool}() -> dict:\n"
            "    return {}\n")


def workflow(folder: Path, module: str, tool: str = "hello") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "flow.yaml"
    path.write_text(f"imports: [{module}]\nnodes:\n  a: {{tool: {tool}}}\n")
    return path


def tools_of(path: Path, extra: tuple[str, ...] = ()) -> list[str]:
    loaded = load_spec_file(path, path.name)
    registry = build_registry(loaded, extra, entry_points=False)
    compile_graph(loaded, registry)
    return registry.names()


def refusal(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        tools_of(path)
    [problem] = caught.value.problems
    assert (problem.code, problem.location.line, problem.location.col) == ("WFE033", 1, 11)
    return problem.message


@pytest.fixture(autouse=True)
def clean_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test imports its modules afresh and leaves sys.modules and sys.path as they were."""
    before = set(sys.modules)
    monkeypatch.setattr(sys, "path", sys.path[:])
    monkeypatch.setattr(import_rule, "_FROM_WORKFLOWS", set())
    discovery._declared_modules.cache_clear()
    yield
    discovery._declared_modules.cache_clear()
    for name in set(sys.modules) - before:
        del sys.modules[name]


@pytest.mark.parametrize("module", ["this", "antigravity", "json", "socket", "os.path", "sys"])
def test_an_installed_module_is_refused_without_being_imported(
        tmp_path: Path, module: str) -> None:
    already = module in sys.modules
    message = refusal(workflow(tmp_path / "project", module))
    assert message.startswith(f"cannot import tool module '{module}': it is not in the "
                              f"workflow's project ({tmp_path / 'project'})")
    assert (module in sys.modules) == already


def test_a_module_on_sys_path_outside_the_project_is_not_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    marker = tmp_path / "ran"
    (outside / "elsewhere_tools.py").write_text(tools_module("hello", marker))
    monkeypatch.syspath_prepend(str(outside))
    refusal(workflow(tmp_path / "project", "elsewhere_tools"))
    assert not marker.exists()


def test_validate_does_not_run_this(tmp_path: Path) -> None:
    path = workflow(tmp_path, "this")
    done = subprocess.run([sys.executable, "-m", "wfe", "validate", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "Beautiful is better than ugly" not in done.stdout + done.stderr
    assert "error[WFE033]: cannot import tool module 'this'" in done.stdout


@pytest.mark.parametrize(("marker", "flow_folder", "module_at"), [
    (None, "", ""),  # beside the workflow, no project marker: the folder is the project
    ("pyproject.toml", "flows/deep", ""),  # at the project root
    (".git", "flows", ""),
    ("pyproject.toml", "flows", "src/"),  # a package of the project on sys.path (editable)
])
def test_the_workflows_folder_and_its_project_root_hold_its_modules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marker: str | None, flow_folder: str,
        module_at: str) -> None:
    root = tmp_path / "project"
    (root / module_at / "root_tools").mkdir(parents=True)
    (root / module_at / "root_tools" / "__init__.py").write_text(tools_module("hello"))
    if marker == ".git":
        (root / ".git").mkdir()
    elif marker is not None:
        (root / marker).write_text("")
    if module_at:
        monkeypatch.syspath_prepend(str(root / module_at))
    assert tools_of(workflow(root / flow_folder, "root_tools")) == ["hello"]


def test_a_virtual_environment_inside_the_project_is_not_the_project(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project"
    site = root / ".venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    (site / "installed_tools.py").write_text(tools_module("hello"))
    monkeypatch.syspath_prepend(str(site))
    assert "not in the workflow's project" in refusal(workflow(root / "flows", "installed_tools"))


def test_a_module_a_distribution_declares_for_tools_is_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    info = site / "shipped-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shipped\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[wfe.tools]\nshipped = shipped_tools\n")
    (site / "shipped_tools.py").write_text(tools_module("hello"))
    monkeypatch.syspath_prepend(str(site))
    assert tools_of(workflow(tmp_path / "project", "shipped_tools")) == ["hello"]


@pytest.mark.parametrize("named_in_the_file", [False, True])
def test_a_module_named_with_import_is_trusted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_in_the_file: bool) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "chosen_tools.py").write_text(tools_module("hello"))
    monkeypatch.syspath_prepend(str(outside))
    path = workflow(tmp_path / "project", "chosen_tools")
    if not named_in_the_file:
        path.write_text("nodes:\n  a: {tool: hello}\n")
    assert tools_of(path, ("chosen_tools",)) == ["hello"]


def test_a_module_imported_for_another_workflow_may_be_named_again(tmp_path: Path) -> None:
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "shared_tools.py").write_text(tools_module("hello"))
    assert tools_of(workflow(tmp_path / "served", "shared_tools")) == ["hello"]
    assert tools_of(workflow(tmp_path / "posted", "shared_tools")) == ["hello"]


@pytest.mark.parametrize("module", ["json", "shadowed_tools"])
def test_a_module_beside_the_workflow_never_replaces_one_imported_from_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    if module == "shadowed_tools":
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "shadowed_tools.py").write_text(tools_module("original"))
        monkeypatch.syspath_prepend(str(tmp_path / "elsewhere"))
        __import__(module)
    before = sys.modules[module] if module in sys.modules else __import__(module)
    path = workflow(tmp_path / "project", module)
    (path.parent / f"{module}.py").write_text(tools_module("hello"))
    message = refusal(path)
    assert str(path.parent / f"{module}.py") in message and "rename it" in message
    assert sys.modules[module] is before


def test_a_module_of_the_same_name_beside_another_workflow_replaces_the_first(
        tmp_path: Path) -> None:
    for folder, tool in (("one", "first"), ("two", "second")):
        path = workflow(tmp_path / folder, "same_tools", tool)
        (path.parent / "same_tools.py").write_text(tools_module(tool))
        assert tools_of(path) == [tool]

"""`workflow:` references cannot amplify: each file is loaded and compiled once however often it
is referenced, the expanded graph has a node cap, nesting a depth cap, and cycles are refused, each
as a problem positioned at the reference (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from subgraph_shapes import SHAPES, fan, write
from typer.testing import CliRunner

import wfe.graph.compiler
import wfe.graph.load
from wfe.cli import app
from wfe.errors import Problem, SpecError
from wfe.graph import subgraph_compile
from wfe.graph.compiler import compile_graph
from wfe.graph.load import load_spec_file
from wfe.graph.model import Graph
from wfe.graph.subgraph_compile import MAX_EXPANDED_NODES, MAX_SUBGRAPH_DEPTH
from wfe.graph.validate import validate_file
from wfe.tools.discovery import build_registry

LEAF_TOOLS = "from wfe import tool\n\n@tool\ndef bump(n: int) -> dict:\n    return {'n': n + 1}\n"


def compile_file(path: Path) -> Graph:
    loaded = load_spec_file(path, path.name)
    return compile_graph(loaded, build_registry(loaded, entry_points=False))


def errors_of(path: Path) -> list[Problem]:
    return [p for p in validate_file(path) if p.severity == "error"]


def test_a_file_referenced_many_times_is_loaded_and_compiled_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    top = write(tmp_path, fan("f", 6, 3))
    loads: list[str] = []
    real_load = wfe.graph.load.load_spec_file

    def counting_load(path: Path | str, display_path: str | None = None
                      ) -> wfe.graph.load.LoadedSpec:
        loads.append(Path(path).name)
        return real_load(path, display_path)

    monkeypatch.setattr(wfe.graph.compiler, "load_spec_file", counting_load)  # where subgraphs load
    graph = compile_file(top)
    assert sorted(loads) == [f"f{n}.yaml" for n in range(1, 6)]
    children = {id(node.subgraph) for node in graph.nodes.values()}
    assert len(children) == 1  # the three references share one compiled child


@pytest.mark.parametrize(("files", "refs", "cap", "line"), [(4, 4, 100, 4), (5, 2, 40, 3)])
def test_expansion_past_the_node_cap_is_refused_at_the_reference_that_crosses_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, refs: int, cap: int,
        line: int) -> None:
    monkeypatch.setattr(subgraph_compile, "MAX_EXPANDED_NODES", cap)
    top = write(tmp_path, fan("f", files, refs))
    crossing = [p for p in errors_of(top) if "expanded" in p.message]
    assert [p.format() for p in crossing] == [
        f"f0.yaml:{line}:18: error[WFE070]: subgraph f1.yaml: with its subgraphs expanded, this "
        f"workflow has more than {cap} nodes".replace("f0.yaml", str(top))]


def test_nine_files_of_four_references_are_refused_by_the_node_cap(tmp_path: Path) -> None:
    top = write(tmp_path, SHAPES["subgraph fan of 9 files x 4 references"]())
    assert [p.format() for p in errors_of(top)] == [
        f"{top}:4:18: error[WFE070]: subgraph fan1.yaml: with its subgraphs expanded, this "
        f"workflow has more than {MAX_EXPANDED_NODES} nodes"]


def test_a_chain_deeper_than_the_cap_is_a_positioned_problem_and_exit_2(tmp_path: Path) -> None:
    top = write(tmp_path, SHAPES["subgraph chain 200 deep"]())
    result = CliRunner().invoke(app, ["validate", str(top)])
    assert result.exit_code == 2, result.output
    deepest = f"deep{MAX_SUBGRAPH_DEPTH - 1}.yaml"
    assert (f"{tmp_path / deepest}:2:18: error[WFE070]: subgraph deep{MAX_SUBGRAPH_DEPTH}.yaml: "
            f"subgraphs nest more than {MAX_SUBGRAPH_DEPTH} levels deep") in result.output
    assert "internal error" not in result.output


def _leaf_chain(folder: Path, prefix: str, depth: int, leaf: str = "") -> dict[str, str]:
    texts = {}
    for level in range(depth):
        if level == depth - 1:
            text = leaf or "imports: [leaf_tools]\nstate: {n: int}\nnodes:\n  leaf: {tool: bump}\n"
        else:
            text = (f"state: {{n: int}}\nnodes:\n  a: {{workflow: {prefix}{level + 1}.yaml, "
                    "inputs: {n: n}, outputs: {n: n}}\n")
        texts[f"{prefix}{level}.yaml"] = text
    (folder / "leaf_tools.py").write_text(LEAF_TOOLS)
    return texts


def test_a_chain_as_deep_as_the_cap_loads_and_runs(tmp_path: Path) -> None:
    from wfe import Workflow

    top = write(tmp_path, _leaf_chain(tmp_path, "d", MAX_SUBGRAPH_DEPTH))
    result = Workflow.load(top, entry_points=False).run({"n": 1})
    assert result.ok, result.error
    assert result.state["n"] == 2


def test_a_compiled_child_reused_deeper_down_still_counts_its_own_levels(tmp_path: Path) -> None:
    """`top` runs chain a (20 levels) and chain b (20 levels) whose last file runs a again: a is
    compiled once, at level 2, but the second reference puts its levels 21 deeper."""
    half = 20
    texts = _leaf_chain(tmp_path, "a", half)
    texts.update({name.replace("a", "b", 1): text.replace("workflow: a", "workflow: b")
                  for name, text in _leaf_chain(tmp_path, "a", half - 1).items()})
    texts[f"b{half - 2}.yaml"] = ("state: {n: int}\nnodes:\n  a: {workflow: a0.yaml, "
                                  "inputs: {n: n}, outputs: {n: n}}\n")
    texts = {"top.yaml": "state: {n: int}\nnodes:\n"
                         "  one: {workflow: a0.yaml, inputs: {n: n}, outputs: {n: n}, next: two}\n"
                         "  two: {workflow: b0.yaml, inputs: {n: n}, outputs: {n: n}}\n", **texts}
    top = write(tmp_path, texts)
    deep = [p for p in errors_of(top) if "levels deep" in p.message]
    assert [(Path(p.location.file).name, p.location.line) for p in deep] == [
        (f"b{half - 2}.yaml", 3)]


@pytest.mark.parametrize(("texts", "where", "cycle"), [
    ({"a.yaml": "nodes:\n  me: {workflow: a.yaml}\n"}, "a.yaml:2:18", "a.yaml → a.yaml"),
    ({"a.yaml": "nodes:\n  go: {workflow: b.yaml}\n",
      "b.yaml": "nodes:\n  back: {workflow: a.yaml}\n"},
     "b.yaml:2:20", "a.yaml → b.yaml → a.yaml"),
    (fan("loop", 8, 4, back_to_first=True), "loop7.yaml:2:18",
     " → ".join(f"loop{n}.yaml" for n in [*range(8), 0])),
])
def test_a_cycle_of_references_is_a_problem_at_the_reference_that_closes_it(
        tmp_path: Path, texts: dict[str, str], where: str, cycle: str) -> None:
    top = write(tmp_path, texts)
    with pytest.raises(SpecError) as caught:
        compile_file(top)
    found = [p for p in caught.value.problems if "recursion" in p.message]
    assert found[0].format() == f"{where}: error[WFE070]: subgraph recursion: {cycle}"


def test_an_invalid_child_referenced_many_times_reports_its_problems_once(tmp_path: Path) -> None:
    texts = fan("f", 3, 3)
    texts["f2.yaml"] = "nodes:\n  leaf: {tool: nowhere}\n"
    top = write(tmp_path, texts)
    unknown = [p for p in errors_of(top) if p.code == "WFE030"]
    assert [p.location.file for p in unknown] == [str(tmp_path / "f2.yaml")]


CHILD = "state: {n: {type: int, default: 0}}\nnodes:\n  idle: {wait: 0}\n"


@pytest.mark.parametrize("reference", [
    "../outside/child.yaml",  # beside the project
    "OUTSIDE/child.yaml",  # an absolute path
    "linked.yaml",  # a link inside the project to a file outside it
])
def test_a_subgraph_outside_the_workflows_project_is_refused_at_the_reference(
        tmp_path: Path, reference: str) -> None:
    """A workflow file is data: like `imports:`, `workflow:` reaches only its project's files,
    so `wfe validate` of a pull request's file reads nothing else of the machine."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "pyproject.toml").write_text("")
    (outside / "child.yaml").write_text(CHILD)
    (project / "linked.yaml").symlink_to(outside / "child.yaml")
    top = project / "top.yaml"
    top.write_text("nodes:\n  call: {workflow: "
                   f"{reference.replace('OUTSIDE', str(outside))}}}\n")
    [problem] = errors_of(top)
    assert problem.code == "WFE070"
    assert (problem.location.line, problem.location.col) == (2, 20)
    assert "lies outside the workflow's project" in problem.message


@pytest.mark.parametrize(("folder", "reference"), [
    ("", "sub/child.yaml"),  # below the workflow
    ("flows", "../shared/child.yaml"),  # elsewhere in its project (the pyproject.toml's folder)
])
def test_a_subgraph_anywhere_in_the_workflows_project_is_run(tmp_path: Path, folder: str,
                                                             reference: str) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    top = tmp_path / folder / "top.yaml"
    child = (top.parent / reference).resolve()
    child.parent.mkdir(parents=True, exist_ok=True)
    top.parent.mkdir(parents=True, exist_ok=True)
    child.write_text(CHILD)
    top.write_text(f"nodes:\n  call: {{workflow: {reference}}}\n")
    assert errors_of(top) == []
    assert compile_file(top).nodes["call"].subgraph is not None

"""`wfe graph` formats: the edge model and its loops, Mermaid, DOT, JSON and the terminal tree.

Golden files live in tests/golden/graph/<case>.<format>; regenerate them with
`WFE_UPDATE_GOLDEN=1 pytest tests/test_diagram.py` and review the diff before committing.

Two checks use outside parsers and skip where these are absent:
- DOT: Graphviz's `dot` on PATH (Debian: `apt-get install -y graphviz`).
- Mermaid: Node.js plus the npm packages `mermaid` and `jsdom`, installed outside the repo, e.g.
  `npm install --prefix /tmp/wfe-mermaid --no-audit --no-fund mermaid@11 jsdom@26`, and
  `WFE_MERMAID_NODE_MODULES=/tmp/wfe-mermaid/node_modules` in the environment. Mermaid's own
  parser then reads every diagram back, so a label that escapes wrongly fails here.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from rich.console import Console

from wfe import Workflow
from wfe.diagram import (
    DiagramEdge,
    Loop,
    NodeAnnotation,
    dot_label,
    dot_quote,
    edge_caption,
    find_loops,
    graph_edges,
    mermaid_escape,
    mermaid_ids,
    node_lines,
    render_text,
    to_json,
)
from wfe.graph.model import END, Edge, Graph
from wfe.render.tree import graph_tree

GOLDEN = Path(__file__).parent / "golden" / "graph"
UPDATE = os.environ.get("WFE_UPDATE_GOLDEN") == "1"
REPO = Path(__file__).resolve().parent.parent
FORMATS = ("tree", "mermaid", "dot", "json")
TIMES = "\N{MULTIPLICATION SIGN}"

TOOLS = """
@tool
def read_source() -> None: ...

@tool
def analyze_code() -> None: ...

@tool
def evaluate_quality() -> None: ...

@tool
def suggest_improvements() -> None: ...

@tool
def call_api() -> None: ...

@tool
def write_report() -> None: ...
"""

CASES: dict[str, str] = {
    # A review loop: a condition, a default, a back-edge, a loop guard.
    "loop": """
        name: review_loop
        description: Improve the code until it is good enough.
        imports: [TOOLS]
        state:
          quality_score: {type: float, default: 0}
          threshold: {type: float, default: 7}
        nodes:
          read:
            tool: read_source
            description: Read the file under review.
            next: analyze
          analyze:
            tool: analyze_code
            next: evaluate
          evaluate:
            tool: evaluate_quality
            next:
              - when: quality_score >= threshold
                then: end
              - when: visits.improve >= 5
                then: end
              - then: improve
          improve:
            tool: suggest_improvements
            max_visits: 5
            next: analyze
    """,
    # Error routes (one plain, one filtered list) and a graceful exit from an exhausted guard.
    "errors": """
        name: error_routes
        imports: [TOOLS]
        state:
          error: {type: any}
          attempts: {type: int, default: 0}
        nodes:
          fetch:
            tool: call_api
            on_error:
              - errors: [TimeoutError, ConnectionError]
                then: fetch_again
              - then: report
            next: report
          fetch_again:
            tool: call_api
            max_visits: 3
            on_exhausted: report
            on_error: fetch_again
            next:
              - when: attempts < 3
                then: fetch
          report:
            tool: write_report
            description: Say what happened.
    """,
    # Names and expressions with every character a diagram format might choke on.
    "quoting": """
        name: 'quote "this" <b> & co'
        description: 'Names | and # expressions that need <escaping>.'
        imports: [TOOLS]
        start: style
        state:
          label: {type: str, default: 'a"b'}
          tags: {type: list, default: []}
          n: {type: int, default: 0}
        nodes:
          class-a:
            tool: analyze_code
            next: style
          style:
            tool: evaluate_quality
            description: 'Says "hi" to <b>|#&`x`[y]{z} \\ back'
            next:
              - when: 'label == "a|b#c" and n < 3'
                then: class-a
              - when: "'`' in label or label == '[x]{y}' or tags[0] == '#quot;'"
                then: default
              - when: 'n >= 2 and n <= 9 or label != "&amp;" or label == "\\\\"'
                then: end
          default:
            tool: write_report
    """,
}

ANNOTATIONS = {
    "read": NodeAnnotation(1, "succeeded"),
    "analyze": NodeAnnotation(3, "succeeded"),
    "evaluate": NodeAnnotation(3, "succeeded"),
    "improve": NodeAnnotation(2, "failed"),
}


# --- helpers -----------------------------------------------------------------------------------


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with WFE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def tree_text(graph: Graph, annotations: dict[str, NodeAnnotation] | None = None) -> str:
    console = Console(
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        width=100,
        legacy_windows=False,
        _environ={},
    )
    console.print(graph_tree(graph, annotations))
    output = console.file.getvalue()
    assert isinstance(output, str)
    return output


def render(graph: Graph, fmt: str, annotations: dict[str, NodeAnnotation] | None = None) -> str:
    if fmt == "tree":
        return tree_text(graph, annotations)
    return render_text(graph, fmt, annotations)  # type: ignore[arg-type]


@pytest.fixture
def load_case(
    write_workflow: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[[str], Graph]:
    """Load a case by a relative path, so the file shown in the tree is the same everywhere."""
    monkeypatch.chdir(tmp_path)

    def load(case: str) -> Graph:
        path = write_workflow(CASES[case], TOOLS)
        return Workflow.load(path.name, entry_points=False).graph

    return load


def fake_graph(base: Graph, nodes: dict[str, list[tuple[str, str | None]]], **kw: Any) -> Graph:
    """`base` with its nodes replaced: name -> [(target, condition text)]; any names at all."""
    template = next(iter(base.nodes.values()))
    built = {
        name: dataclasses.replace(
            template,
            name=name,
            edges=tuple(
                Edge(target, SimpleNamespace(source=text) if text else None)  # type: ignore[arg-type]
                for target, text in edges
            ),
            on_error=(),
            on_exhausted=None,
            max_visits=None,
            description="",
        )
        for name, edges in nodes.items()
    }
    return dataclasses.replace(base, nodes=built, start=kw.pop("start", next(iter(nodes))), **kw)


@pytest.fixture
def simple_graph(load_case: Callable[[str], Graph]) -> Graph:
    return load_case("loop")


def back_edges(graph: Graph) -> list[tuple[str, str]]:
    return [(e.source, e.target) for e in graph_edges(graph) if e.back_edge]


WEIRD_NAMES = [
    'say "hi"',
    "a<b>|c#d&e",
    "`md` **bold**",
    "[x]{y}(z)",
    "line\nbreak",
    "back\\slash\\",
    "a-b",
    "a_b",
    "ünï ☃",
    "%% not a comment",
    "#quot; literal",
]


@pytest.fixture
def weird_graph(simple_graph: Graph) -> Graph:
    names = WEIRD_NAMES
    nodes: dict[str, list[tuple[str, str | None]]] = {
        name: [(names[(i + 1) % len(names)], f'x == "{name}" and y < 3 | z'), (END, None)]
        for i, name in enumerate(names)
    }
    return fake_graph(simple_graph, nodes, name='weird "graph" \\ <x> --- ☃\n#: y')


# --- golden files ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, fmt: str, load_case: Callable[[str], Graph]) -> None:
    check_golden(f"{case}.{fmt}", render(load_case(case), fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_annotated(fmt: str, load_case: Callable[[str], Graph]) -> None:
    check_golden(f"loop_annotated.{fmt}", render(load_case("loop"), fmt, ANNOTATIONS))


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_shipped_code_review(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not (REPO / "workflows" / "code_review.yaml").exists():
        pytest.skip("workflows/code_review.yaml is not there yet")
    monkeypatch.chdir(REPO)
    graph = Workflow.load("workflows/code_review.yaml", entry_points=False).graph
    check_golden(f"code_review.{fmt}", render(graph, fmt))


# --- the edge model ----------------------------------------------------------------------------


def test_edges_in_file_order_with_kinds(load_case: Callable[[str], Graph]) -> None:
    edges = graph_edges(load_case("errors"))
    assert edges == [
        DiagramEdge("fetch", "report", None, "next"),
        DiagramEdge(
            "fetch", "fetch_again", None, "on_error", False, ("ConnectionError", "TimeoutError")
        ),
        DiagramEdge("fetch", "report", None, "on_error"),
        DiagramEdge("fetch_again", "fetch", "attempts < 3", "next", back_edge=True),
        # no default given: the compiler ends the run when nothing holds
        DiagramEdge("fetch_again", END, None, "default"),
        DiagramEdge("fetch_again", "fetch_again", None, "on_error", back_edge=True),
        DiagramEdge("fetch_again", "report", None, "exhausted"),
        DiagramEdge("report", END, None, "next"),
    ]
    assert [edge_caption(e) for e in edges] == [
        None,
        "on_error: ConnectionError, TimeoutError",
        "on_error",
        "attempts < 3",
        "else",
        "on_error",
        "on_exhausted",
        None,
    ]


def test_back_edge_closes_the_loop_seen_from_the_start(load_case: Callable[[str], Graph]) -> None:
    graph = load_case("loop")
    assert back_edges(graph) == [("improve", "analyze")]
    assert find_loops(graph) == [Loop("analyze", "improve", ("analyze", "evaluate", "improve"))]


def test_back_edges_depend_on_the_start(simple_graph: Graph) -> None:
    nodes: dict[str, list[tuple[str, str | None]]] = {"a": [("b", None)], "b": [("a", None)]}
    assert back_edges(fake_graph(simple_graph, nodes)) == [("b", "a")]
    assert back_edges(fake_graph(simple_graph, nodes, start="b")) == [("a", "b")]


def test_self_loop_nested_loops_and_no_false_loops(simple_graph: Graph) -> None:
    self_loop = fake_graph(simple_graph, {"a": [("a", "n < 3"), (END, None)]})
    assert back_edges(self_loop) == [("a", "a")]
    assert find_loops(self_loop) == [Loop("a", "a", ("a",))]
    diamond = fake_graph(
        simple_graph,
        {
            "a": [("b", "x"), ("c", None)],
            "b": [("d", None)],
            "c": [("d", None)],
            "d": [(END, None)],
        },
    )
    assert back_edges(diamond) == []
    assert find_loops(diamond) == []
    nested = fake_graph(
        simple_graph,
        {
            "a": [("b", None)],
            "b": [("c", None)],
            "c": [("b", "inner"), ("a", "outer"), (END, None)],
        },
    )
    assert back_edges(nested) == [("c", "b"), ("c", "a")]
    assert find_loops(nested) == [Loop("b", "c", ("b", "c")), Loop("a", "c", ("a", "b", "c"))]


def test_loops_among_unreachable_nodes_are_found_too(simple_graph: Graph) -> None:
    graph = fake_graph(simple_graph, {"a": [(END, None)], "x": [("y", None)], "y": [("x", None)]})
    assert back_edges(graph) == [("y", "x")]
    assert "(unreachable from start)" in tree_text(graph)


def test_a_long_chain_does_not_recurse(simple_graph: Graph) -> None:
    names = [f"n{i}" for i in range(5000)]
    nodes: dict[str, list[tuple[str, str | None]]] = {
        name: [(names[i + 1] if i + 1 < len(names) else names[0], None)]
        for i, name in enumerate(names)
    }
    assert back_edges(fake_graph(simple_graph, nodes)) == [("n4999", "n0")]


# --- escaping ----------------------------------------------------------------------------------


def test_mermaid_escape_leaves_no_risky_character() -> None:
    text = 'a"b#c&d<e>f|g`h[i]j{k}l\nm\rn'
    escaped = mermaid_escape(text)
    assert escaped == ("a#quot;b#35;c#amp;d#lt;e#gt;f#124;g#96;h#91;i#93;j#123;k#125;l#10;m#13;n")
    assert mermaid_escape("len(xs) >= 2") == "len(xs) #gt;= 2"


def test_mermaid_ids_are_safe_unique_and_stable(weird_graph: Graph) -> None:
    ids = mermaid_ids(weird_graph)
    assert len(set(ids.values())) == len(ids)
    assert all(ident.replace("_", "").isalnum() and ident.isascii() for ident in ids.values())
    assert ids["a_b"] == "n_a_b" and ids["a-b"] == "n6_a_b"
    assert ids == mermaid_ids(weird_graph)


def test_dot_quote_and_label() -> None:
    assert dot_label("a & b &amp;") == '"a &amp; b &amp;amp;"'
    assert dot_quote('say "hi"') == '"say \\"hi\\""'
    assert dot_quote("back\\slash\\") == '"back\\\\slash\\\\"'
    assert dot_quote("two\nlines") == '"two\\nlines"'


def test_every_weird_name_survives_in_every_format(weird_graph: Graph) -> None:
    mermaid = render_text(weird_graph, "mermaid")
    for line in mermaid.splitlines()[4:]:
        if line.lstrip().startswith(("linkStyle", "classDef")):
            continue
        outside = "".join(line.split('"')[0::2])  # ids, shapes and arrows only
        assert not any(c in outside for c in "#&`\\\n"), line
    front_matter = mermaid.split("---\n")[1]
    assert yaml.safe_load(front_matter) == {"title": weird_graph.name}
    data = json.loads(render_text(weird_graph, "json"))
    assert [node["id"] for node in data["nodes"]] == [*WEIRD_NAMES, END]
    assert "☃" in tree_text(weird_graph)


# --- JSON --------------------------------------------------------------------------------------


def test_json_round_trips_with_the_documented_keys(load_case: Callable[[str], Graph]) -> None:
    graph = load_case("errors")
    data = json.loads(render_text(graph, "json"))
    assert data == to_json(graph)
    assert list(data) == ["name", "start", "nodes", "edges"]
    assert (data["name"], data["start"]) == ("error_routes", "fetch")
    for node in data["nodes"]:
        assert list(node) == ["id", "kind", "tool", "description", "max_visits"]
    assert data["nodes"][-1] == {
        "id": "end",
        "kind": "end",
        "tool": None,
        "description": "",
        "max_visits": None,
    }
    for edge in data["edges"]:
        assert list(edge) == ["from", "to", "condition", "kind", "back_edge", "errors"]
    assert data["edges"][3] == {
        "from": "fetch_again",
        "to": "fetch",
        "condition": "attempts < 3",
        "kind": "next",
        "back_edge": True,
        "errors": None,
    }


def test_json_with_annotations_gives_every_node_visits_and_status(simple_graph: Graph) -> None:
    nodes = to_json(simple_graph, {"read": NodeAnnotation(1, "succeeded")})["nodes"]
    assert [(n["id"], n["visits"], n["status"]) for n in nodes] == [
        ("read", 1, "succeeded"),
        ("analyze", 0, None),
        ("evaluate", 0, None),
        ("improve", 0, None),
        ("end", 0, None),
    ]


def test_end_is_drawn_only_when_reached(simple_graph: Graph) -> None:
    graph = fake_graph(simple_graph, {"a": [("b", None)], "b": [("a", None)]})
    assert [n["id"] for n in to_json(graph)["nodes"]] == ["a", "b"]
    assert "wfe_end" not in render_text(graph, "mermaid")
    assert "__end__" not in render_text(graph, "dot")
    assert "■ end" not in tree_text(graph)


# --- the tree ----------------------------------------------------------------------------------


def test_tree_marks_start_loops_conditions_and_end(simple_graph: Graph) -> None:
    text = tree_text(simple_graph)
    assert "\x1b[" not in text
    for expected in (
        "▶ start → read",
        "improve · tool suggest_improvements · max_visits 5",
        "→ end  when quality_score >= threshold",
        "→ improve  otherwise",
        "↺ analyze  (loop)",
        "↺ loop: analyze → evaluate → improve → analyze",
        "■ end",
    ):
        assert expected in text


def test_tree_has_colour_on_a_colour_terminal(simple_graph: Graph) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, color_system="standard", width=100)
    console.print(graph_tree(simple_graph, ANNOTATIONS))
    assert f"\x1b[31m{TIMES}2 · failed" in console.file.getvalue()


def test_node_lines(simple_graph: Graph) -> None:
    improve = simple_graph.nodes["improve"]
    assert node_lines(improve) == ["improve", "tool: suggest_improvements", "max_visits: 5"]
    assert node_lines(improve, {}) == [*node_lines(improve), f"{TIMES}0"]
    assert node_lines(improve, ANNOTATIONS)[-1] == f"{TIMES}2 · failed"


# --- outside parsers ---------------------------------------------------------------------------


def all_graphs(load_case: Callable[[str], Graph], weird: Graph) -> dict[str, Graph]:
    graphs = {case: load_case(case) for case in sorted(CASES)}
    graphs["weird"] = weird
    return graphs


def dot_unescape(raw: str) -> str:
    """What Graphviz shows for a label: `\\n` a line break, `\\\\` a backslash, entities decoded."""
    text = re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], raw, flags=re.S)
    return html.unescape(text)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_dot_parses_and_keeps_every_name_and_label(
    load_case: Callable[[str], Graph], weird_graph: Graph, tmp_path: Path
) -> None:
    for case, graph in all_graphs(load_case, weird_graph).items():
        for notes in (None, ANNOTATIONS):
            source = tmp_path / f"{case}.dot"
            source.write_text(render_text(graph, "dot", notes), encoding="utf-8")
            svg = subprocess.run(["dot", "-Tsvg", str(source)], capture_output=True, text=True)
            assert svg.returncode == 0 and "<svg" in svg.stdout, (case, svg.stderr)
            assert svg.stderr == "", (case, svg.stderr)
            parsed = subprocess.run(
                ["dot", "-Tjson0", str(source)], capture_output=True, text=True, check=True
            )
            objects = json.loads(parsed.stdout)
            assert dot_unescape(objects["label"]) == graph.name
            labels = sorted(dot_unescape(obj["label"]) for obj in objects["objects"])
            expected = ["\n".join(node_lines(node, notes)) for node in graph.nodes.values()]
            ends = ["end"] if any(e.target == END for e in graph_edges(graph)) else []
            assert labels == sorted(["start", *expected, *ends]), case
            labels = sorted(dot_unescape(e.get("label", "")) for e in objects["edges"])
            expected = [edge_caption(e) or "" for e in graph_edges(graph)]
            assert labels == sorted(["", *expected]), case  # "" for the edge from start


MERMAID_PROBE = r"""
import { JSDOM } from "jsdom";
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
// Mermaid keeps entity codes as placeholders until it draws; undo them as its renderer does.
const decode = (text) => {
  const area = document.createElement("textarea");
  area.innerHTML = String(text ?? "")
    .replace(/ﬂ°°/g, "&#").replace(/ﬂ°/g, "&").replace(/¶ß/g, ";");
  return area.value;
};
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const source of JSON.parse(input)) {
  try {
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(source);
    results.push({
      type: diagram.type,
      vertices: [...diagram.db.getVertices().values()].map((v) => [v.id, decode(v.text)]),
      edges: diagram.db.getEdges().map((e) => [e.start, e.end, decode(e.text), e.stroke]),
    });
  } catch (error) {
    results.push({ error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));
"""


def mermaid_modules() -> Path:
    modules = os.environ.get("WFE_MERMAID_NODE_MODULES")
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    if (
        not modules
        or not (Path(modules) / "mermaid").is_dir()
        or not (Path(modules) / "jsdom").is_dir()
    ):
        pytest.skip("set WFE_MERMAID_NODE_MODULES to a node_modules with mermaid and jsdom")
    return Path(modules)


def mermaid_read_back(sources: list[str]) -> list[dict[str, Any]]:
    """Mermaid's own parser on each source: its vertices and edges with text decoded."""
    modules = mermaid_modules()
    result = subprocess.run(
        ["node", "--input-type=module", "-e", MERMAID_PROBE],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        cwd=modules.parent,  # bare imports in `-e` resolve from the working directory
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, list)
    return parsed


def expected_mermaid(graph: Graph, annotations: dict[str, NodeAnnotation] | None) -> dict[str, Any]:
    ids = mermaid_ids(graph)
    edges = graph_edges(graph)
    vertices = [["wfe_start", "start"]]
    vertices += [
        [ids[n], "<br>".join(node_lines(node, annotations))] for n, node in graph.nodes.items()
    ]
    if any(e.target == END for e in edges):
        vertices.append(["wfe_end", "end"])

    def stroke(edge: DiagramEdge) -> str:
        if edge.kind in ("on_error", "exhausted"):
            return "dotted"
        return "thick" if edge.back_edge else "normal"

    return {
        "type": "flowchart-v2",
        "vertices": vertices,
        "edges": [["wfe_start", ids[graph.start], "", "normal"]]
        + [
            [
                ids[e.source],
                "wfe_end" if e.target == END else ids[e.target],
                edge_caption(e) or "",
                stroke(e),
            ]
            for e in edges
        ],
    }


def test_mermaid_parses_and_reads_back_every_label(
    load_case: Callable[[str], Graph], weird_graph: Graph
) -> None:
    mermaid_modules()
    graphs = all_graphs(load_case, weird_graph)
    runs = [(graph, notes) for graph in graphs.values() for notes in (None, ANNOTATIONS)]
    results = mermaid_read_back([render_text(g, "mermaid", notes) for g, notes in runs])
    for (graph, notes), result in zip(runs, results, strict=True):
        assert result == expected_mermaid(graph, notes), graph.name


def test_mermaid_probe_rejects_a_broken_diagram() -> None:
    [result] = mermaid_read_back(['flowchart TD\n  a["x"] --> end\n'])
    assert "Parse error" in result["error"]


# --- --expand: a workflow: node's child graph inlined -------------------------------------------

SUB_TOOLS = """from wfe import tool

@tool
def double(x: int) -> dict:
    return {"y": 2 * x}

@tool
def halve(y: int) -> dict:
    return {"y": y // 2}
"""

SUB_CHILD = """
imports: [sub_tools]
state:
  x: int
  y: int
nodes:
  double: {tool: double, next: [{when: "y > 10", then: halve}, {then: end}]}
  halve: {tool: halve}
"""

SUB_PARENT = """
name: parent
state:
  n: {type: int, default: 4}
  result: int
  numbers: {type: "list[int]", default: [1, 2, 3]}
  results: list
nodes:
  call:
    workflow: child.yaml
    inputs: {x: "n + 1"}
    outputs: {result: y}
    next: each
  each:
    map: numbers
    as: number
    workflow: child.yaml
    inputs: {x: number}
    outputs: {out: y}
    collect: results
    next: fan
  fan:
    parallel:
      deep: {workflow: child.yaml, inputs: {x: n}, outputs: {result: y}}
      wide: {workflow: child.yaml, inputs: {x: 2}, outputs: {n: y}}
"""


@pytest.fixture
def parent_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Graph:
    (tmp_path / "sub_tools.py").write_text(SUB_TOOLS)
    (tmp_path / "child.yaml").write_text(SUB_CHILD)
    (tmp_path / "parent.yaml").write_text(SUB_PARENT)
    monkeypatch.chdir(tmp_path)
    return Workflow.load("parent.yaml", entry_points=False).graph


def expanded(graph: Graph, fmt: str) -> str:
    if fmt != "tree":
        return render_text(graph, fmt, expand=True)  # type: ignore[arg-type]
    console = Console(file=io.StringIO(), force_terminal=True, color_system=None, width=100,
                      legacy_windows=False, _environ={})
    console.print(graph_tree(graph, expand=True))
    output = console.file.getvalue()
    assert isinstance(output, str)
    return output


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_expanded(fmt: str, parent_graph: Graph) -> None:
    check_golden(f"subgraph_expanded.{fmt}", expanded(parent_graph, fmt))
    check_golden(f"subgraph.{fmt}", render(parent_graph, fmt))


def test_expand_inlines_child_nodes_and_edges(parent_graph: Graph) -> None:
    assert "call/double" not in render_text(parent_graph, "json")
    document = to_json(parent_graph, expand=True)
    children = [(n["id"], n.get("parent")) for n in document["nodes"] if "/" in n["id"]]
    assert children == [("call/double", "call"), ("call/halve", "call"),
                        ("each/double", "each"), ("each/halve", "each"),
                        ("fan/deep/double", "fan/deep"), ("fan/deep/halve", "fan/deep"),
                        ("fan/wide/double", "fan/wide"), ("fan/wide/halve", "fan/wide")]
    inner = [(e["from"], e["to"], e["condition"]) for e in document["edges"] if "/" in e["from"]]
    assert inner == [("call/double", "call/halve", "y > 10"),
                     ("each/double", "each/halve", "y > 10"),
                     ("fan/deep/double", "fan/deep/halve", "y > 10"),
                     ("fan/wide/double", "fan/wide/halve", "y > 10")]
    mermaid = render_text(parent_graph, "mermaid", expand=True)
    assert mermaid.count("subgraph sg_") == 4 and '"call/double' in mermaid
    dot = render_text(parent_graph, "dot", expand=True)
    assert 'subgraph "cluster_call" {' in dot and '"call/double" -> "call/halve"' in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_expanded_dot_parses(parent_graph: Graph, tmp_path: Path) -> None:
    source = tmp_path / "expanded.dot"
    source.write_text(render_text(parent_graph, "dot", expand=True), encoding="utf-8")
    svg = subprocess.run(["dot", "-Tsvg", str(source)], capture_output=True, text=True)
    assert svg.returncode == 0 and svg.stderr == "", svg.stderr


def test_expanded_mermaid_parses(parent_graph: Graph) -> None:
    [result] = mermaid_read_back([render_text(parent_graph, "mermaid", expand=True)])
    assert "error" not in result, result
    texts = [text for _, text in result["vertices"]]
    assert "call/double<br>tool: double" in texts and "each/halve<br>tool: halve" in texts
    inner = [(a, b, text) for a, b, text, _ in result["edges"] if text == "y > 10"]
    assert len(inner) == 4

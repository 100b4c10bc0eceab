"""Compiling a spec into a graph: references, tools, bindings and expressions, checked at load."""

from __future__ import annotations

import textwrap

import pytest

from wfe.errors import SpecError
from wfe.graph.compiler import compile_graph
from wfe.graph.load import load_spec_bytes
from wfe.graph.model import Source
from wfe.tools.registry import Registry, tool


@tool
def read(path: str, limit: int = 10) -> dict:
    """Read something."""
    return {}


@tool("score")
def score_it(items: list, ctx: object, state: dict) -> dict:
    return {}


@tool
def anything(**kwargs: object) -> None:
    return None


def registry() -> Registry:
    tools = Registry()
    tools.register_all([read, score_it, anything])
    return tools


def compile_text(yaml: str):
    loaded = load_spec_bytes(textwrap.dedent(yaml).lstrip("\n").encode(), "wf.yaml")
    return compile_graph(loaded, registry())


def problems(yaml: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        compile_text(yaml)
    return [p.format() for p in caught.value.problems]


def test_bindings_come_from_with_then_state_then_special_parameters():
    graph = compile_text("""
        state: {items: list, path: str}
        nodes:
          a: {tool: read, next: b}
          b: {tool: score, with: {items: "${ [1, 2] }"}}
    """)
    a, b = graph.nodes["a"], graph.nodes["b"]
    assert [(x.param, x.source) for x in a.bindings] == [("path", Source.STATE)]
    assert [(x.param, x.source) for x in b.bindings] == [
        ("items", Source.TEMPLATE), ("ctx", Source.CONTEXT), ("state", Source.WHOLE_STATE)]
    assert b.wants_context and b.wants_state and a.runs_inline


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        (
            """
            nodes:
              a: {tool: raed}
            """,
            "wf.yaml:2:13: error[WFE030]: unknown tool 'raed' (did you mean 'read'?) "
            "(imports: none)",
        ),
        (
            """
            nodes:
              a: {tool: read}
            """,
            "wf.yaml:2:13: error[WFE031]: tool 'read' needs parameter 'path', which neither "
            "`with:` nor the state supplies",
        ),
        (
            """
            nodes:
              a: {tool: read, with: {path: x, limt: 3}}
            """,
            "wf.yaml:2:35: error[WFE032]: tool 'read' has no parameter 'limt' "
            "(did you mean 'limit'?)",
        ),
        (
            """
            state: {path: str}
            nodes:
              a: {tool: read, next: b}
              bb: {tool: read}
            """,
            "wf.yaml:3:25: error[WFE020]: unknown node 'b'",
        ),
        (
            """
            state: {path: str}
            nodes:
              a: {tool: read, next: [{when: "path == 'x'", then: biuld}]}
              build: {tool: read}
            """,
            "wf.yaml:3:54: error[WFE020]: unknown node 'biuld' (did you mean 'build'?)",
        ),
        (
            """
            state: {path: str}
            start: frist
            nodes:
              first: {tool: read}
            """,
            "wf.yaml:2:8: error[WFE020]: unknown node 'frist' (did you mean 'first'?)",
        ),
        (
            """
            state: {path: str}
            nodes:
              a:
                tool: read
                next:
                  - then: end
                  - {when: "path == ''", then: end}
            """,
            "wf.yaml:6:9: error[WFE021]: a branch without `when` is the default and must be last",
        ),
        (
            """
            state: {path: str}
            nodes:
              a:
                tool: read
                next: [{when: "pth == 'x'", then: end}]
            """,
            "wf.yaml:5:19: error[WFE041]: unknown name 'pth' in `pth == 'x'`: not a state key "
            "(did you mean 'path'?)",
        ),
        (
            """
            state: {path: str}
            nodes:
              a:
                tool: read
                next: [{when: "path.__class__", then: end}]
            """,
            "wf.yaml:5:19: error[WFE040]",
        ),
        (
            """
            state: {path: str}
            nodes:
              a: {tool: read, on_error: end}
            """,
            "wf.yaml:3:19: error[WFE050]: on_error writes state key 'error': declare it "
            "(error: {type: any})",
        ),
        (
            """
            state: {path: str, step: int}
            nodes:
              a: {tool: read}
            """,
            "wf.yaml:1:20: error[WFE050]: state key 'step' is reserved for expressions",
        ),
        (
            """
            state: {path: str, n: {type: integer}}
            nodes:
              a: {tool: read}
            """,
            "wf.yaml:1:30: error[WFE050]: unknown type 'integer' in 'integer'",
        ),
        (
            """
            state: {path: str, n: {type: list, reduce: apend}}
            nodes:
              a: {tool: read}
            """,
            "wf.yaml:1:44: error[WFE050]: unknown reducer 'apend' (did you mean 'append'?)",
        ),
        (
            """
            state: {path: str}
            nodes:
              a: {tool: read, out: result}
            """,
            "wf.yaml:3:24: error[WFE050]: state key 'result' is not declared under `state:`",
        ),
        (
            """
            state: {path: str}
            nodes:
              end: {tool: read}
            """,
            "wf.yaml:3:3: error[WFE011]: 'end' is reserved for the end of the run; rename the node",
        ),
        (
            """
            state: {path: str}
            nodes:
              a: {tool: read, with: {limit: "${ 1 + }"}}
            """,
            "wf.yaml:3:33: error[WFE040]",
        ),
    ],
)
def test_reference_problem_is_reported_at_its_position(yaml, expected):
    assert any(p.startswith(expected) for p in problems(yaml)), problems(yaml)


def test_every_problem_in_the_file_is_reported_at_once():
    found = problems("""
        nodes:
          a: {tool: raed, next: x}
          b: {tool: read, next: y}
    """)
    assert len(found) == 4
    assert found == sorted(found, key=lambda p: tuple(int(n) for n in p.split(":")[1:3]))


def test_kwargs_tool_accepts_any_with_key():
    graph = compile_text("nodes:\n  a: {tool: anything, with: {x: 1, y: two}}\n")
    assert [b.param for b in graph.nodes["a"].bindings] == ["x", "y"]


def test_branches_without_default_end_the_run():
    graph = compile_text("""
        state: {path: str}
        nodes:
          a: {tool: read, next: [{when: "path == ''", then: a}]}
    """)
    assert [e.target for e in graph.nodes["a"].edges] == ["a", "end"]

"""Expressions that fail whenever they are evaluated are refused at load, where they are written
(WFE042); anything whose outcome depends on a value the state may hold is left to run time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wfe import SpecError, Workflow

WORKFLOW = """\
imports: [tools]
state:
  x: {{type: int, default: 5}}
  ratio: {{type: float, default: 0.5}}
  name: {{type: str, default: bob}}
  flag: {{type: bool, default: true}}
  items: {{type: "list[int]", default: [1, 2, 3]}}
  table: {{type: "dict[str, int]", default: {{}}}}
  data: {{type: any, default: null}}
  maybe: {{type: "int | None", default: null}}
nodes:
  first:
    tool: inc
    next:
      - when: {expression}
        then: end
      - then: end
"""


@pytest.fixture
def load(tmp_path: Path):
    (tmp_path / "tools.py").write_text("from wfe import tool\n@tool\ndef inc() -> None:\n"
                                       "    return None\n")

    def load_with(expression: str) -> Workflow:
        path = tmp_path / "wf.yaml"
        path.write_text(WORKFLOW.format(expression=json.dumps(expression)))
        return Workflow.load(path, entry_points=False)

    return load_with


@pytest.mark.parametrize(("expression", "message"), [
    ("x", "a condition must be true or false, and `x` is a number"),
    ("name", "`name` is a string"),
    ("items", "`items` is a list"),
    ("flag and x", "`x` is a number"),
    ("x > 'a'", "`x` and `'a'` cannot be ordered"),
    ("name <= ratio", "`name` and `ratio` cannot be ordered"),
    ("x.func_globals", "`.func_globals` looks up a key, but `x` is a number"),
    ("items.size > 0", "`.size` looks up a key, but `items` is a list"),
    ("len(items[::0]) > 0", "a slice step cannot be zero"),
    ("inputs['missing'] > 0", "there is no state key 'missing'"),
    ("visits.nowhere > 1", "there is no node 'nowhere'"),
    ("visits['nowhere'] > 1", "there is no node 'nowhere'"),
])
def test_an_expression_that_always_fails_is_refused_at_load(load, expression, message):
    with pytest.raises(SpecError) as refused:
        load(expression)
    [problem] = refused.value.problems
    assert problem.code == "WFE042"
    assert message in problem.message
    assert (problem.location.line, problem.location.col) == (15, 15)  # at its `when:`


@pytest.mark.parametrize("expression", [
    "flag", "not flag", "x > 0", "x == 'a'", "name != ''", "ratio < x", "len(items) > 2",
    "items[1:2] == [2]", "items[10] > 0", "table.size > 0", "table['a'] == 1", "data.key == 1",
    "data > 'a'", "maybe", "visits.first > 1", "inputs['x'] == 5", "step > 3",
    "flag and x > 0", "(x > 0) or name == 'bob'",
])
def test_an_expression_whose_outcome_depends_on_the_values_is_accepted(load, expression):
    load(expression)

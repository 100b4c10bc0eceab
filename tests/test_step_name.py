"""`step` in expressions: the number of the step being run, as its events and `ctx.step` give it;
in a `when:` (once the node is done) that is the number of steps done. The README says so."""

from __future__ import annotations

import re
from pathlib import Path

FLOW = """
imports: [TOOLS]
state:
  seen: {type: list, reduce: append}
nodes:
  tick:
    tool: tick
    with: {number: "${ step }"}
    next: [{when: step < 3, then: tick}]
"""
TOOLS = """
@tool
def tick(number: int, ctx) -> dict:
    return {"seen": [number, ctx.step]}
"""


def test_step_is_the_number_of_the_step_being_run_and_in_when_the_steps_done(make_workflow):
    events: list[dict] = []
    result = make_workflow(FLOW, TOOLS).run(listeners=[events.append])
    assert result.state["seen"] == [[1, 1], [2, 2], [3, 3]]
    assert [e["step"] for e in events if e["event"] == "node_started"] == [1, 2, 3]
    assert result.steps == 3  # `when: step < 3` after the third step: three were done


def test_the_readme_defines_step_as_the_code_does():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    names = re.search(r"^- Names: .*?(?=^- )", readme, re.MULTILINE | re.DOTALL)
    assert names is not None
    text = " ".join(names.group().split())
    assert "`step` (the number of the step being run, from 1: the `step` of its events and the " \
           "tool's `ctx.step`; in a `when:`, evaluated once the node is done, that is the " \
           "number of steps done)" in text

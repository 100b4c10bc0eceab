"""The Python API (SPEC section 4): runs recorded in a store, resumed, and timed honestly."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
imports: [TOOLS]
state:
  seen: any
  names: {type: list, default: [a, b]}
  echoed: {type: list, default: []}
nodes:
  probe: {tool: probe, next: each}
  each: {map: names, as: name, tool: echo, collect: echoed}
"""
PROBE_TOOLS = """
import sys

@tool
def probe() -> dict:
    return {"seen": sorted(m for m in ("pydantic", "wfe.fanout") if m in sys.modules)}

@tool
def echo(name: str) -> str:
    return name
"""


def test_what_steps_would_import_is_imported_before_the_first_step(write_workflow):
    path = write_workflow(PROBE, PROBE_TOOLS)
    code = ("import json, sys; from wfe import Workflow; "
            "print(json.dumps(Workflow.load(sys.argv[1]).run().state['seen']))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=path.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["pydantic", "wfe.fanout"]

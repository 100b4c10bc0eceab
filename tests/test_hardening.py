"""Hardening: secrets never leak, long runs stay in bounded memory, hostile files are refused
cleanly, and random graphs keep the engine's invariants (issue 7)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peak_rss import wfe_measured

from wfe.errors import SpecError

BAD_YAML = Path(__file__).parent / "data" / "bad_yaml"
GIB = 1 << 30
MIB = 1 << 20


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))


def wfe(*args: str, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m wfe ARGS` in `cwd` under a 1 GiB address-space limit."""
    return subprocess.run(
        [sys.executable, "-m", "wfe", *args], cwd=cwd, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_address_space,
    )


def runs_in_store(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]


# --- secrets -------------------------------------------------------------------------------

PLANTED = "pl4nted-S3CRET-value-7f3a9c"

SECRET_TOOLS = '''
import hashlib
import os
from wfe import tool, log


@tool
def use_token(token: str) -> dict:
    log("calling the service with the token")
    if os.path.exists("fail_once"):
        os.remove("fail_once")
        raise RuntimeError("service unavailable")
    return {"digest": hashlib.sha256(token.encode()).hexdigest()}
'''

SECRET_WORKFLOW = """
imports: [secret_tools]
state:
  token: {type: str, env: WFE_T, secret: true}
  digest: str
nodes:
  call: {tool: use_token, next: end}
"""


def _assert_nowhere(texts: dict[str, str | bytes]) -> None:
    for where, text in texts.items():
        needle = PLANTED.encode() if isinstance(text, bytes) else PLANTED
        assert needle not in text, f"the secret leaked into {where}"


def test_a_secret_never_appears_in_output_events_logs_or_store_and_resume_reads_it_again(
    tmp_path: Path,
):
    (tmp_path / "secret_tools.py").write_text(SECRET_TOOLS)
    (tmp_path / "wf.yaml").write_text(SECRET_WORKFLOW)
    (tmp_path / "fail_once").touch()
    store = tmp_path / "store" / "wfe.db"
    env = {"WFE_T": PLANTED}

    first = wfe("run", "wf.yaml", "--json", "--store", str(store), "--output", "out1.json",
                cwd=tmp_path, env=env)
    assert first.returncode == 1, first.stderr
    run_id = json.loads(first.stdout.splitlines()[0])["run_id"]

    resumed = wfe("resume", run_id, "--store", str(store), cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    logs = wfe("logs", run_id, "--json", "--store", str(store), cwd=tmp_path)
    show = wfe("show", run_id, "--json", "--store", str(store), cwd=tmp_path)
    assert logs.returncode == 0 and show.returncode == 0, logs.stderr + show.stderr

    events = [json.loads(line) for line in logs.stdout.splitlines() if line.strip()]
    assert {e["event"] for e in events} >= {"run_started", "log", "node_failed", "run_finished"}
    expected = hashlib.sha256(PLANTED.encode()).hexdigest()
    assert json.loads(show.stdout)["state"]["digest"] == expected  # the resumed tool saw it

    texts: dict[str, str | bytes] = {
        "run stdout": first.stdout, "run stderr": first.stderr,
        "resume stdout": resumed.stdout, "resume stderr": resumed.stderr,
        "--output file": (tmp_path / "out1.json").read_text(),
        "wfe show": show.stdout, "wfe logs stderr": logs.stderr,
    }
    texts.update({f"event {e['seq']}": json.dumps(e) for e in events})
    for suffix in ("", "-wal", "-shm", "-journal"):
        db_file = store.with_name(store.name + suffix)
        if db_file.exists():
            texts[db_file.name] = db_file.read_bytes()
    assert store.name in texts
    _assert_nowhere(texts)


# --- 100,000 steps in bounded memory ---------------------------------------------------------

LOOP_TOOLS = '''
from wfe import tool


@tool
def inc(i: int) -> dict:
    return {"i": i + 1}


@tool
def check(i: int) -> None:
    return None
'''

LOOP_WORKFLOW = """
imports: [loop_tools]
state:
  i: {type: int, default: 0}
  n: {type: int, required: true}
limits: {max_steps: 200000, timeout: 3600}
nodes:
  inc: {tool: inc, next: check}
  check:
    tool: check
    next:
      - {when: i < n, then: inc}
      - then: end
"""


def test_a_run_of_100000_steps_with_the_store_stays_in_bounded_memory(tmp_path: Path):
    (tmp_path / "loop_tools.py").write_text(LOOP_TOOLS)
    (tmp_path / "loop.yaml").write_text(LOOP_WORKFLOW)
    store = tmp_path / "wfe.db"
    done, peak = wfe_measured("run", "loop.yaml", "-i", "n=50000", "--quiet", "--store",
                              str(store), "--output", "out.json", cwd=tmp_path, timeout=300,
                              preexec_fn=_limit_address_space)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "out.json").read_text())["i"] == 50000
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM steps").fetchone()[0] == 100000
    assert peak < 300 * MIB, f"peak RSS {peak / MIB:.0f} MiB"


# --- the bad_yaml corpus through the command line -------------------------------------------

def _oversized_workflow() -> bytes:
    """Case 19: a valid chain of nodes, over the 1 MiB cap."""
    lines = ["wfe: 1", "name: oversized", "imports: [tools]", "limits: {max_steps: 20000}",
             "nodes:"]
    n = size = 0
    while size <= 1_200_000:
        node = [f"  n{n}:", "    tool: noop", f"    next: n{n + 1}",
                f"    description: {'padding ' * 8}"]
        lines += node
        size += sum(len(line) + 1 for line in node)
        n += 1
    lines += [f"  n{n}:", "    tool: noop", "    next: end"]
    return ("\n".join(lines) + "\n").encode()


CASES = sorted([p.name for p in BAD_YAML.glob("*.yaml")] + ["19_oversized_file.yaml"])
KNOWN_GAPS: dict[str, str] = {}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(BAD_YAML, work)
    (work / "19_oversized_file.yaml").write_bytes(_oversized_workflow())
    return work


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
@pytest.mark.parametrize(
    "name",
    [pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_GAPS[c], strict=True))
     if c in KNOWN_GAPS else c for c in CASES],
)
def test_a_hostile_workflow_file_is_refused_with_a_position_and_nothing_runs(
    corpus: Path, name: str, dry_run: bool,
):
    store = corpus / "store" / "wfe.db"
    args = ["run", name, "--store", str(store)] + (["--dry-run"] if dry_run else [])
    done = wfe(*args, cwd=corpus, timeout=30)
    assert "Traceback" not in done.stderr
    assert done.returncode >= 0, "killed by a signal"
    assert not list(corpus.glob("wfe_pwned*"))
    if name.startswith("11_"):  # valid under YAML 1.2 core scalars
        if dry_run:
            assert done.returncode == 0, done.stderr
        return
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{name}:") or f"{name}:" in done.stderr
    first = next(line for line in done.stderr.splitlines() if f"{name}:" in line)
    line_no = first.split(f"{name}:", 1)[1].split(":", 1)[0]
    assert line_no.isdigit(), first
    assert runs_in_store(store) == 0


# --- random graphs --------------------------------------------------------------------------

COUNT_TOOLS = {"tool": None}


def _count_tool():
    if COUNT_TOOLS["tool"] is None:
        from wfe.tools.registry import tool

        @tool
        def count(i: int) -> dict:
            return {"i": i + 1}

        COUNT_TOOLS["tool"] = count
    return COUNT_TOOLS["tool"]


@st.composite
def workflow_texts(draw: st.DrawFn) -> str:
    size = draw(st.integers(1, 6))
    names = [f"n{k}" for k in range(size)]
    target = st.sampled_from([*names, "end"])
    nodes = []
    for index, name in enumerate(names):
        node = [f"  {name}:", "    tool: count"]
        branches = draw(st.lists(st.tuples(
            st.sampled_from(["i < {k}", "i % 2 == 0", "i >= {k}"]), st.integers(0, 8), target,
        ), max_size=3))
        default = draw(target)
        if branches:
            node.append("    next:")
            node += [f"      - {{when: '{cond.format(k=k)}', then: {then}}}"
                     for cond, k, then in branches]
            node.append(f"      - then: {default}")
        else:
            node.append(f"    next: {default}")
        if draw(st.booleans()):
            node.append(f"    max_visits: {draw(st.integers(1, 4))}")
            if draw(st.booleans()):  # only forward: a cycle of on_exhausted hangs (see below)
                later = st.sampled_from([*names[index + 1:], "end"])
                node.append(f"    on_exhausted: {draw(later)}")
        nodes += node
    return textwrap.dedent("""\
        state:
          i: {type: int, default: 0}
        limits: {max_steps: 50}
        nodes:
        """) + "\n".join(nodes) + "\n"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow_texts())
def test_a_random_graph_is_refused_or_runs_to_an_end_keeping_the_engine_invariants(text: str):
    from wfe.engine.loop import Engine
    from wfe.executors import LocalExecutor
    from wfe.graph.compiler import compile_graph
    from wfe.graph.load import load_spec_bytes
    from wfe.tools.registry import Registry

    registry = Registry()
    registry.register(_count_tool())
    try:
        graph = compile_graph(load_spec_bytes(text.encode(), "random.yaml"), registry)
    except SpecError:
        return
    events: list[dict] = []
    engine = Engine(graph, executor=LocalExecutor(), run_id="r", listeners=[events.append])
    result = asyncio.run(engine.run(graph.schema.initial({})))

    assert result.status in ("succeeded", "failed"), text
    assert result.steps <= 50
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    open_nodes: dict[str, int] = {}
    for event in events:
        if event["event"] == "node_started":
            assert event["node"] not in open_nodes
            open_nodes[event["node"]] = event["seq"]
        elif event["event"] in ("node_finished", "node_failed"):
            assert open_nodes.pop(event["node"], None) is not None, event
    assert not open_nodes, f"started but never finished: {open_nodes}"
    for key, value in result.state.items():
        graph.schema.slots[key].check(value)


def test_a_cycle_of_exhausted_nodes_is_stopped_by_the_step_limit(tmp_path: Path):
    (tmp_path / "loop_tools.py").write_text(LOOP_TOOLS)
    (tmp_path / "wf.yaml").write_text(textwrap.dedent("""\
        imports: [loop_tools]
        state:
          i: {type: int, default: 0}
        limits: {max_steps: 50, timeout: 2}
        nodes:
          a: {tool: inc, max_visits: 1, on_exhausted: b, next: b}
          b: {tool: inc, max_visits: 1, on_exhausted: a, next: a}
        """))
    try:
        done = wfe("run", "wf.yaml", "--quiet", "--no-store", cwd=tmp_path, timeout=8)
    except subprocess.TimeoutExpired:
        pytest.fail("the run never ended")
    assert done.returncode in (1, 2)

"""How wfe's modules import each other: the engine, the compiler and the node kinds in no cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wfe"

#: Modules that must be in no import cycle, counting imports inside functions and under
#: TYPE_CHECKING.
CORE = ("wfe.engine.loop", "wfe.graph.compiler", "wfe.engine.fanout", "wfe.nodes.parallel",
        "wfe.nodes.map",
        "wfe.engine.subgraph",
        "wfe.graph.subgraph_compile", "wfe.engine.subgraph_pause", "wfe.engine.interrupts",
        "wfe.engine.cache",
        "wfe.engine.cached_call", "wfe.engine.run_context", "wfe.graph.compile_context",
        "wfe.nodes")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(modules: dict[str, Path], *, typing_only: bool = True) -> dict[str, set[str]]:
    """Each module's imports of other wfe modules, wherever in the file they are (without
    those under `if TYPE_CHECKING:` when not `typing_only`)."""
    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text())
        if not typing_only:
            _drop_type_checking_blocks(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}"
                               in modules else node.module for alias in node.names)
        graph[name] = {t for t in map(known, targets) if t is not None and t != name}
    return graph


def _drop_type_checking_blocks(tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            node.body = [ast.Pass()]


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), list(graph.get(start, ()))
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return False


@pytest.mark.parametrize("module", CORE)
def test_the_engine_core_is_in_no_import_cycle(module: str) -> None:
    modules = _modules()
    graph = _imports(modules)
    family = [name for name in modules if name == module or name.startswith(module + ".")]
    assert family
    for name in family:
        cycle = [other for other in graph[name] if _reaches(graph, other, name)]
        assert not cycle, f"{name} imports {cycle}, which import it back"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(name: str) -> None:
        order[name] = low[name] = len(order)
        stack.append(name)
        for other in graph.get(name, ()):
            if other not in order:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], order[other])
        if low[name] == order[name]:
            group = []
            while not group or group[-1] != name:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(graph):
        if name not in order:
            visit(name)
    return groups


def test_wfe_has_no_import_cycle():
    """Counting imports inside functions and under TYPE_CHECKING: a lazy import hides a cycle
    from Python, not from the reader."""
    graph = _imports(_modules())
    assert _cycles(graph) == []


@pytest.mark.parametrize(("graph", "cycles"), [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_cycle_scan_finds_every_cycle_and_only_cycles(graph, cycles):
    assert _cycles(graph) == cycles


#: (a lower layer, a higher one it must not import at run time, counting imports inside
#: functions): what pyproject.toml's import-linter contract states, each pair once a debt.
LAYER_RULES = [
    ("wfe.graph", "wfe.store"),
    ("wfe.spec", "wfe.store"),
    ("wfe.engine", "wfe.executors"),
    ("wfe.graph", "wfe.engine"),
    ("wfe.nodes", "wfe.engine"),
]


def _family(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize(("lower", "higher"), LAYER_RULES)
def test_a_lower_layer_never_imports_a_higher_one(lower, higher):
    modules = _modules()
    graph = _imports(modules, typing_only=False)
    for name in (m for m in modules if _family(m, lower)):
        reached, todo = set(), list(graph[name])
        while todo:
            other = todo.pop()
            if other not in reached:
                reached.add(other)
                todo.extend(graph.get(other, ()))
        found = sorted(m for m in reached if _family(m, higher))
        assert not found, f"{name} imports {found}, directly or through others"


def test_the_layers_contract_ignores_no_import():
    """The layers hold as declared: no import is listed as an exception (a known debt)."""
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    assert [c["name"] for c in contracts if c.get("ignore_imports")] == []


COMPILE_ONLY = """
import sys
from wfe.graph.compiler import compile_graph
from wfe.graph.load import load_spec_bytes
from wfe.tools.registry import Registry

text = b'''
state:
  ok: {type: bool, default: false}
nodes:
  nap: {wait: 1s, next: ask}
  ask: {interrupt: {message: go?, expects: {ok: bool}}, next: stop}
  stop: {fail: no}
'''
compile_graph(load_spec_bytes(text, "w.yaml"), Registry())
print(sorted(m for m in sys.modules if m.startswith(("wfe.engine", "wfe.executors", "asyncio"))))
"""


def test_compiling_a_workflow_loads_no_engine():
    """The kinds' run steps reach the engine through RunContext only, so `wfe validate` and
    everything else that only compiles never load the engine (nor asyncio, for wfe's part)."""
    done = subprocess.run([sys.executable, "-c", COMPILE_ONLY], capture_output=True, text=True,
                          cwd=PACKAGE.parent, check=True)
    assert done.stdout.strip() == "[]"

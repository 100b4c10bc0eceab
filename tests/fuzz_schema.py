"""Random workflows generated from the format's schema, for fuzzing the loader (see
tests/fuzz_workflows.py). Most follow the schema closely enough to reach the compiler; a `chaos`
level decides how often a key, value or type is a wrong one instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import yaml

from wfe.nodes import KINDS

Rng = random.Random

#: Tool names: the corpus tools (`noop`, `inc`), some of the bundled ones, and wrong ones.
TOOL_NAMES = ["noop", "inc", "read_source", "summarize", "gather_reviews", "evaluate_quality",
              "measure_file", "combine_review", "no_such_tool", "os.system"]
GOOD_EXPRESSIONS = ["i < 3", "i >= n and flag", "len(items) > 0", "visits.a >= 2",
                    "step < 10", "inputs.x == 1", "name in ['a', 'b']", "not flag or i % 2 == 1",
                    "x if flag else i", "items[0] == 1", "max(i, n) > 2 ** 10", "1/0 == 1"]
INTERESTING_VALUES: list[Any] = [
    0, -1, 1, 2**63, -(2**63), 10**18, 10**19, 1.5, 1e308, -0.0, True, False, None, "", " ",
    "10s", "500ms", "2m", "1h", "-1s", "7d", "1e309", "nan", "inf", "end", "start", "__init__",
    "${ i }", "pass ${ step }", "$${HOME}", "${", "}", "${ ${ i } }", "\u202e", "\x00", "\t",
    "x" * 70, "x" * 300, "\uff58", "..", "../../etc/passwd", "a\nb", [], {}, [[[]]],
    {"a": {"b": {"c": None}}},
    # Amplification: pieces over the text cap, too many parts, nested str(sorted()).
    "${ 'x' * 9000 }" * 3, "a ${ i }" * 150, "${ str(sorted(str(sorted('ab' * 5000)))) }",
]
SUBGRAPH_FILES = ["code_review.yaml", "missing.yaml", "fuzz.yaml", ".", "../x.yaml",
                  "a\x00b.yaml", "/dev/null", "x" * 300]
BAD_IMPORTS: list[Any] = [[], ["no_such_module"], "tools", [""], [".."], ["a\x00b"], ["x" * 300],
                          ["tools", "tools"], ["os.path"]]


def random_value(rng: Rng, depth: int = 0) -> Any:
    """Any value a YAML document can hold, biased towards edge cases."""
    roll = rng.random()
    if roll < 0.5 or depth > 3:
        return rng.choice(INTERESTING_VALUES)
    if roll < 0.7:
        return rng.randint(-(10**6), 10**6)
    if roll < 0.85:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["a", "type", "tool", "when", "then", "1"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


class SchemaGenerator:
    """Workflows as data, following the schema except where `chaos` (0..1) says otherwise.

    With little chaos most documents pass the schema and reach the compiler (tools, bindings,
    expressions, subgraphs, reachability); with much they probe the schema's error reporting.
    """

    def __init__(self, rng: Rng, expressions: list[str], chaos: float) -> None:
        self.rng = rng
        self.hostile_expressions = expressions
        self.chaos = chaos
        self.names: list[str] = []
        self.keys: list[str] = []
        self.shared: dict[str, Any] = {}

    def pick(self, good: list[Any], bad: list[Any] | None = None) -> Any:
        """A value from `good`, or now and then (as chaos says) a wrong one."""
        if self.rng.random() < self.chaos:
            return self.rng.choice(bad) if bad and self.rng.random() < 0.7 else random_value(
                self.rng)
        return self.rng.choice(good)

    def pick_key(self, good: list[str], bad: list[Any]) -> Any:
        """A mapping key: `pick`, with an unhashable wrong value written out as text."""
        key = self.pick(good, bad)
        return key if isinstance(key, str | int | float | bool | None) else repr(key)

    def some(self, probability: float) -> bool:
        return self.rng.random() < probability

    def document(self) -> dict[str, Any]:
        rng = self.rng
        good_names = ["a", "b", "read", "loop", "n1", "check", "done"]
        self.names = rng.sample(good_names, rng.randint(1, 5))
        self.names += [self.pick_key(good_names, ["end", "1bad", "x" * 65])
                       for _ in range(self.some(self.chaos))]
        self.keys = rng.sample(["i", "n", "flag", "items", "name", "x", "error", "out"],
                               rng.randint(0, 8))
        document: dict[str, Any] = {
            "wfe": self.pick([1], [2, "1"]),
            "name": self.pick(["fuzz"], [3, ""]),
            "imports": self.pick([["tools"], ["tools", "code_review_tools"]], BAD_IMPORTS),
            "state": {key: self.state_entry() for key in self.keys},
            "start": self.pick(self.names, ["nowhere", "end"]),
            "limits": {"max_steps": self.pick([1, 50, 1000], [0, -1]),
                       "timeout": self.pick([600, "1m"], ["0s", "8d"])},
            "defaults": {"retry": self.retry(), "timeout": self.pick(["10s"], [0])},
            "nodes": {name: self.node() for name in self.names},
        }
        for key in ["wfe", "name", "state", "start", "limits", "defaults"]:
            if self.some(0.4):
                del document[key]
        if self.some(self.chaos):
            document[rng.choice(["node", "stat", "limit", "version"])] = random_value(rng)
        return document

    def state_entry(self) -> Any:
        type_text = self.pick(["str", "int", "float", "bool", "any", "list[str]", "list[dict]",
                               "dict[str, int]", "int | None", "list"],
                              ["list[", "tuple", "str | list[int]", "List[int]"])
        if self.some(0.5):
            return type_text
        entry: dict[str, Any] = {"type": type_text}
        optional: dict[str, Callable[[], Any]] = {
            "default": lambda: self.pick([0, 1, "a", [], {}, True, None], [[1, "a"], 1.5]),
            "reduce": lambda: self.pick(["replace", "append", "extend", "merge", "add"],
                                        ["inc", "bogus"]),
            "required": lambda: self.pick([True, False], ["yes"]),
            "secret": lambda: self.pick([True, False]),
            "env": lambda: "WFE_FUZZ",
            "description": lambda: "a key",
        }
        for field, make in optional.items():
            if self.some(0.3):
                entry[field] = make()
        return entry

    def retry(self) -> dict[str, Any]:
        fields: dict[str, Callable[[], Any]] = {
            "attempts": lambda: self.pick([1, 3], [0, 1001, "2"]),
            "delay": lambda: self.pick([0, 0.5, "1s"], ["-1", 1e308]),
            "backoff": lambda: self.pick([1, 2], [0.5, 101]),
            "max_delay": lambda: self.pick([30, "2m"], [0]),
            "jitter": lambda: self.pick([True, False], ["on"]),
            "on": lambda: self.pick([["OSError"], ["TimeoutError", "ValueError"]], [[], "x"]),
        }
        retry = {key: make() for key, make in fields.items() if self.some(0.4)}
        # The same object twice is written as an anchor and an alias.
        return self.shared.setdefault("retry", retry) if self.some(0.3) else retry

    def expression(self) -> str:
        good = [*GOOD_EXPRESSIONS, *(f"{key} == 1" for key in self.keys)]
        text = self.pick(good, self.hostile_expressions)
        return f"${{ {text} }}" if self.some(0.2) else text

    def target(self) -> str:
        return str(self.pick([n for n in self.names if isinstance(n, str)] + ["end"],
                             ["nowhere", "End"]))

    def next(self) -> Any:
        if self.some(0.4):
            return self.target()
        branches: list[dict[str, Any]] = []
        for _ in range(self.rng.randint(0, 3)):
            branch = {"when": self.expression(), "then": self.target()}
            if self.some(0.3):
                del branch["when"]
            branches.append(branch)
        return branches

    def kind(self) -> dict[str, Any]:
        kind = self.rng.choice(["tool", "tool", "tool", "parallel", "map", "workflow",
                                "interrupt"])
        tool = self.pick(["noop", "noop", "inc"], TOOL_NAMES)
        if kind == "tool":
            return {"tool": tool}
        if kind == "parallel":
            branches = {f"b{k}": {"tool": self.pick(["noop"], TOOL_NAMES),
                                  "out": self.pick(self.keys or ["out"], ["undeclared"])}
                        for k in range(self.rng.randint(0, 3))}
            return {"parallel": branches,
                    "join": self.pick(["all", "any", {"at_least": 1}], [{"at_least": 9}])}
        if kind == "map":
            return {"map": self.pick(["items", "[1, 2]"], ["1/0", "items.x"]),
                    "as": self.pick(["item", "file"], ["i", "step"]), "tool": tool,
                    "concurrency": self.pick([1, 4], [0]), "collect": self.pick(["items"], ["x"]),
                    "tolerate": self.pick([0, 2, "10%"], [-1, "150%", "lots", True])}
        if kind == "workflow":
            return {"workflow": self.pick(["review_file.yaml"], SUBGRAPH_FILES),
                    "inputs": {"file": self.pick(["items", "{'path': 'a', 'source': ''}"],
                                                 ["1/0", "nope"])},
                    "outputs": {self.pick_key(self.keys or ["out"], ["zz"]): "review"}}
        key = self.pick_key(self.keys or ["flag"], ["undeclared"])
        expects = {key: self.pick(["bool"], ["x["])}
        return {"interrupt": {"message": "continue?", "expects": expects}}

    def node(self) -> dict[str, Any]:
        node = self.kind()
        optional: dict[str, Callable[[], Any]] = {
            "next": self.next,
            "with": lambda: {self.pick_key(["label", "i", "path"], ["__x", "n"]): self.pick(
                [self.expression(), "pass ${ step }", 3, "$${HOME}"], INTERESTING_VALUES)
                for _ in range(self.rng.randint(0, 3))},
            "out": lambda: self.pick(self.keys or ["out"], ["undeclared"]),
            "retry": self.retry,
            "timeout": lambda: self.pick(["10s", 5, "500ms"], [0, -5, "8d", 1e-9]),
            "on_error": lambda: self.pick([self.target(), [{"errors": ["TimeoutError"],
                                                            "then": self.target()}]]),
            "max_visits": lambda: self.pick([1, 5], [0]),
            "on_exhausted": self.target,
            "cache": lambda: self.pick([True, {"ttl": "1h"}], [{"ttl": 0}]),
            "isolation": lambda: self.pick(["thread", "process"], ["fiber"]),
            "description": lambda: self.pick(["a node"], INTERESTING_VALUES),
        }
        # Mostly the keys the node's kind takes; a key of another kind now and then (chaos).
        kind = "map" if "map" in node else next(name for name in KINDS if name in node)
        allowed, _ = KINDS[kind].keys(node)
        for key, make in optional.items():
            if self.some(0.25) and (key in allowed or self.some(self.chaos)):
                node[key] = make()
        if self.some(self.chaos * 0.3):
            node[self.rng.choice(["tools", "nxt", "retries", "when"])] = random_value(self.rng)
        return node


def schema_workflow(rng: Rng, hostile_expressions: list[str]) -> bytes:
    """A generated workflow written as YAML, in block, flow or mixed style."""
    chaos = rng.choice([0.0, 0.02, 0.1, 0.5])
    document = SchemaGenerator(rng, hostile_expressions, chaos).document()
    text = yaml.safe_dump(
        document, sort_keys=False, allow_unicode=rng.random() < 0.5,
        default_flow_style=rng.choice([False, None, True]), width=rng.choice([40, 80, 10**6]),
    )
    return text.encode("utf-8")

"""Expression tests: the hostile corpus, legitimate conditions, names, errors and templates.

The 88 hostile cases (tests/data/expr/bad_expressions.txt plus two control-character cases) run in
one subprocess under a 1 GiB address-space limit, so a broken guard fails the suite instead of
exhausting the machine; each case then gets its own parametrized assertion on the outcome.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import subprocess
import sys
import threading
import tokenize
import types
from pathlib import Path
from typing import Any

import pytest

from wfe.errors import ExpressionError
from wfe.expr import _ops as _expr_ops
from wfe.expr.expression import (
    FUNCTION_NAMES,
    RESERVED_NAMES,
    ExpressionRejected,
    compile_expression,
)
from wfe.expr.template import Template, compile_template, has_template

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "data" / "expr" / "bad_expressions.txt"

# The names the corpus assumes (its first line), plus a nested mapping for `inputs.cfg`.
CORPUS_STATE: dict[str, Any] = {
    "i": 0,
    "x": 5,
    "name": "bob",
    "items": [1, 2, 3],
    "visits": {"improve": 2},
    "step": 3,
    "inputs": {"path": "src", "cfg": {"a": 1}},
}


def _corpus() -> list[tuple[str, str]]:
    cases = []
    for line in CORPUS.read_text(encoding="utf-8").split("\n"):
        if line and not line.startswith("#"):
            expression, policy = line.split("\t")
            cases.append((expression, policy))
    # These cannot sit on one line of the file.
    return [*cases, ("x\0", "REJECT"), ("x\n== 5", "REJECT")]


CASES = _corpus()

_RUNNER = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from wfe.errors import ExpressionError
from wfe.expr.expression import ExpressionRejected, compile_expression

payload = json.load(sys.stdin)
state = payload["state"]
before = json.dumps(state, sort_keys=True)
outcomes = []
for text in payload["cases"]:
    try:
        value = compile_expression(text).evaluate_condition(state)
        outcome = {"kind": "bool", "detail": repr(value)}
    except ExpressionRejected as exc:
        outcome = {"kind": "rejected", "detail": exc.message}
    except ExpressionError as exc:
        outcome = {"kind": "error", "detail": exc.message}
    except BaseException as exc:
        outcome = {"kind": "escaped", "detail": f"{type(exc).__name__}: {exc}"[:200]}
    outcome["unchanged"] = json.dumps(state, sort_keys=True) == before
    outcomes.append(outcome)
print(json.dumps(outcomes))
"""


@pytest.fixture(scope="module")
def corpus_outcomes() -> list[dict[str, Any]]:
    pytest.importorskip("resource")
    payload = json.dumps({"state": CORPUS_STATE, "cases": [text for text, _ in CASES]})
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    outcomes: list[dict[str, Any]] = json.loads(proc.stdout)
    return outcomes


def test_corpus_has_all_88_cases() -> None:
    assert len(CASES) == 88
    assert {policy for _, policy in CASES} == {"REJECT", "BOUNDED"}


def test_corpus_runs_to_the_end_under_a_1_gib_memory_limit(corpus_outcomes) -> None:
    assert len(corpus_outcomes) == len(CASES)
    escaped = [
        (CASES[i][0][:60], o["detail"])
        for i, o in enumerate(corpus_outcomes)
        if o["kind"] == "escaped"
    ]
    assert escaped == []


@pytest.mark.parametrize(
    ("index", "text", "policy"),
    [(i, text, policy) for i, (text, policy) in enumerate(CASES)],
    ids=[f"{i:02d}-{policy}-{text[:30]!r}" for i, (text, policy) in enumerate(CASES)],
)
def test_hostile_expression_is_contained(corpus_outcomes, index, text, policy) -> None:
    outcome = corpus_outcomes[index]
    allowed = {"rejected", "error"} if policy == "REJECT" else {"rejected", "error", "bool"}
    assert outcome["kind"] in allowed, outcome
    assert outcome["unchanged"], "the state changed"


# --- legitimate expressions (guards against over-blocking) ---------------------------------------

STATE: dict[str, Any] = {
    "i": 1,
    "n": 5,
    "x": 5,
    "flag": False,
    "quality_score": 7.5,
    "threshold": 7.0,
    "ratio": 0.25,
    "items": [1, 2, 3],
    "tags": ["x", "y"],
    "empty": [],
    "nothing": None,
    "name": "bob",
    "visits": {"improve": 5, "evaluate": 2},
    "step": 12,
    "inputs": {"path": "src", "cfg": {"depth": 2}},
    "error": {"node": "fetch", "type": "TimeoutError", "message": "timed out"},
    "reviews": [{"path": "a.py", "score": 8}, {"path": "b.py", "score": 6}],
}

LEGITIMATE = [
    ("i < n", True),
    ("visits.improve >= 5", True),
    ("quality_score >= threshold", True),
    ("len(items) >= 3", True),
    ("x in [1, 5, 9]", True),
    ("not flag or x % 2 == 1", True),
    ("inputs.path == 'src'", True),
    ("items[0] == 1", True),
    ("max(items) > 2", True),
    ("sorted(items)[-1]", 3),
    ("2 ** 10 == 1024", True),
    ("error.type == 'TimeoutError'", True),
    ("visits.evaluate < 3 and step <= 100", True),
    ("inputs.cfg.depth == 2", True),
    ("inputs['path'] + '/main.py'", "src/main.py"),
    ("reviews[1].score < 7", True),
    ("'y' in tags and 'z' not in tags", True),
    ("'o' in name", True),
    ("name not in ['alice', 'carol']", True),
    ("nothing is None and flag is not None", True),
    ("len(empty) == 0 and not empty", True),
    ("x if flag else -x", -5),
    ("x > 3 and 'big' or 'small'", "big"),
    ("1 < x < 10", True),
    ("min(items) + max(items)", 4),
    ("max(1, x, 3)", 5),
    ("sum(items) / len(items)", 2.0),
    ("abs(-3) == 3", True),
    ("round(quality_score) == 8", True),
    ("round(ratio, 1)", 0.2),
    ("int('42') + 1", 43),
    ("float('2.5') * 2", 5.0),
    ("str(x) + '!'", "5!"),
    ("bool(items) and any([flag, x > 4]) and all([x > 0, i > 0])", True),
    ("items[1:]", [2, 3]),
    ("items[::-1]", [3, 2, 1]),
    ("name[0]", "b"),
    ("x // 2 + x % 3", 4),
    ("7 / 2", 3.5),
    ("-x + +x", 0),
    ("2 ** -1", 0.5),
    ("10 ** 64 > 0", True),
    ("[1, 2] + [3]", [1, 2, 3]),
    ("(1, 2)", (1, 2)),
    ("{'a': x}['a']", 5),
    ("'ab' * 3", "ababab"),
    ("[0] * 3", [0, 0, 0]),
    ("sorted(tags)", ["x", "y"]),
    ("step % 2 == 0", True),
    ("quality_score - threshold > 0.4", True),
    ("None", None),
    ("sorted(items)[-1] == 3", True),
    ("items[1:] == [2, 3] and name[0] == 'b'", True),
    ("len(name) == 3", True),
    ("'timed' in error.message", True),
    ("str(step) == '12'", True),
    ("x > 0 or unset_name > 1", True),  # `or` and `and` short-circuit, as in Python
    ("flag and unset_name", False),
    ("reviews[0].score >= 8 and reviews[0].path == 'a.py'", True),
]


@pytest.mark.parametrize(("text", "expected"), LEGITIMATE, ids=[t for t, _ in LEGITIMATE])
def test_legitimate_expression_evaluates(text, expected) -> None:
    before = copy.deepcopy(STATE)
    # A read-only mapping: any attempted write would raise.
    value = compile_expression(text).evaluate(types.MappingProxyType(STATE))
    assert value == expected
    assert type(value) is type(expected)
    assert before == STATE


def test_legitimate_corpus_has_at_least_30_conditions() -> None:
    assert sum(1 for _, expected in LEGITIMATE if isinstance(expected, bool)) >= 30


def test_evaluate_condition_returns_the_bool() -> None:
    assert compile_expression("i < n").evaluate_condition({"i": 1, "n": 5}) is True
    assert compile_expression("i > n").evaluate_condition({"i": 1, "n": 5}) is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", "condition must be true or false, got int 5"),
        ("name", "condition must be true or false, got str 'bob'"),
        ("nothing", "condition must be true or false, got None"),
        ("items", "condition must be true or false, got list [1, 2, 3]"),
    ],
)
def test_condition_must_be_a_bool(text, message) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text).evaluate_condition(STATE)
    assert info.value.message == message


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("quality_score >= threshold", {"quality_score", "threshold"}),
        ("visits.improve >= 5", {"visits"}),
        ("len(items) >= 3 and step < 10", {"items", "step"}),
        ("inputs.cfg.depth", {"inputs"}),
        ("a if b else c", {"a", "b", "c"}),
        ("flag or error.type == 'X'", {"flag", "error"}),
        ("1 < 2", set()),
    ],
)
def test_names_are_the_free_top_level_names(text, names) -> None:
    assert compile_expression(text).names == frozenset(names)


def test_reserved_and_function_names() -> None:
    assert {"visits", "step", "inputs"} == RESERVED_NAMES
    names = {"len", "min", "max", "abs", "round", "int", "float", "str", "bool", "any", "all"}
    assert names | {"sum", "sorted"} == FUNCTION_NAMES


def test_no_random_or_time_function_exists() -> None:
    for name in ("rand", "randint", "random", "time", "now", "today", "uuid"):
        assert name not in FUNCTION_NAMES
        assert name not in _expr_ops.FUNCTIONS
        with pytest.raises(ExpressionRejected) as info:
            compile_expression(f"{name}() > 0")
        assert info.value.code == "WFE041"
    assert set(_expr_ops.PER_THREAD.evaluator.functions) == FUNCTION_NAMES


# --- compile-time rejection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "offset", "message"),
    [
        (
            "x.__class__",
            "WFE040",
            2,
            "attribute access is only allowed as a key lookup ('.__class__' starts with '_')",
        ),
        ("  x.__y", "WFE040", 4, "('.__y' starts with '_')"),
        ("'é' + _x", "WFE040", 6, "names starting with '_' are not allowed ('_x')"),
        # The parser would NFKC-normalise these to the plain ASCII names.
        ("'é' + \U0001d431", "WFE040", 6, "character '\U0001d431' (U+1D431) outside a string"),
        ("\uff58 > 1", "WFE040", 0, "non-ASCII character '\uff58' (U+FF58)"),
        ("x.\uff3f\uff3fclass\uff3f\uff3f", "WFE040", 2, "non-ASCII character '\uff3f'"),
        ("type(x)", "WFE041", 0, "unknown function 'type'"),
        ("rand() > 0.5", "WFE041", 0, "unknown function 'rand' (did you mean 'round'?)"),
        ("x and lenn(items)", "WFE041", 6, "unknown function 'lenn' (did you mean 'len'?)"),
        ("items.append(4)", "WFE040", 6, "method calls are not allowed ('.append(...)')"),
        ("x if True else __import__('os').system('id')", "WFE040", 32, "method calls"),
        ("x if True else __import__('os')", "WFE040", 15, "names starting with '_'"),
        ("False and open('/etc/passwd')", "WFE041", 10, "unknown function 'open'"),
        ("x ==", "WFE040", 4, "expression syntax error"),
        ("x == 5; y", "WFE040", 6, "expression syntax error"),
        ("x = 0", "WFE040", 2, "expression syntax error"),
        ("import os", "WFE040", 0, "expression syntax error"),
        ("", "WFE040", 0, "expression is empty"),
        ("   ", "WFE040", 0, "expression is empty"),
        ("x" * 1001, "WFE040", 1000, "expression is longer than 1000 characters"),
        ("x\0", "WFE040", 1, "control character U+0000 in expression"),
        ("x\n== 5", "WFE040", 1, "control character U+000A in expression"),
        ("x\t== 5", "WFE040", 1, "control character U+0009 in expression"),
        ("x == '\x85'", "WFE040", 6, "control character U+0085 in expression"),
        ("4000000**4000000", "WFE040", 9, "exponent 4000000 is above the '**' limit of 64"),
        ("2 ** -100", "WFE040", 5, "exponent -100 is above"),
        ("10 ** 100", "WFE040", 6, "exponent 100 is above"),
        ("1000 ** 64", "WFE040", 8, "integer result over 256 bits"),
        ("'%0999999999d' % 1", "WFE040", 0, "'%' formatting of strings is not allowed"),
        ("1 << 3", "WFE040", 0, "operator '<<' is not allowed"),
        ("x & 1", "WFE040", 0, "operator '&' is not allowed"),
        ("x | 1", "WFE040", 0, "operator '|' is not allowed"),
        ("~x", "WFE040", 0, "operator '~' is not allowed"),
        ("{1, 2}", "WFE040", 0, "set literals are not allowed"),
        ("[*items]", "WFE040", 1, "unpacking with '*' is not allowed"),
        ("{**inputs}", "WFE040", 0, "unpacking with '**' is not allowed"),
        ("len(*items)", "WFE040", 4, "unpacking with '*' is not allowed"),
        ("max(items, key=len)", "WFE040", 15, "keyword arguments are not allowed"),
        ("sorted(items, reverse=True)", "WFE040", 22, "keyword arguments are not allowed"),
        ("f'{x}'", "WFE040", 0, "f-strings are not allowed"),
        ("lambda: 1", "WFE040", 0, "lambda is not allowed"),
        ("(y := 1)", "WFE040", 1, "assignment expressions (:=) are not allowed"),
        ("[i for i in items]", "WFE040", 0, "comprehensions are not allowed"),
        ("any(i for i in items)", "WFE040", 3, "comprehensions are not allowed"),
        ("await x", "WFE040", 0, "await is not allowed"),
        ("b'x' == x", "WFE040", 0, "bytes literals are not allowed"),
        ("1j == x", "WFE040", 0, "complex literals are not allowed"),
        ("x[...]", "WFE040", 2, "ellipsis literals are not allowed"),
        ("9" * 100 + " > x", "WFE040", 0, "integer literal over 256 bits"),
        ("[" + "1, " * 101 + "]", "WFE040", 0, "literal with more than 100 items"),
        ("==".join(["x"] * 201), "WFE040", 597, "expression has more than 200 parts"),
        ("+".join(["x"] * 40), "WFE040", 0, "expression is nested more than 32 levels deep"),
        ("-" * 40 + "x", "WFE040", 32, "expression is nested more than 32 levels deep"),
        ("1 / 0", "WFE040", 0, "expression always fails: division by zero"),
        ("max([])", "WFE040", 0, "expression always fails: max() arg is an empty sequence"),
        ("int(float('inf'))", "WFE040", 0, "expression always fails"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
def test_rejected_at_compile_time(text, code, offset, message) -> None:
    with pytest.raises(ExpressionRejected) as info:
        compile_expression(text)
    assert message in info.value.message
    assert (info.value.code, info.value.offset) == (code, offset)
    assert str(info.value) == info.value.message
    assert "\n" not in info.value.message


def test_an_invalid_escape_in_a_string_is_not_a_syntax_error_under_w_error() -> None:
    # '\d' warns at parse time; the outcome must not depend on the warning filters.
    assert compile_expression(r"name == '\d'").evaluate({"name": "\\d"}) is True


def test_evaluation_neither_reparses_nor_retokenizes(monkeypatch) -> None:
    expression = compile_expression("len(items) >= 3 and visits.improve < 9")

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(ast, "parse", forbidden)
    monkeypatch.setattr(tokenize, "generate_tokens", forbidden)
    assert expression.evaluate_condition(STATE) is True


# --- run-time failures ------------------------------------------------------------------------


def _deep(levels: int) -> list[Any]:
    data: list[Any] = []
    for _ in range(levels):
        data = [data]
    return data


DEEP, OTHER_DEEP = _deep(5000), _deep(5000)


@pytest.mark.parametrize(
    ("text", "names", "message"),
    [
        ("missing > 1", {}, "name 'missing' is not set"),
        ("visits.improve", {"visits": {}}, "visits has no key 'improve'"),
        ("x.y", {"x": 5}, "'.y' is a key lookup and needs a mapping, got int 5"),
        ("inputs['missing']", {"inputs": {}}, "key 'missing' is not set"),
        ("items[10]", {"items": [1]}, "list index out of range"),
        ("x > 'a'", {"x": 5}, "'>' not supported"),
        ("name - 1", {"name": "bob"}, "'-' needs numbers, got str and int"),
        ("name % x", {"name": "%s", "x": 1}, "'%' needs numbers, got str and int"),
        ("x / y", {"x": 1, "y": 0}, "division by zero"),
        ("name * n", {"name": "ab", "n": 5001}, "'*' result over 10000 characters or items"),
        ("items * n", {"items": [1, 2], "n": 5001}, "'*' result over 10000"),
        ("[name] * n", {"name": "a" * 100, "n": 100}, "'*' result over 10000"),
        ("[items] * 2", {"items": [1]}, "'*' repeats only lists of numbers"),
        ("name + name", {"name": "a" * 5001}, "'+' result over 10000"),
        ("big * big", {"big": 2**200}, "integer result over 256 bits"),
        ("big + big", {"big": 2**256 - 1}, "integer result over 256 bits"),
        ("big ** 2", {"big": 2**200}, "integer result over 256 bits"),
        ("2 ** e", {"e": 65}, "exponent 65 is above the '**' limit of 64"),
        ("n ** 0.5", {"n": -8}, "complex number"),
        ("sum(lists, [])", {"lists": [[1], [2]]}, "sum() needs numbers, got list []"),
        ("round(x, d)", {"x": 5, "d": -1000}, "round() digits must be an int within ±100"),
        ("int(s)", {"s": "1" * 101}, "int() of a string longer than 100 characters"),
        ("int(f)", {"f": 1e300}, "integer result over 256 bits"),
        ("items[::0]", {"items": [1]}, "slice step cannot be zero"),
        ("deep == other", {"deep": DEEP, "other": OTHER_DEEP}, "nested too deeply"),
        ("str(deep)", {"deep": DEEP}, "str() result over 10000 characters"),
        ("len(x)", {"x": 5}, "has no len()"),
        ("float(s)", {"s": "abc"}, "could not convert string to float"),
    ],
)
def test_every_runtime_failure_is_an_expression_error(text, names, message) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text).evaluate_condition(names)
    assert message in info.value.message
    assert info.value.node is None


def test_evaluation_is_safe_from_many_threads() -> None:
    expression = compile_expression("i * 2 == twice and visits.a == i")
    failures: list[str] = []

    def work(offset: int) -> None:
        for i in range(offset, offset + 2000):
            names = {"i": i, "twice": i * 2, "visits": {"a": i}}
            if not expression.evaluate_condition(names):
                failures.append(f"{i}")

    threads = [threading.Thread(target=work, args=(k * 10_000,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# --- templates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${ items }", [1, 2, 3]),
        ("  ${x}  ", 5),
        ("${ inputs.cfg }", {"depth": 2}),
        ("${ nothing }", None),
        ("${ {'a': x}['a'] }", 5),
        ("${ '}' }", "}"),
        ("n=${ x }", "n=5"),
        ("${ x }${ x }", "55"),
        ("${ flag }/${ nothing }/${ quality_score }", "false//7.5"),
        ("cfg: ${ inputs.cfg } tags: ${ tags }", 'cfg: {"depth":2} tags: ["x","y"]'),
        ("${ inputs.path }/${ name }.py", "src/bob.py"),
        ("line one\nline ${ step }", "line one\nline 12"),
        ("cost: $${x} and ${ x }", "cost: ${x} and 5"),
        ("$${literal}", "${literal}"),
    ],
)
def test_template_renders(text, expected) -> None:
    template = compile_template(text)
    assert isinstance(template, Template)
    value = template.render(STATE)
    assert value == expected
    assert type(value) is type(expected)


def test_text_without_template_compiles_to_none() -> None:
    assert compile_template("plain text, $HOME and {braces}") is None
    assert not has_template("plain text, $HOME and {braces}")
    assert has_template("a ${ b }")


def test_template_exposes_its_expressions() -> None:
    template = compile_template("${ a } and ${ visits.b } and $${ c }")
    assert template is not None
    assert [e.source for e in template.expressions] == ["a", "visits.b"]
    assert set().union(*(e.names for e in template.expressions)) == {"a", "visits"}


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("a ${ x", 2, "unclosed '${' in template"),
        ("${ '}'", 0, "unclosed '${' in template"),
        ("ok ${ x } then ${ y.__z }", 20, "('.__z' starts with '_')"),
        ("path: ${ type(x) }", 9, "unknown function 'type'"),
        ("${}", 2, "expression is empty"),
        ("${ x\n}", 4, "control character U+000A in expression"),
        ("${ x }" * 101, 600, "template with more than 100 '${ }' parts"),
    ],
)
def test_template_rejects_with_offset_in_the_whole_string(text, offset, message) -> None:
    with pytest.raises(ExpressionRejected) as info:
        compile_template(text)
    assert message in info.value.message
    assert info.value.offset == offset


def test_template_render_failure_is_an_expression_error() -> None:
    template = compile_template("value: ${ missing }")
    assert template is not None
    with pytest.raises(ExpressionError, match="name 'missing' is not set"):
        template.render({})


TEN_THOUSAND = "ab" * 5000


@pytest.mark.parametrize(
    ("text", "names", "message"),
    [
        ("str(sorted(s))", {"s": TEN_THOUSAND}, "str() result over 10000 characters"),
        ("str(items)", {"items": ["ab"] * 5000}, "str() result over 10000 characters"),
        ("str(table)", {"table": {str(n): n for n in range(3000)}}, "str() result over 10000"),
        ("sorted(s + s)", {"s": TEN_THOUSAND[:6000]}, "'+' result over 10000"),
        ("sorted(s)", {"s": TEN_THOUSAND * 2}, "sorted() of more than 10000 items"),
        ("sorted(table)", {"table": dict.fromkeys(map(str, range(10001)))}, "sorted() of more"),
    ],
)
def test_a_function_refuses_to_build_a_result_over_the_size_cap(text, names, message) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text).evaluate(names)
    assert message in info.value.message


def test_a_function_result_within_the_cap_is_unchanged() -> None:
    names = {"s": "b" * 100 + "a", "items": [3, 1, 2]}
    assert compile_expression("str(sorted(s))[:10]").evaluate(names) == "['a', 'b',"
    assert compile_expression("sorted(items)").evaluate(names) == [1, 2, 3]
    assert compile_expression("str(s)").evaluate(names) is names["s"]


def test_nested_str_of_sorted_is_refused_at_load_at_once() -> None:
    text = "str(sorted(" * 8 + "'x' * 10000" + "))" * 8
    with pytest.raises(ExpressionRejected, match=r"always fails: str\(\) result over 10000"):
        compile_expression(text)


def test_a_constant_expression_over_the_load_budget_is_left_for_the_run() -> None:
    builds = ", ".join(["sorted('x' * 10000)"] * 11)  # 220,000 characters and items in all
    expression = compile_expression(f"[{builds}, 1 / 0]")  # no load-time error: not tried
    with pytest.raises(ExpressionError, match="division by zero"):
        expression.evaluate({})


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("${ s }" * 2, {"s": TEN_THOUSAND}),  # two pieces of 10,000
        ("a ${ s }", {"s": TEN_THOUSAND}),  # a piece of text and one of 10,000
        ("${ s }" * 100, {"s": "x" * 101}),  # many pieces of 101
        ("list: ${ items }", {"items": ["ab"] * 5000}),  # a container's JSON text
    ],
)
def test_a_template_refuses_to_build_text_over_the_size_cap(text, names) -> None:
    template = compile_template(text)
    assert template is not None
    with pytest.raises(ExpressionError, match="the text would be over 10000 characters"):
        template.render(names)


def test_a_lone_template_passes_a_big_value_through_unchanged() -> None:
    template = compile_template("${ s }")
    assert template is not None
    names = {"s": TEN_THOUSAND * 3}
    assert template.render(names) is names["s"]


def test_a_template_without_names_over_the_size_cap_is_refused_at_load() -> None:
    with pytest.raises(ExpressionRejected, match="template always fails: the text would be over"):
        compile_template("${ 'x' * 9000 }" * 2)


def test_a_template_with_names_is_left_for_the_run() -> None:
    template = compile_template("${ 'x' * 9000 }${ s }")
    assert template is not None
    with pytest.raises(ExpressionError, match="the text would be over 10000 characters"):
        template.render({"s": "y" * 1001})

"""The code-review workflow's tools, one rule at a time: what a bad file becomes, ruff's issues and
their fix safety, diffs, scores, SARIF, annotations, which files and lines are reviewed."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
sys.path.insert(0, str(WORKFLOWS))
if importlib.util.find_spec("wfe") is None:  # the tools import `wfe`; use the checkout's
    sys.path.append(str(ROOT))

import code_review_tools as crt  # noqa: E402
from code_review_tools import _ci, _diff, _discover, _fixes, _measure, _report, _ruff  # noqa: E402
from code_review_tools._issues import make_issue, severity_of  # noqa: E402
from code_review_tools.per_file import merge_issues, review_batch  # noqa: E402


def write(folder: Path, name: str, data: bytes | str) -> Path:
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode() if isinstance(data, str) else data)
    return target


def reviewed(folder: Path, *names: str, **inputs: object) -> dict[str, dict]:
    """The reviews of the files names under folder, by name, as the workflow's batch makes them."""
    result = asyncio.run(review_batch(str(folder), {"files": list(names)}, **inputs))
    return {review["path"]: review for review in result["reviews"]}


def codes(review: dict) -> list[str]:
    return [issue["code"] for issue in review["issues"]]


# --- one bad file is one issue -------------------------------------------------------------------

BAD_FILES = {
    "undecodable": (b'x = "caf\xe9"\n', "CR016", "cannot be decoded: not valid UTF-8"),
    "unparsable": (b"def f(:\n", "invalid-syntax", None),
    "pathological": (b"x = " + b"-" * 100_000 + b"1\n", "CR017", "nested too deeply to parse"),
    "null bytes": (b"x = 1\x00\n", None, None),
}


@pytest.mark.parametrize(("data", "code", "message"), BAD_FILES.values(), ids=BAD_FILES)
def test_a_bad_file_is_an_issue_of_that_file_and_the_others_are_reviewed(tmp_path, data, code,
                                                                         message):
    write(tmp_path, "bad.py", data)
    write(tmp_path, "good.py", "import os\n")
    reviews = reviewed(tmp_path, "bad.py", "good.py")
    bad = reviews["bad.py"]
    assert bad["issues"] and all(i["severity"] == "error" for i in bad["issues"])
    if code:
        assert code in codes(bad)
    if message:
        assert any(i["message"].startswith(message) for i in bad["issues"])
    assert crt.file_score(bad, bad["issues"], _report.DEFAULT_WEIGHTS, 10) == 0.0
    assert codes(reviews["good.py"]) == ["F401"]


def test_a_broken_link_is_an_unreadable_file_not_a_failed_run(tmp_path):
    (tmp_path / "gone.py").symlink_to(tmp_path / "nowhere.py")
    (review,) = reviewed(tmp_path, "gone.py").values()
    assert [(i["code"], i["message"]) for i in review["issues"]] == [
        ("CR015", "cannot be read: No such file or directory")]  # not ruff's E902 as well


def test_a_file_past_its_time_limit_is_reported_and_the_rest_measured(tmp_path):
    paths = [str(write(tmp_path, f"m{n}.py", "def f():\n    pass\n")) for n in range(3)]
    results = asyncio.run(_measure.measure_files(paths, {}, time_limit=0.0))
    assert [r["issues"][0]["code"] for r in results.values()] == ["CR018"] * 3
    assert "measuring took over 0 s" in results[paths[0]]["issues"][0]["message"]
    assert asyncio.run(_measure.measure_files(paths, {}))[paths[2]]["functions"][0]["name"] == "f"


def test_a_worker_that_cannot_start_fails_the_run_with_its_reason(tmp_path, monkeypatch):
    write(tmp_path, "code_review_tools/__init__.py", "raise ImportError('boom')\n")
    monkeypatch.setattr(_measure, "WORKFLOWS_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="the measuring worker did not start: ImportError: boom"):
        asyncio.run(_measure.measure_files([str(write(tmp_path, "m.py", "x = 1\n"))], {}))


def test_a_non_utf8_file_with_a_coding_line_is_measured_and_ruff_says_it_cannot_lint_it(tmp_path):
    write(tmp_path, "latin.py", b'# -*- coding: latin-1 -*-\ndef f():\n    return "caf\xe9"\n')
    (review,) = reviewed(tmp_path, "latin.py").values()
    assert [f["qualname"] for f in review["functions"]] == ["f"]
    assert [(i["code"], i["severity"]) for i in review["issues"]] == [("E902", "warning")]


# --- ruff's findings ------------------------------------------------------------------------------


def test_issues_carry_rufss_code_and_fix_applicability(tmp_path):
    write(tmp_path, "m.py", "import os\n\n\ndef f(x):\n    if x == None:\n        print(x)\n"
          "    try:\n        pass\n    except:\n        pass\n")
    (review,) = reviewed(tmp_path, "m.py").values()
    assert [(i["line"], i["col"], i["code"], i["fix"]) for i in review["issues"]] == [
        (1, 8, "F401", "safe"), (5, 13, "E711", "unsafe"), (6, 9, "T201", "unsafe"),
        (9, 5, "E722", "none"), (9, 5, "S110", "none")]  # fmt: skip


def test_noqa_comments_are_honoured(tmp_path):
    write(tmp_path, "m.py", "import os  # noqa: F401\nimport sys  # noqa\nimport json\n")
    (review,) = reviewed(tmp_path, "m.py").values()
    assert [(i["line"], i["code"]) for i in review["issues"]] == [(3, "F401")]


def test_the_projects_own_ruff_configuration_decides_the_rules(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.ruff.lint]\nselect = ["E711"]\n')
    write(tmp_path, "src/m.py", "import os\nprint(os == None)\n")
    (review,) = reviewed(tmp_path / "src", "m.py").values()
    assert codes(review) == ["E711"]  # not F401 nor T201, which the bundled rules select


def test_names_used_only_in_string_annotations_are_not_unused(tmp_path):
    write(tmp_path, "__init__.py", "from typing import Union, cast\nimport decimal\n"
          "import fractions\n\nx = cast('decimal.Decimal', 1)\ny: Union['fractions.Fraction', int]"
          " = 1\n")
    (review,) = reviewed(tmp_path, "__init__.py").values()
    assert codes(review) == []


def test_function_limits_are_wfes_own_codes(tmp_path):
    body = "".join(f"    if a{n}:\n        pass\n" for n in range(11))
    write(tmp_path, "m.py", f"def f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10):\n{body}")
    (review,) = reviewed(tmp_path, "m.py", max_params=10).values()
    assert [(i["code"], i["message"]) for i in review["issues"]] == [
        ("CR011", "`f`: complexity 12 is over 10"), ("CR013", "`f`: 11 parameters is over 10")]
    assert review["functions"] == [{"name": "f", "qualname": "f", "lineno": 1, "complexity": 12,
                                    "length": 23, "max_nesting": 1, "params": 11}]


@pytest.mark.parametrize(("code", "severity"), [
    ("invalid-syntax", "error"), ("F821", "error"), ("B006", "error"), ("E722", "error"),
    ("F401", "warning"), ("B904", "warning"), ("T201", "info"), ("FIX002", "info"),
    ("UP006", "info"), ("CR011", "warning"), ("CR016", "error"),
])  # fmt: skip
def test_severity_of_a_code(code, severity):
    assert severity_of(code) == severity


def test_one_problem_is_said_once():
    syntax = make_issue(1, 7, "invalid-syntax", "Expected a parameter")
    own = make_issue(1, 7, "CR000", "does not parse")
    assert merge_issues([syntax], [own]) == [syntax]
    unreadable = make_issue(1, 1, "CR015", "cannot be read")
    assert merge_issues([make_issue(1, 1, "E902", "No such file")], [unreadable]) == [unreadable]


def test_a_fixed_file_that_no_longer_parses_is_put_back(tmp_path):
    scratch = _fixes.Scratch(tmp_path, _ruff.BUNDLED_CONFIG,
                             {"ok.py": b"x = 1\n", "broken.py": b"y = 2\n"})
    write(tmp_path, "ok.py", "x = 2\n")
    write(tmp_path, "broken.py", "y = (\n")  # as if a fix had broken it
    fixed = _fixes.collect(scratch, {})
    assert {name: (f.before, f.after) for name, f in fixed.items()} == {"ok.py": ("x = 1\n",
                                                                             "x = 2\n")}
    assert (tmp_path / "broken.py").read_bytes() == b"y = 2\n"  # so verify sees it unfixed


# --- diffs ----------------------------------------------------------------------------------------

TEXTS = ["", "a\n", "a", "a\r\nb\r\n", "a\rb\r", "x\ny\nz", "x\ny\nz\n", "\ufeffé\n"]


@pytest.mark.parametrize("before", TEXTS)
@pytest.mark.parametrize("after", TEXTS)
def test_a_diff_put_back_on_its_text_gives_the_fixed_text(before, after):
    diff = _diff.unified_diff("m.py", before, after)
    assert _diff.apply_diff(before, diff) == after
    assert (diff == "") == (before == after)


def test_a_diff_does_not_apply_to_another_text():
    diff = _diff.unified_diff("m.py", "a\nb\nc\n", "a\nB\nc\n")
    with pytest.raises(ValueError, match="does not match"):
        _diff.apply_diff("a\nx\nc\n", diff)


# --- scores and suggestions ----------------------------------------------------------------------


def test_score_formula():
    warning = make_issue(1, 1, "F401", "unused")
    complex_ = make_issue(1, 1, "CR011", "complex", qualname="f", value=14, limit=10)
    review = {"lines": 100}
    # penalty 1 + (1 + 0.5 * 4) = 4 over 2 units: 10 / (1 + 4 / 10)
    assert crt.file_score(review, [warning, complex_], _report.DEFAULT_WEIGHTS, 10) == (
        pytest.approx(10 / 1.4))
    assert crt.file_score(review, [], _report.DEFAULT_WEIGHTS, 10) == 10.0


def test_suggestions_say_what_to_do_or_nothing():
    fixable = make_issue(3, 1, "F401", "unused", "safe")
    fixable["detail"] = {"fix": "Remove unused import"}
    text = "line 3: Remove unused import (the fix loop makes this fix)"
    assert _report.suggestion(fixable) == {"line": 3, "code": "F401", "text": text}
    assert _report.suggestion(make_issue(3, 1, "E722", "bare except")) is None
    own = make_issue(4, 1, "CR012", "long", qualname="g", value=60, limit=50)
    assert _report.suggestion(own)["text"].startswith("line 4: split `g` (60 lines > 50)")


# --- CI -------------------------------------------------------------------------------------------

REVIEWS = [{"path": "pkg/m.py", "issues": [
    make_issue(2, 5, "F401", "`os` imported but unused", "safe"),
    make_issue(9, 1, "CR015", "cannot be read: 100%\r\n::error::injected"),
]}]


def test_sarif_has_what_code_scanning_requires(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "out" / "review.sarif"
    _ci.write_sarif(target, str(tmp_path), REVIEWS)
    log = json.loads(target.read_text())
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == {"F401", "CR015"}
    for result in run["results"]:
        assert result["ruleId"] and result["message"]["text"]
        assert result["level"] in {"error", "warning", "note", "none"}
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "pkg/m.py"
        assert location["physicalLocation"]["region"]["startLine"] >= 1


def test_sarif_validates_against_the_shape_github_documents(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = {
        "type": "object", "required": ["version", "runs"],
        "properties": {"version": {"const": "2.1.0"}, "runs": {"type": "array", "items": {
            "type": "object", "required": ["tool", "results"],
            "properties": {"tool": {"type": "object", "required": ["driver"], "properties": {
                "driver": {"type": "object", "required": ["name"]}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["ruleId", "message", "locations"],
                    "properties": {"message": {"type": "object", "required": ["text"]},
                                   "locations": {"type": "array", "minItems": 1}}}}}}}},
    }  # fmt: skip
    jsonschema.validate(_ci.sarif(str(tmp_path), REVIEWS), schema)


def test_each_issue_is_an_annotation_at_its_place_on_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert [tuple(a) for a in _ci.annotations_of(str(tmp_path), REVIEWS)] == [
        ("warning", "F401 `os` imported but unused", "pkg/m.py", 2, 5, "F401"),
        ("error", "CR015 cannot be read: 100%\r\n::error::injected", "pkg/m.py", 9, 1, "CR015"),
    ]


# --- which files, which lines ---------------------------------------------------------------------


def tree(root: Path, *names: str) -> None:
    for name in names:
        write(root, name, "x = 1\n")


@pytest.mark.parametrize(("include", "exclude", "kept"), [
    (None, None, ["a.py", "pkg/__init__.py", "pkg/b.py"]),
    (None, [], ["a.py", "build/c.py", "pkg/__init__.py", "pkg/b.py"]),
    (["dist/**/*.py"], None, ["dist/d.py"]),
    (["**/*.py"], ["pkg"], ["a.py", "build/c.py"]),
    (["pkg/*.py"], ["**/__init__.py"], ["pkg/b.py"]),
])  # fmt: skip
def test_include_and_exclude_override_the_defaults(tmp_path, include, exclude, kept):
    tree(tmp_path, "a.py", "pkg/__init__.py", "pkg/b.py", "build/c.py", "dist/d.py",
         ".venv/lib/e.py", "notes.txt")
    found = _discover.select_files(tmp_path.resolve(), include or _discover.DEFAULT_INCLUDE,
                                   _discover.DEFAULT_EXCLUDE if exclude is None else exclude)
    assert found == kept


def test_gitignore_is_ruffs_business(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    tree(tmp_path, "a.py", "gen/b.py")
    write(tmp_path, ".gitignore", "gen/\n")
    assert _discover.select_files(tmp_path.resolve()) == ["a.py"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                   check=True, capture_output=True)


def test_since_gives_the_changed_files_and_lines(tmp_path):
    git(tmp_path, "init", "-q")
    write(tmp_path, "a.py", "".join(f"x{n} = {n}\n" for n in range(10)))
    write(tmp_path, "same.py", "y = 1\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "first")
    write(tmp_path, "a.py", "".join(f"x{n} = {n * (n in (3, 4, 8))}\n" for n in range(10)))
    write(tmp_path, "new.py", "z = 1\n")
    changed = _discover.changed_lines(tmp_path.resolve(), "HEAD")
    assert changed == {"a.py": [[2, 3], [6, 8], [10, 10]], "new.py": [[1, 1 << 30]]}
    with pytest.raises(ValueError, match="since: git diff failed"):
        _discover.changed_lines(tmp_path.resolve(), "no-such-ref")


def test_ruff_is_named_when_it_is_missing(monkeypatch):
    _ruff.ruff_binary.cache_clear()
    monkeypatch.setitem(sys.modules, "ruff.__main__", None)
    with pytest.raises(_ruff.RuffMissing, match=r"pip install -e '\.\[review\]'"):
        _ruff.ruff_binary()
    _ruff.ruff_binary.cache_clear()

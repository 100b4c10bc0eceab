"""The code-review workflow as a whole: the loop and its fixes, `apply`, `verify`, the CI inputs
(`fail_under`, `sarif`, `annotations`, `since`), the report and the terminal summary.

Regenerate the report golden file with `WFE_UPDATE_GOLDEN=1 pytest tests/test_code_review_agent.py`
and review the diff before committing."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
SAMPLE = WORKFLOWS / "samples" / "messy.py"
GOLDEN = ROOT / "tests" / "golden" / "code_review_report.md"
UPDATE = os.environ.get("WFE_UPDATE_GOLDEN") == "1"
sys.path.insert(0, str(WORKFLOWS))
if importlib.util.find_spec("wfe") is None:  # the tools import `wfe`; use the checkout's
    sys.path.append(str(ROOT))

from code_review_tools import finish  # noqa: E402
from code_review_tools._summary import print_summary  # noqa: E402

import wfe.tools.context  # noqa: E402
from wfe import Workflow  # noqa: E402

FIXABLE = "import os\nimport sys\n\n\nclass Shop(object):\n    pass\n\n\nprint(sys.argv)  # TODO\n"


def run(**inputs: object):
    return Workflow.load(WORKFLOWS / "code_review.yaml").run(inputs)


def review(**inputs: object) -> dict:
    result = run(**inputs)
    assert result.ok, result.error
    return result.state


def write(folder: Path, name: str, text: str | bytes) -> Path:
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode() if isinstance(text, str) else text)
    return target


# --- the loop ---------------------------------------------------------------------------------


def test_lines_are_those_of_the_file_on_disk_and_what_remains_is_a_list_of_its_own(tmp_path):
    write(tmp_path, "m.py", FIXABLE)
    (entry,) = review(path=str(tmp_path / "m.py"), threshold=10.0)["reviews"]
    assert [(i["line"], i["code"]) for i in entry["issues"]] == [
        (1, "F401"), (5, "UP004"), (9, "T201"), (9, "FIX002")]  # a 9-line file: line 9 at most
    assert entry["fixes"] == ["line 1: F401 `os` imported but unused",
                              "line 5: UP004 Class `Shop` inherits from `object`"]
    assert [(i["line"], i["code"]) for i in entry["remaining"]] == [(8, "T201"), (8, "FIX002")]
    assert entry["diff"].startswith("--- a/m.py\n+++ b/m.py\n")


def test_the_loop_makes_only_safe_fixes_unless_asked(tmp_path):
    write(tmp_path, "m.py", "def f(x):\n    return x == None\n")
    (safe,) = review(path=str(tmp_path / "m.py"), threshold=10.0)["reviews"]
    assert safe["diff"] == "" and safe["fixes"] == [] and safe["issues"][0]["fix"] == "unsafe"
    (unsafe,) = review(path=str(tmp_path / "m.py"), threshold=10.0, unsafe_fixes=True)["reviews"]
    assert "+    return x is None" in unsafe["diff"]


def test_quality_is_measured_once_per_pass_and_rises_with_the_fixes(tmp_path):
    write(tmp_path, "m.py", FIXABLE)
    events: list[dict] = []
    result = Workflow.load(WORKFLOWS / "code_review.yaml").run(
        {"path": str(tmp_path / "m.py"), "threshold": 10.0}, listeners=[events.append])
    scored = [e["updates"]["quality_score"] for e in events
              if e["event"] == "node_finished" and "quality_score" in e.get("updates", {})]
    assert len(scored) == 2 and scored[0] < scored[1]
    assert result.state["quality_on_disk"] == scored[0]


def test_the_state_holds_no_source(tmp_path):
    write(tmp_path, "m.py", FIXABLE)
    state = review(path=str(tmp_path / "m.py"), threshold=10.0)
    text = json.dumps(state)
    assert "class Shop" not in text.replace("-class Shop(object):", "").replace(
        "+class Shop:", "")  # only in the diff's changed lines
    assert not {"files", "source", "fixed_source"} & {*state, *state["reviews"][0]}
    assert {"path", "functions", "issues", "suggestions", "score", "diff"} <= {*state["reviews"][0]}


def test_verify_keeps_only_the_fixes_under_which_the_command_passes(tmp_path):
    write(tmp_path, "a.py", "import os\n")
    write(tmp_path, "b.py", "import os\n")
    write(tmp_path, "c.py", "import os\n")
    check = "grep -q 'import os' b.py"  # the project's "tests" need b.py as it is
    reviews = review(path=str(tmp_path), threshold=10.0, verify=check)["reviews"]
    assert [bool(r.get("diff")) for r in reviews] == [True, False, True]
    assert all((tmp_path / n).read_text() == "import os\n" for n in ("a.py", "b.py", "c.py"))


def test_verify_that_fails_without_any_fix_keeps_none(tmp_path):
    write(tmp_path, "a.py", "import os\n")
    reviews = review(path=str(tmp_path), threshold=10.0, verify="false")["reviews"]
    assert not reviews[0].get("diff")


# --- apply --------------------------------------------------------------------------------------


def test_the_default_run_modifies_nothing(tmp_path):
    target = write(tmp_path, "m.py", FIXABLE)
    state = review(path=str(target), threshold=10.0)
    assert state["reviews"][0]["diff"] and state["applied"] == []
    assert target.read_text() == FIXABLE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]
    assert state["summary"].endswith("no file modified")


def test_apply_writes_the_fixes_and_keeps_the_originals(tmp_path):
    target = write(tmp_path, "m.py", FIXABLE)
    write(tmp_path, "m.py.orig", "an older backup\n")
    state = review(path=str(target), apply=True, threshold=10.0)
    assert state["applied"] == ["m.py"]
    fixed = "import sys\n\n\nclass Shop:\n    pass\n\n\nprint(sys.argv)  # TODO\n"
    assert target.read_text() == fixed
    assert (tmp_path / "m.py.orig").read_text() == "an older backup\n"  # never overwritten
    assert (tmp_path / "m.py.orig.1").read_text() == FIXABLE
    again = review(path=str(target), apply=True, threshold=10.0)  # nothing left to fix
    assert again["applied"] == [] and not (tmp_path / "m.py.orig.2").exists()


@pytest.mark.parametrize("data", [
    b"\xef\xbb\xbfimport os\r\nx = 1\r\n",
    b"# -*- coding: latin-1 -*-\r\nimport os\r\nx = 'caf\xe9'",
    b"import os\rx = 1\r",
])  # fmt: skip
def test_apply_keeps_the_encoding_bom_and_line_endings(tmp_path, data):
    target = write(tmp_path, "m.py", data)
    state = review(path=str(target), apply=True, threshold=10.0, unsafe_fixes=True)
    if b"latin-1" in data:  # ruff reads UTF-8 only: nothing to fix, nothing written
        assert state["applied"] == [] and target.read_bytes() == data
        return
    assert state["applied"] == ["m.py"]
    newline = b"\r\n" if b"\r\n" in data else b"\r"
    assert target.read_bytes() == data.replace(b"import os" + newline, b"")


def test_apply_refuses_a_file_changed_since_it_was_reviewed(tmp_path):
    target = write(tmp_path, "m.py", FIXABLE)
    reviews = review(path=str(target), threshold=10.0)["reviews"]
    write(tmp_path, "m.py", FIXABLE + "# edited meanwhile\n")
    assert finish.write_fixes(str(tmp_path), reviews) == []
    assert target.read_text().endswith("# edited meanwhile\n")
    target.unlink()
    assert finish.write_fixes(str(tmp_path), reviews) == []  # gone: skipped too


# --- CI -----------------------------------------------------------------------------------------


def test_fail_under_fails_the_run_with_a_clear_message(tmp_path):
    write(tmp_path, "m.py", FIXABLE)
    result = run(path=str(tmp_path / "m.py"), fail_under=9.5, threshold=0.0)
    assert result.status == "failed"
    assert re.search(r"quality \d+(\.\d+)?/10 is below fail_under 9\.5$",
                     str(result.error))
    assert run(path=str(tmp_path / "m.py"), fail_under=4.0, threshold=0.0).ok


def test_fail_under_exits_1_from_the_command_line(tmp_path):
    write(tmp_path, "m.py", FIXABLE)
    done = subprocess.run(
        [sys.executable, "-m", "wfe", "run", str(WORKFLOWS / "code_review.yaml"), "--no-store",
         "-q", "-i", f"path={tmp_path / 'm.py'}", "-i", "fail_under=9"],
        capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert "is below fail_under 9" in done.stderr and "Traceback" not in done.stderr


def test_sarif_and_annotations(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "src/m.py", FIXABLE)
    events: list[dict] = []
    result = Workflow.load(WORKFLOWS / "code_review.yaml").run(
        {"path": "src", "threshold": 0.0, "sarif": "out/review.sarif", "annotations": True},
        listeners=[events.append])
    assert result.ok, result.error
    results = json.loads((tmp_path / "out" / "review.sarif").read_text())["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["F401", "UP004", "T201", "FIX002"]
    uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src/m.py"
    annotations = [(e["annotation"], e["message"]) for e in events if "annotation" in e]
    assert ({"level": "warning", "file": "src/m.py", "line": 1, "col": 8, "title": "F401"},
            "F401 `os` imported but unused") in annotations


def test_annotations_reach_ci_as_workflow_commands_on_stderr(tmp_path):
    write(tmp_path, "src/m.py", FIXABLE)
    done = subprocess.run(
        [sys.executable, "-m", "wfe", "run", str(WORKFLOWS / "code_review.yaml"), "--no-store",
         "-q", "-i", "path=src", "-i", "annotations=true", "-i", "threshold=0"],
        capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert ("::warning file=src/m.py,line=1,col=8,title=F401::F401 `os` imported but unused"
            in done.stderr.splitlines())
    assert "::" not in done.stdout


def test_since_reviews_only_changed_lines(tmp_path):
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t",
                        *args], check=True, capture_output=True)

    git("init", "-q")
    write(tmp_path, "old.py", "import os\n")
    write(tmp_path, "m.py", "import os\n")
    git("add", ".")
    git("commit", "-qm", "first")
    write(tmp_path, "m.py", "import os\nimport sys\n")
    reviews = review(path=str(tmp_path), since="HEAD", threshold=0.0)["reviews"]
    assert [(r["path"], [(i["line"], i["code"]) for i in r["issues"]]) for r in reviews] == [
        ("m.py", [(2, "F401")])]


def test_a_folder_with_bad_files_is_reviewed_to_the_end(tmp_path):
    (tmp_path / "gone.py").symlink_to(tmp_path / "nowhere.py")
    write(tmp_path, "deep.py", b"x = " + b"-" * 100_000 + b"1\n")
    write(tmp_path, "pkg/__init__.py", "import os\n")
    reviews = review(path=str(tmp_path), threshold=0.0)["reviews"]
    assert [(r["path"], r["issues"][0]["code"]) for r in reviews] == [
        ("deep.py", "CR017"), ("gone.py", "CR015"), ("pkg/__init__.py", "F401")]


# --- the report ---------------------------------------------------------------------------------


def test_the_markdown_report_of_the_sample(tmp_path):
    out = tmp_path / "deep" / "review.md"
    state = review(report=str(out))
    text = out.read_text(encoding="utf-8")
    if UPDATE:
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), f"missing golden file {GOLDEN}; run with WFE_UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert f"**Quality {state['quality_score']:.2f}/10**" in text
    assert "## `messy.py`" in text  # relative to the reviewed folder
    assert "None found" not in text and "\n\n\n" not in text


def test_the_report_lists_worst_first_and_counts_clean_files(tmp_path):
    write(tmp_path, "clean.py", "x = 1\n")
    write(tmp_path, "bad.py", "import os\n")
    write(tmp_path, "worse.py", "import os\nimport sys\n")
    review(path=str(tmp_path), threshold=0.0, report=str(tmp_path / "r.md"))
    text = (tmp_path / "r.md").read_text()
    assert text.index("## `worse.py`") < text.index("## `bad.py`")
    assert "1 other file(s): no issues." in text and "clean.py" not in text


def test_no_report_without_the_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    review()
    assert list(tmp_path.iterdir()) == []


# --- the terminal summary -----------------------------------------------------------------------


def test_the_summary_fits_the_terminal_and_never_wraps_a_path():
    reviews = [{"path": "a/very/long/package/path/" * 4 + f"module_{n}.py", "score": n / 3,
                "issues": [], "functions": []} for n in range(30)]
    console = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
    print_summary(console, reviews, 5.0, 7.0)
    lines = console.file.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines)
    rows = [line for line in lines if "a/very" in line]
    assert len(rows) == 20 and all(row.rstrip().endswith("-") for row in rows)  # cut, not wrapped
    assert any("10 more file(s) score higher" in line for line in lines)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_summary_is_printed_only_on_a_terminal(monkeypatch, capsys):
    state = review()
    args = {k: state[k] for k in ("root", "reviews", "quality_score", "threshold")}
    assert finish.report_review(**args) == {"applied": []}
    assert "Worst function" not in capsys.readouterr().err
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    finish.report_review(**args)
    assert "process_orders" in terminal.getvalue()


def test_the_summary_goes_through_the_live_view_during_a_run(monkeypatch, capsys):
    state = review()
    args = {k: state[k] for k in ("root", "reviews", "quality_score", "threshold")}
    console = Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)
    monkeypatch.setattr(wfe.tools.context, "_tool_console", lambda: console)
    finish.report_review(**args)
    assert "process_orders" in console.file.getvalue()
    assert "Worst function" not in capsys.readouterr().err


def test_the_one_file_subgraph_gives_the_same_review(tmp_path):
    target = write(tmp_path, "m.py", FIXABLE)
    (whole,) = review(path=str(target), threshold=0.0)["reviews"]
    result = Workflow.load(WORKFLOWS / "review_file.yaml").run({"file": {"path": str(target)}})
    assert result.ok, result.error
    assert result.state["review"] == whole

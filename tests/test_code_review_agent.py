"""The code-review workflow's agent features: which files a folder review reads (`.gitignore`,
virtual environments, include/exclude), `apply=true`, the Markdown report, the Rich summary.

Regenerate the report golden file with `WFE_UPDATE_GOLDEN=1 pytest tests/test_code_review_agent.py`
and review the diff before committing."""

from __future__ import annotations

import importlib.util
import io
import os
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

import code_review_tools as crt  # noqa: E402
from code_review_tools import _ignore, finish  # noqa: E402
from code_review_tools._summary import print_summary  # noqa: E402

from wfe import Workflow  # noqa: E402


def make_tree(root: Path, files: list[str], gitignores: dict[str, str] | None = None) -> None:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"# {name}\n")
    for folder, text in (gitignores or {}).items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / ".gitignore").write_text(text)


def selected(root: Path, include: tuple[str, ...] = ("**/*.py",), exclude: tuple = ()) -> list:
    found = _ignore.select_files(root, include, exclude)
    return [p.relative_to(root.resolve()).as_posix() for p in found]


def review(**inputs: object) -> dict:
    result = Workflow.load(WORKFLOWS / "code_review.yaml").run(inputs)
    assert result.ok, result.error
    return result.state


# --- .gitignore ---------------------------------------------------------------------------------

# (rule, files, the files kept), each checked by hand against gitignore(5).
GITIGNORE_CASES = {
    "comment and blank": ("# a.py\n\n   \n", ["a.py"], ["a.py"]),
    "basename at any depth": ("b.py\n", ["b.py", "s/b.py", "s/bb.py"], ["s/bb.py"]),
    "star in a segment": ("*_pb2.py\n", ["x_pb2.py", "s/y_pb2.py", "z.py"], ["z.py"]),
    "star stays in its segment": ("s/*.py\n", ["s/a.py", "s/d/b.py", "a.py"], ["a.py", "s/d/b.py"]),
    "folder only": ("gen/\n", ["gen/a.py", "s/gen/b.py", "gen.py"], ["gen.py"]),
    "dir rule spares files": ("m.py/\n", ["m.py", "d/m.py/y.py"], ["m.py"]),
    "leading slash anchors": ("/top.py\n", ["top.py", "s/top.py"], ["s/top.py"]),
    "middle slash anchors": ("s/x.py\n", ["s/x.py", "a/s/x.py"], ["a/s/x.py"]),
    "leading double star": ("**/cache/*.py\n", ["cache/a.py", "a/b/cache/c.py", "c.py"], ["c.py"]),
    "middle double star": ("a/**/b.py\n", ["a/b.py", "a/x/y/b.py", "b.py", "x/a/b.py"],
                           ["b.py", "x/a/b.py"]),
    "trailing double star": ("out/**\n", ["out/a.py", "out/d/b.py", "outer.py"], ["outer.py"]),
    "question mark": ("t?.py\n", ["t1.py", "t10.py", "t.py"], ["t.py", "t10.py"]),
    "character class": ("[ab].py\n[!x]y.py\n", ["a.py", "b.py", "c.py", "xy.py", "zy.py"],
                        ["c.py", "xy.py"]),
    "negation": ("*.py\n!keep.py\n", ["a.py", "keep.py", "s/keep.py"], ["keep.py", "s/keep.py"]),
    "last match wins": ("!a.py\na.py\n", ["a.py", "b.py"], ["b.py"]),
    "no re-include in an ignored folder": ("out/\n!out/keep.py\n", ["out/keep.py", "k.py"],
                                           ["k.py"]),
    "escaped hash and bang": ("\\#h.py\n\\!b.py\n", ["#h.py", "!b.py", "h.py"], ["h.py"]),
    "trailing spaces dropped": ("a.py   \n", ["a.py", "b.py"], ["b.py"]),
}  # fmt: skip


@pytest.mark.parametrize(("rules", "files", "kept"), GITIGNORE_CASES.values(),
                         ids=GITIGNORE_CASES.keys())  # fmt: skip
def test_gitignore_rules(tmp_path, rules, files, kept):
    make_tree(tmp_path, files, {".": rules})
    assert selected(tmp_path) == sorted(kept)


def test_a_deeper_gitignore_comes_last_and_anchors_to_its_folder(tmp_path):
    make_tree(tmp_path, ["b.py", "s/b.py", "s/c.py", "s/t/c.py", "c.py"],
              {".": "b.py\n", "s": "!b.py\n/c.py\n"})  # fmt: skip
    assert selected(tmp_path) == ["c.py", "s/b.py", "s/t/c.py"]


def test_parent_gitignores_up_to_the_repository_root(tmp_path):
    outer, repo = tmp_path, tmp_path / "repo"
    make_tree(repo, ["src/a.py", "src/gen/g.py", "src/b_pb2.py"],
              {".": "src/gen/\n", "src": "*_pb2.py\n"})  # fmt: skip
    (outer / ".gitignore").write_text("*.py\n")  # above the repository: not read
    assert selected(repo / "src") == ["a.py", "gen/g.py"]  # no .git yet: only src's own rules
    (repo / ".git").mkdir()
    assert selected(repo / "src") == ["a.py"]


def test_outside_a_repository_parent_gitignores_are_not_read(tmp_path):
    make_tree(tmp_path, ["src/a.py"], {".": "*.py\n"})
    assert selected(tmp_path / "src") == ["a.py"]


# --- virtual environments, include/exclude ------------------------------------------------------


def test_virtual_environments_are_skipped(tmp_path):
    skipped = ["env/lib/x.py", "tools/py/lib/y.py", ".venv/z.py", "venv/v.py"]
    skipped += ["pkg/__pycache__/c.py", "lib/site-packages/s.py"]
    make_tree(tmp_path, ["a.py", *skipped])
    (tmp_path / "env/pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "tools/py/pyvenv.cfg").write_text("home = /usr/bin\n")
    assert selected(tmp_path) == ["a.py"]


@pytest.mark.parametrize(
    ("include", "exclude", "kept"),
    [
        (("**/*.py",), (), ["a.py", "src/b.py", "src/legacy/c.py", "tests/test_a.py"]),
        (("src/**/*.py",), (), ["src/b.py", "src/legacy/c.py"]),
        (("*.py",), (), ["a.py"]),
        (("**/*.py",), ("tests/**",), ["a.py", "src/b.py", "src/legacy/c.py"]),
        (("**/*.py",), ("src/legacy",), ["a.py", "src/b.py", "tests/test_a.py"]),
        (("**/*.py",), ("**/test_*.py", "a.py"), ["src/b.py", "src/legacy/c.py"]),
        (("**/*.py", "**/*.pyi"), ("src/**",), ["a.py", "stubs/s.pyi", "tests/test_a.py"]),
    ],
)
def test_include_and_exclude(tmp_path, include, exclude, kept):
    make_tree(tmp_path, ["a.py", "src/b.py", "src/legacy/c.py", "tests/test_a.py",
                         "stubs/s.pyi", "notes.txt"])  # fmt: skip
    assert selected(tmp_path, include, exclude) == kept


def test_the_workflow_takes_include_and_exclude(tmp_path, monkeypatch):
    make_tree(tmp_path, ["a.py", "src/b.py", "src/c.py", "skip/d.py"], {".": "skip/\n"})
    monkeypatch.chdir(tmp_path)
    state = review(path=".", include=["src/*.py"], exclude=["src/c.py"], threshold=0.0)
    assert [r["path"] for r in state["reviews"]] == ["src/b.py"]
    state = review(path=".", threshold=0.0)
    assert [r["path"] for r in state["reviews"]] == ["a.py", "src/b.py", "src/c.py"]


# --- apply --------------------------------------------------------------------------------------


def copy_sample(folder: Path, name: str = "shop.py") -> Path:
    target = folder / name
    target.write_bytes(SAMPLE.read_bytes())
    return target


def test_the_default_run_modifies_nothing(tmp_path):
    target = copy_sample(tmp_path)
    state = review(path=str(target), threshold=10.0)
    assert state["reviews"][0]["fixes"] and state["applied"] == []
    assert target.read_bytes() == SAMPLE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.py"]
    assert state["summary"].endswith("no file modified")


def test_apply_writes_the_fixed_files_and_keeps_the_originals(tmp_path):
    target = copy_sample(tmp_path)
    (tmp_path / "shop.py.orig").write_text("an older backup\n")
    state = review(path=str(target), apply=True, threshold=10.0)
    (fixed,) = state["reviews"]
    assert state["applied"] == [fixed["path"]]
    assert target.read_text(encoding="utf-8") == fixed["fixed_source"]
    assert "except Exception:" in fixed["fixed_source"] and "== None" not in fixed["fixed_source"]
    assert (tmp_path / "shop.py.orig").read_text() == "an older backup\n"  # never overwritten
    assert (tmp_path / "shop.py.orig.1").read_bytes() == SAMPLE.read_bytes()
    assert "to be written in place" in state["summary"]
    again = review(path=str(target), apply=True, threshold=10.0)  # nothing left to fix
    assert again["applied"] == []
    assert not (tmp_path / "shop.py.orig.2").exists()


def test_apply_keeps_the_encoding_and_line_endings(tmp_path):
    target = tmp_path / "crlf.py"
    target.write_bytes(b"\xef\xbb\xbfdef f(x):\r\n    return x == None\r\n")
    state = review(path=str(target), apply=True, threshold=10.0)
    assert state["applied"] == [state["reviews"][0]["path"]]
    assert target.read_bytes() == b"\xef\xbb\xbfdef f(x):\r\n    return x is None\r\n"
    assert (tmp_path / "crlf.py.orig").read_bytes().endswith(b"x == None\r\n")


def test_apply_refuses_a_file_changed_since_it_was_reviewed(tmp_path):
    target = copy_sample(tmp_path)
    entry, count = crt.fix_file({"path": str(target), "source": target.read_text()})
    assert count == 7
    files = [entry]
    target.write_text(target.read_text() + "\n# edited meanwhile\n")
    edited = target.read_bytes()
    assert finish.write_fixes(files) == []
    assert target.read_bytes() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.py"]
    target.unlink()
    assert finish.write_fixes(files) == []  # gone: skipped too


# --- the report ---------------------------------------------------------------------------------


def test_the_markdown_report_of_the_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # so that the sample's path is workflows/samples/messy.py
    out = tmp_path / "deep" / "review.md"
    state = review(report=str(out))
    text = out.read_text(encoding="utf-8")
    if UPDATE:
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), f"missing golden file {GOLDEN}; run with WFE_UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert f"**Quality {state['quality_score']:.2f}/10**" in text
    assert text.count("```diff\n") == 1 and state["reviews"][0]["diff"] in text
    assert "| `process_orders` | 65 | 14 | 54 | 7 | 5 |" in text


def test_no_report_without_the_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    review()
    assert list(tmp_path.iterdir()) == []


# --- the Rich summary ---------------------------------------------------------------------------


def test_the_rich_summary_renders():
    state = review()
    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    print_summary(console, state["reviews"], state["quality_score"], 7.0)
    text = console.file.getvalue()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == "Code review"
    assert lines[1].split() == ["File", "Score", "Worst", "function", "Cx", "Errors", "Warnings",
                                "Info"]  # fmt: skip
    row = next(line for line in lines if "messy.py" in line).split()
    assert row[1:] == [f"{state['quality_score']:.2f}", "process_orders", "14", "0", "12", "8"]
    assert lines[-1] == f"quality {state['quality_score']:.2f}/10 is below the threshold 7"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_summary_is_printed_only_on_a_terminal(monkeypatch, capsys):
    state = review()
    args = {k: state[k] for k in ("files", "reviews", "quality_score", "threshold")}
    assert finish.report_review(**args) == {"applied": []}
    assert "Worst function" not in capsys.readouterr().err
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    finish.report_review(**args)
    assert "process_orders" in terminal.getvalue()

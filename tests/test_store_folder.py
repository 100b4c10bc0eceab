"""The store's own folder: `.wfe/` keeps itself out of the user's commits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wfe.store import Store

ONE_NODE = """
nodes:
  only: {tool: noop}
"""
TOOLS = """
from wfe import tool

@tool
def noop() -> dict:
    return {}
"""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_run_in_a_git_repository_leaves_nothing_for_git_to_commit(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text("imports: [flow_tools]\n" + ONE_NODE)
    (tmp_path / "flow_tools.py").write_text(TOOLS)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "flow"], check=True)
    env = {k: v for k, v in os.environ.items() if k != "WFE_STORE"}
    ran = subprocess.run([sys.executable, "-m", "wfe", "run", "flow.yaml", "-q"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / ".wfe" / "wfe.db").is_file()
    status = subprocess.run([*git, "status", "--porcelain", "--untracked-files=all"],
                            check=True, capture_output=True, text=True).stdout
    assert status == ""


def test_the_ignore_file_is_written_only_when_the_folder_is_made(tmp_path: Path) -> None:
    kept = tmp_path / ".wfe"
    kept.mkdir()
    Store.open(kept / "wfe.db").close()
    Store.open(tmp_path / "elsewhere" / "runs.db").close()
    assert not (kept / ".gitignore").exists()
    assert not (tmp_path / "elsewhere" / ".gitignore").exists()

"""wfe builds its own pydantic validators without pydantic's plugins; a user's models keep them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wfe.state.pydantic_plugins import VARIABLE, without_plugins

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import os
from pathlib import Path
import pydantic.plugin._loader as loader
from wfe.graph.validate import validate_file
validate_file(Path("workflows/code_review.yaml"))
print(loader._plugins is None, os.environ.get("PYDANTIC_DISABLE_PLUGINS"))
from pydantic import BaseModel
class UserModel(BaseModel):
    x: int
print(loader._plugins is not None)
"""


def test_wfe_s_own_validators_do_not_scan_for_plugins_and_a_user_s_models_do() -> None:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            check=True, env=env, cwd=ROOT)
    assert result.stdout.split() == ["True", "None", "True"]


@pytest.mark.parametrize("before", [None, "logfire"])
def test_the_variable_is_restored(monkeypatch: pytest.MonkeyPatch, before: str | None) -> None:
    if before is None:
        monkeypatch.delenv(VARIABLE, raising=False)
    else:
        monkeypatch.setenv(VARIABLE, before)
    with without_plugins(), without_plugins():
        assert os.environ[VARIABLE] == "__all__"
    assert os.environ.get(VARIABLE) == before

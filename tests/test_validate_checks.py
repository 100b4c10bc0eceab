"""`wfe validate` catches before a run what would otherwise fail during it.

Each `tests/data/invalid_specs/<case>.yaml` isolates one problem; `<case>.out` is the whole
output `wfe validate <case>.yaml` must print (regenerate with `WFE_UPDATE_GOLDEN=1`, then review
the diff). Every case's tools are in `spec_tools.py` beside it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wfe.cli import app
from wfe.nodes import KINDS
from wfe.state.types import fits, parse_type, python_type

runner = CliRunner()
CASES = Path(__file__).parent / "data" / "invalid_specs"


@pytest.fixture
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cases copied to an empty folder that is also the working directory."""
    folder = tmp_path / "cases"
    shutil.copytree(CASES, folder, ignore=shutil.ignore_patterns("*.out", "__pycache__"))
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("case", sorted(p.stem for p in CASES.glob("*.yaml")))
def test_validate_reports_the_problem_at_its_place(cases: Path, case: str) -> None:
    result = runner.invoke(app, ["validate", f"{case}.yaml"])
    golden = CASES / f"{case}.out"
    if os.environ.get("WFE_UPDATE_GOLDEN"):
        golden.write_text(result.stdout)
    assert golden.exists(), f"missing golden file {golden}; run with WFE_UPDATE_GOLDEN=1"
    assert result.stdout == golden.read_text()
    assert result.exit_code == (2 if "error[" in result.stdout else 0)


_TYPES = st.recursive(
    st.sampled_from(["str", "int", "float", "bool", "any", "None", "list", "dict"]),
    lambda inner: st.one_of(st.builds("list[{}]".format, inner),
                            st.builds("dict[str, {}]".format, inner),
                            st.builds("{} | {}".format, inner, inner)),
    max_leaves=4,
)
_FILE_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False,
                                                                 allow_infinity=False),
              st.text(max_size=3)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=2), inner, max_size=3)),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(_TYPES, _FILE_VALUES)
def test_a_default_fits_its_type_exactly_when_pydantic_takes_it(type_text: str,
                                                                  value: Any) -> None:
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    adapter = TypeAdapter(python_type(type_text), config=ConfigDict(allow_inf_nan=False))
    try:
        adapter.validate_python(value, strict=True)
        taken = True
    except ValidationError:
        taken = False
    assert fits(parse_type(type_text), value) is taken


@pytest.mark.parametrize("kind", KINDS)
def test_the_readme_lists_the_keys_each_kind_takes(kind: str) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| {kind} | `"))
    assert set(re.findall(r"`(\w+)`", row)) == KINDS[kind].own_keys

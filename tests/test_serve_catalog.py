"""The workflows `wfe serve` serves by name: which file a name belongs to."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from serve_support import write_served

from wfe.serve.catalog import Catalog

#: Declares the name `counter` and cannot run (an unknown tool).
INVALID_COUNTER = "name: counter\nnodes:\n  a: {tool: no_such_tool}\n"


@pytest.mark.parametrize("where", ["same-folder-sorted-first", "earlier-path"])
def test_an_invalid_file_cannot_take_a_name_a_valid_file_declares(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        where: str) -> None:
    monkeypatch.chdir(tmp_path)
    served = write_served(tmp_path)
    if where == "same-folder-sorted-first":
        invalid = served / "a_counter.yaml"
        roots = [served]
    else:
        invalid = tmp_path / "first" / "counter.yaml"
        invalid.parent.mkdir()
        roots = [invalid.parent, served]
    invalid.write_text(INVALID_COUNTER)
    catalog = Catalog(roots, tmp_path / "posted", ())
    with caplog.at_level(logging.WARNING, logger="wfe.serve"):
        entry = catalog.get("counter")
    assert entry.workflow is not None
    assert entry.path == (served / "counter.yaml").resolve()
    shown = str(invalid.relative_to(tmp_path))
    assert f"{shown} is invalid and cannot run" in caplog.text
    assert f"{shown} is not served: workflows/counter.yaml already serves the name 'counter'" \
        in caplog.text


def test_of_two_valid_files_the_first_found_keeps_the_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    served = write_served(tmp_path)
    (served / "zz_counter.yaml").write_text((served / "counter.yaml").read_text())
    assert Catalog([served], tmp_path / "posted", ()).get("counter").path.name == "counter.yaml"

"""The package as a whole: its public surface, its documentation, its safety floor."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import wfe
from wfe.errors import PROBLEM_CODES

ROOT = Path(__file__).resolve().parent.parent


def test_public_names_are_sorted_and_all_importable():
    assert wfe.__all__ == sorted(wfe.__all__)
    for name in wfe.__all__:
        assert getattr(wfe, name) is not None


def test_readme_documents_every_problem_code():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| (WFE\d{3}) \|", readme, re.MULTILINE))
    assert documented == set(PROBLEM_CODES)


def test_readme_first_commands_run_the_main_job_and_the_tests():
    first_block = (ROOT / "README.md").read_text().split("```")[1]
    assert "wfe run workflows/code_review.yaml" in first_block
    assert "pytest" in first_block


def test_package_never_uses_an_unsafe_yaml_loader_or_eval():
    unsafe = re.compile(
        r"yaml\.load\(|unsafe_load|full_load|FullLoader|UnsafeLoader|CSafeLoader|"
        r"(?<![\w.])eval\(|(?<![\w.])exec\("
    )
    for path in (ROOT / "wfe").rglob("*.py"):
        assert not unsafe.search(path.read_text()), path


def _at_least(installed: str, floor: tuple[int, ...]) -> bool:
    parts = tuple(int(p) for p in re.findall(r"\d+", installed)[: len(floor)])
    return parts >= floor


def test_dependency_floors_hold():
    assert _at_least(version("simpleeval"), (1, 0, 8))
    assert _at_least(version("PyYAML"), (6, 0, 1))

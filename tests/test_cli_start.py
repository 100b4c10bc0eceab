"""`main()` builds only the command it runs; what each command does and prints stays the same."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wfe.cli import _only_the_invoked_command, app

runner = CliRunner()

ARGUMENTS = [
    ["validate", "--help"],
    ["--debug", "graph", "--help"],
    ["cache", "clear", "--help"],
    ["cache", "--help"],
    ["validate", "--format", "nope"],
    ["run"],
    ["--debug", "--version"],
    ["--help"],
    ["valdate"],
    [],
]


@pytest.mark.parametrize("args", ARGUMENTS, ids=" ".join)
def test_the_same_output_as_the_whole_app(args: list[str]) -> None:
    whole = runner.invoke(app, args)
    only = runner.invoke(_only_the_invoked_command(args), args)
    assert (only.exit_code, only.output) == (whole.exit_code, whole.output)


def test_only_the_named_command_or_group_is_kept() -> None:
    assert [c.callback.__name__ for c in _only_the_invoked_command(
        ["--debug", "validate", "x.yaml"]).registered_commands] == ["validate"]
    cache = _only_the_invoked_command(["cache", "clear"])
    assert cache.registered_commands == [] and len(cache.registered_groups) == 1
    for unsure in (["--help", "validate"], ["valdate"], []):
        assert _only_the_invoked_command(unsure) is app
    assert len(app.registered_commands) > 1  # the app itself is left whole

"""The `wfe` Typer app, its root options and the options its commands share; the command
modules register on it (`wfe.cli` imports them all). Annotations are evaluated once, when this
module loads (no `from __future__ import annotations`): typer reads every command's signature at
each start, and would evaluate string annotations anew.
"""

from pathlib import Path
from typing import Annotated

import typer

import wfe.cli.failures as failures

app = typer.Typer(
    name="wfe",
    help="Run YAML workflow graphs of Python tools, with live progress.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FileArg = Annotated[Path, typer.Argument(help="The workflow file.", show_default=False)]
StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="The store file (default: WFE_STORE, [tool.wfe] store, "
                 ".wfe/wfe.db).", show_default=False),
]
DurabilityOpt = Annotated[
    str | None,
    typer.Option("--durability", help="normal (WAL, fast) or full (survives power loss).",
                 show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output.")]
ImportOpt = Annotated[
    list[str] | None,
    typer.Option("--import", help="Also import tools from this module (repeatable)."),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option("--no-cache", help="Neither reuse nor keep results of `cache:` nodes."),
]
ExecutorOpt = Annotated[
    str | None,
    typer.Option("--executor", help="Where map items and parallel branches run: local, dask "
                 "(a LocalCluster) or dask://HOST:PORT (default: WFE_EXECUTOR, [tool.wfe] "
                 "executor, local).", show_default=False),
]


def _print_version(asked: bool) -> None:
    """`--version`: eager, so that it needs no command after it."""
    if asked:
        # deferred: the version is read with importlib.metadata (~15 ms), for --version only
        from wfe import __version__

        typer.echo(f"wfe {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version.", is_eager=True,
        callback=_print_version)] = False,
) -> None:
    """wfe: workflows as YAML graphs of Python tools."""
    failures.DEBUG = debug
EventsOpt = Annotated[bool, typer.Option("--json", help="Events as JSON lines.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the final state here as JSON.", show_default=False),
]

"""`wfe fork` and `wfe history`: a run's steps one by one, and new runs from any of them."""

from __future__ import annotations

from typing import Annotated

import typer

from wfe.cli.failures import handle_errors
from wfe.cli.shared import (
    DurabilityOpt,
    EventsOpt,
    ExecutorOpt,
    ImportOpt,
    NoCacheOpt,
    OutputOpt,
    QuietOpt,
    StoreOpt,
    app,
)


@app.command()
def fork(
    run_id: Annotated[str, typer.Argument(help="The run (any unique prefix of its id).")],
    at: Annotated[int, typer.Option("--at", help="The step whose state the new run starts from.",
                                    show_default=False)],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="KEY=VALUE: written over that state."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Fork even though the workflow file changed.")
    ] = False,
    json_lines: EventsOpt = False,
    quiet: QuietOpt = False,
    output: OutputOpt = None,
    imports: ImportOpt = None,
    store: StoreOpt = None,
    durability: DurabilityOpt = None,
    no_cache: NoCacheOpt = False,
    executor: ExecutorOpt = None,
) -> None:
    """A new run, linked to the old, from the state after a step, edited by -i."""
    # deferred: the engine and the SQLite store (~90 ms) load only for `wfe fork`
    from wfe.cli.resume_command import ForkOptions, fork_run

    options = ForkOptions(
        run=run_id, at=at, assignments=inputs or [], force=force, imports=imports or [],
        json_lines=json_lines, quiet=quiet, output=output, store=store, durability=durability,
        no_cache=no_cache, executor=executor,
    )
    with handle_errors():
        code = fork_run(options)
    raise typer.Exit(code)


@app.command()
def history(
    run_id: Annotated[str, typer.Argument(help="The run (any unique prefix of its id).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a step.")] = False,
    store: StoreOpt = None,
) -> None:
    """The state after every step, with what each step changed."""
    # deferred: the store's run documents load only for `wfe history`, not at every start
    from wfe.cli.history_command import show_history

    with handle_errors():
        show_history(run_id, as_json, store)

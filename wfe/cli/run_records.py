"""The commands that read a run from the store: `wfe runs` (and `runs prune`), `wfe show`,
`wfe logs` and `wfe cancel`."""

from __future__ import annotations

from typing import Annotated

import typer

from wfe.cli.failures import handle_errors
from wfe.cli.shared import JsonOpt, StoreOpt, app

runs_app = typer.Typer(name="runs", invoke_without_command=True)
app.add_typer(runs_app)


@runs_app.callback()
def runs(
    context: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="Only runs with this status.",
                                               show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many runs.")] = 20,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Past and current runs, newest first (`wfe runs prune` deletes old ones)."""
    if context.invoked_subcommand is not None:
        return
    # deferred: every command imports this module; the store's readers (~5 ms) are for `runs`
    from wfe.cli.runs_command import list_runs

    with handle_errors():
        list_runs(status, limit, as_json, store)


@runs_app.command("prune")
def runs_prune(
    older_than: Annotated[str, typer.Option(
        "--older-than", help="Delete runs that ended longer ago than this: 30d, 12h, 2w.",
        show_default=False)],
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="Only runs with this status (repeatable; default: every finished "
        "one: succeeded, failed, cancelled, interrupted).", show_default=False)] = None,
    store: StoreOpt = None,
) -> None:
    """Delete finished runs, their steps and events; the store file shrinks."""
    # deferred: pruning imports sqlite3 and the store (~30 ms), for `wfe runs prune` only
    from wfe.cli.prune_command import prune_runs

    with handle_errors():
        prune_runs(older_than, status or [], store)


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(help="The run (any unique prefix of its id).")],
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """One run: status, inputs, steps with durations and errors, final state."""
    # deferred: the store's readers and Rich's tables load only when a run is shown
    from wfe.cli.runs_command import show_run

    with handle_errors():
        show_run(run_id, as_json, store)


@app.command()
def logs(
    run_id: Annotated[str, typer.Argument(help="The run (any unique prefix of its id).")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Stream until it ends.")] = False,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """The run's events; --follow streams a run in progress until it ends."""
    # deferred: the store's readers and the event renderers load only when logs are read
    from wfe.cli.runs_command import show_logs

    with handle_errors():
        show_logs(run_id, follow, as_json, store)


@app.command()
def cancel(
    run_id: Annotated[str, typer.Argument(help="The run (any unique prefix of its id).")],
    store: StoreOpt = None,
) -> None:
    """Stop a running or detached run at its next step boundary."""
    # deferred: the store's readers load only for `wfe cancel`, not at every start
    from wfe.cli.runs_command import cancel_run

    with handle_errors():
        cancel_run(run_id, store)

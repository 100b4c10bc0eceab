"""The `wfe` command line. The only place that knows argv, exit codes and where output goes.

Heavy modules (the engine, pydantic, rich) are imported inside commands so `wfe --help` is fast.
Annotations are evaluated once, when this module loads (no `from __future__ import annotations`):
typer reads every command's signature at each start, and would evaluate string annotations anew.
"""

import copy
import sys
from pathlib import Path
from typing import Annotated

import typer

from wfe.cli.failures import handle_errors
from wfe.cli.shared import (  # noqa: F401 (the options are the command modules' too)
    DurabilityOpt,
    EventsOpt,
    ExecutorOpt,
    FileArg,
    ImportOpt,
    JsonOpt,
    NoCacheOpt,
    OutputOpt,
    QuietOpt,
    StoreOpt,
    app,
)
from wfe.cli.signals import leave_tool_threads


@app.command()
def run(
    file: FileArg,
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="KEY=VALUE (a YAML scalar) or KEY=@FILE; repeatable."),
    ] = None,
    inputs_file: Annotated[
        Path | None, typer.Option("--inputs", help="A YAML file of inputs.", show_default=False)
    ] = None,
    json_lines: EventsOpt = False,
    quiet: QuietOpt = False,
    output: OutputOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Load, bind and compile; print the plan; call no tool."),
    ] = False,
    imports: ImportOpt = None,
    store: StoreOpt = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Keep no record of the run.")
    ] = False,
    no_cache: NoCacheOpt = False,
    durability: DurabilityOpt = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="Run in the background; print the run id.")
    ] = False,
    attach: Annotated[str | None, typer.Option("--attach", hidden=True)] = None,
    executor: ExecutorOpt = None,
) -> None:
    """Run a workflow, with live progress on a terminal."""
    # deferred: the engine, PyYAML and asyncio (~60 ms) load only for `wfe run`, not `--help`
    from wfe.cli.run_command import RunOptions, run_workflow

    options = RunOptions(
        file=file,
        assignments=inputs or [],
        inputs_file=inputs_file,
        json_lines=json_lines,
        quiet=quiet,
        output=output,
        dry_run=dry_run,
        imports=imports or [],
        store=store,
        no_store=no_store,
        no_cache=no_cache,
        durability=durability,
        detach=detach,
        attach=attach,
        executor=executor,
    )
    with handle_errors():
        code = run_workflow(options)
    raise typer.Exit(code)


@app.command()
def resume(
    run_id: Annotated[str, typer.Argument(help="The run (any unique prefix of its id).")],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="KEY=VALUE: what a waiting run expects, or secrets."),
    ] = None,
    start_from: Annotated[
        str | None,
        typer.Option("--from", help="Start a new, linked run from this node instead.",
                     show_default=False),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Resume even though the workflow file changed.")
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
    """Continue a waiting, interrupted or failed run from its last committed step."""
    # deferred: the engine and the SQLite store (~90 ms) load only for `wfe resume`
    from wfe.cli.resume_command import ResumeOptions, resume_run

    options = ResumeOptions(
        run=run_id, assignments=inputs or [], start_from=start_from, force=force,
        imports=imports or [], json_lines=json_lines, quiet=quiet, output=output, store=store,
        durability=durability, no_cache=no_cache, executor=executor,
    )
    with handle_errors():
        code = resume_run(options)
    raise typer.Exit(code)


# The commands that read the store: runs, runs prune, show, logs, cancel (in this place, so
# that --help lists them here).
from wfe.cli import run_records  # noqa: E402, F401


@app.command()
def validate(
    targets: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders (default: workflows/).", show_default=False),
    ] = None,
    output: Annotated[
        str, typer.Option("--format", help="text, json, github or sarif.")
    ] = "text",
    strict: Annotated[bool, typer.Option("--strict", help="Warnings are errors.")] = False,
    imports: ImportOpt = None,
) -> None:
    """Check workflow files without running them; every problem as path:line:col."""
    # deferred: the loader and compiler (PyYAML, simpleeval: ~60 ms) load only for `validate`
    from wfe.cli.validate_command import FORMATTERS, run_validate

    if output not in FORMATTERS:
        raise typer.BadParameter(f"'{output}' is not one of {', '.join(FORMATTERS)}",
                                 param_hint="--format")
    with handle_errors():
        code = run_validate(targets or [], output, strict, imports or [])  # type: ignore[arg-type]
    raise typer.Exit(code)


@app.command()
def graph(
    file: FileArg,
    output: Annotated[
        str, typer.Option("--format", help="tree, mermaid, dot or json.")
    ] = "tree",
    imports: ImportOpt = None,
    run: Annotated[str | None, typer.Option("--run", help="Annotate with this run's visits.",
                                            show_default=False)] = None,
    store: StoreOpt = None,
    expand: Annotated[bool, typer.Option(
        "--expand", help="Draw each workflow: node's child nodes inside it (call/child).")] = False,
) -> None:
    """Print the workflow's structure: nodes, edges with their conditions, loops marked."""
    # deferred: the loader and compiler (PyYAML, simpleeval: ~60 ms) load only for `graph`
    from wfe.cli.graph_command import FORMATS, print_graph

    if output not in FORMATS:
        raise typer.BadParameter(f"'{output}' is not one of {', '.join(FORMATS)}",
                                 param_hint="--format")
    with handle_errors():
        print_graph(file, output, imports or [], run, store, expand)


@app.command()
def tools(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Workflow files whose `imports` to include.", show_default=False),
    ] = None,
    imports: ImportOpt = None,
) -> None:
    """List the registered tools: name, signature, summary, module."""
    # deferred: the YAML loader and tool discovery (~20 ms) load only for `wfe tools`
    from wfe.cli.info import list_tools

    with handle_errors():
        list_tools(files or [], imports or [])


@app.command()
def schema() -> None:
    """Print the JSON Schema of the workflow format (for editors)."""
    # deferred: the file format's models (PyYAML, ~20 ms) load only for `wfe schema`
    from wfe.cli.info import print_schema

    with handle_errors():
        print_schema()


@app.command()
def schedule(
    targets: Annotated[
        list[Path] | None,
        typer.Argument(help="Workflow files or folders (default: workflows/).",
                       show_default=False),
    ] = None,
    once: Annotated[bool, typer.Option(
        "--once", help="Start what is due now and exit (for cron, timers or CI).")] = False,
    store: StoreOpt = None,
) -> None:
    """Start every workflow that has `schedule:` when it is due; SIGTERM stops it."""
    # deferred: the run path and the store (engine, PyYAML, sqlite3: ~90 ms) are for `schedule`
    from wfe.cli.schedule_command import schedule as run_schedules

    with handle_errors():
        code = run_schedules(targets or [], once, store)
    raise typer.Exit(code)


@app.command()
def serve(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Workflow files or folders to serve (default: workflows/).",
                       show_default=False),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port (0: any free one).")] = 8321,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="WFE_TOKEN", show_envvar=False, show_default=False,
        help="Require `Authorization: Bearer TOKEN` (default: WFE_TOKEN, else a new random "
             "one, printed at start).")] = None,
    no_token: Annotated[bool, typer.Option(
        "--no-token", help="No token at all (only on a loopback --host).")] = False,
    allow_hosts: Annotated[list[str] | None, typer.Option(
        "--allow-host", help="Also accept this name in the Host header, e.g. a reverse proxy's "
                             "(repeatable).", show_default=False)] = None,
    store: StoreOpt = None,
    imports: ImportOpt = None,
    max_body: Annotated[int, typer.Option(
        "--max-body", help="The largest request body, in bytes.")] = 1_048_576,
    schedule: Annotated[bool, typer.Option(
        "--schedule", help="Also start the workflows' `schedule:` slots, as `wfe schedule` "
        "does.")] = False,
) -> None:
    """Serve workflows and their runs over HTTP and WebSocket (pip install 'wfe[serve]')."""
    # deferred: the run path, the store and the scheduler (~100 ms) load only for `wfe serve`
    from wfe.cli.serve_command import ServeOptions, serve_workflows

    options = ServeOptions(paths=paths or [], host=host, port=port, token=token, store=store,
                           imports=imports or [], max_body=max_body, no_token=no_token,
                           allow_hosts=allow_hosts or [], schedule=schedule)
    with handle_errors():
        code = serve_workflows(options)
    raise typer.Exit(code)


cache_app = typer.Typer(
    name="cache", help="The results of `cache:` nodes kept in the store.", no_args_is_help=True,
)
app.add_typer(cache_app)


@cache_app.command("clear")
def cache_clear(
    tool: Annotated[str | None, typer.Option("--tool", help="Only this tool's results.",
                                             show_default=False)] = None,
    store: StoreOpt = None,
) -> None:
    """Remove cached results (all, or one tool's); print how many."""
    # deferred: the store's options (~1 ms; sqlite3 once opened) are for `wfe cache clear` only
    from wfe.cli.cache_command import clear_cache

    with handle_errors():
        clear_cache(tool, store)


# Registered on `app` when imported, after the options they share are defined.
from wfe.cli import linked_commands  # noqa: E402, F401


def main() -> None:
    """Console-script entry point."""
    code = 1
    try:
        _only_the_invoked_command(sys.argv[1:])()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
        sys.exit(130)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        raise
    finally:
        leave_tool_threads(code)


def _only_the_invoked_command(args: list[str]) -> typer.Typer:
    """The app with only the command that args invoke, when that is certain: typer reads the
    parameters of every registered command at each start, and only one runs."""
    position = 0
    while position < len(args) and args[position] == "--debug":
        position += 1
    if position == len(args):
        return app
    name = args[position]
    commands = [c for c in app.registered_commands if _command_name(c) == name]
    groups = [g for g in app.registered_groups
              if typer.main.solve_typer_info_defaults(g).name == name]
    if not commands and not groups:
        return app
    only = copy.copy(app)
    only.registered_commands = commands
    only.registered_groups = groups
    return only


def _command_name(command: typer.models.CommandInfo) -> str:
    if command.name:
        return command.name
    assert command.callback is not None
    return typer.main.get_command_name(command.callback.__name__)

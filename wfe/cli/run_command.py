"""`wfe run`: load, bind inputs, pick a front end, run (durably), print or write the final state."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wfe.api import Workflow
from wfe.cli.detach import attached_lease, detach
from wfe.cli.inputs import load_inputs_file, parse_assignments
from wfe.cli.outcome import EXIT_OK, exit_code, print_state, report, write_output
from wfe.cli.plan import plan_text
from wfe.cli.run_options import RunOptions as RunOptions
from wfe.cli.run_options import open_store as open_store
from wfe.cli.short_result import short_result, where_to_see
from wfe.cli.signals import exit_code_for, run_until_done, stop_on_signals
from wfe.engine.cache import Cache, StoreCache
from wfe.engine.events import LogListener
from wfe.engine.journal import Cursor, Journal
from wfe.engine.result import RunResult
from wfe.errors import WfeError
from wfe.executors.cluster import chosen_executor, cluster_for
from wfe.graph.model import Graph
from wfe.ids import new_run_id
from wfe.redact import mask_value
from wfe.render import NullRenderer, Renderer, RenderMode, make_renderer
from wfe.store.errors import StoreError

if TYPE_CHECKING:  # the store and the engine are imported only when a run uses them
    from wfe.engine.loop import Asker
    from wfe.executors.executor import Executor
    from wfe.store import Store


def gather_inputs(options: RunOptions, graph: Graph) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if options.inputs_file is not None:
        inputs.update(load_inputs_file(options.inputs_file))
    inputs.update(parse_assignments(options.assignments, graph.schema.trees))
    return inputs


def store_cache(store: Store, no_cache: bool) -> Cache | None:
    """The store's result cache, unless `--no-cache` bypasses it (no reads, no writes)."""
    return None if no_cache else StoreCache(store)


def run_workflow(options: RunOptions) -> int:
    workflow = Workflow.load(options.file, imports=options.imports)
    inputs = gather_inputs(options, workflow.graph)
    state = workflow.initial_state(inputs)
    executor = chosen_executor(options.executor)
    if options.dry_run:
        sys.stdout.write(plan_text(workflow.graph, workflow.graph.schema.mask(state)))
        return EXIT_OK
    if options.detach:
        return detach(options, workflow, inputs, state)
    # The cluster is reached and its workers checked before the run is recorded.
    with cluster_for(*executor, workflow.graph) as fanout:
        return _run_recorded(workflow, options, inputs, state, fanout)


def _run_recorded(workflow: Workflow, options: RunOptions, inputs: dict[str, Any],
                  state: dict[str, Any], fanout: Executor | None) -> int:
    if options.no_store:
        return execute(workflow, options, inputs, state, journal=None, run_id=new_run_id(),
                       fanout=fanout)
    # deferred: the journal imports sqlite3 and the store (~15 ms), which --no-store goes without
    from wfe.store.journal import StoreJournal, new_run

    with open_store(options.store, options.durability) as store:
        if options.attach is not None:
            lease = attached_lease(store, options.attach)
        else:
            lease = store.create_run(new_run(workflow.graph, new_run_id(), inputs, state))
        journal = StoreJournal(store, lease, workflow.graph)
        return execute(workflow, options, inputs, state, journal=journal, run_id=lease.run_id,
                       cache=store_cache(store, options.no_cache), fanout=fanout)


def execute(
    workflow: Workflow,
    options: RunOptions,
    inputs: dict[str, Any],
    state: dict[str, Any],
    *,
    journal: Journal | None,
    run_id: str,
    cursor: Cursor | None = None,
    answers: dict[str, Any] | None = None,
    cache: Cache | None = None,
    fanout: Executor | None = None,
) -> int:
    """Run with the chosen front end; the exit code of SPEC section 2.

    `fanout`: where map items and parallel branches run (None: in this process)."""
    renderer = _renderer(options, workflow.graph)
    # A renderer that shows nothing does not listen (one that shows annotations only listens to
    # `log` events): with no store either, the engine then builds no other events at all.
    listeners: list[Callable[[dict[str, Any]], None]] = [renderer]
    if isinstance(renderer, NullRenderer):
        listeners = [LogListener(renderer)] if renderer.shows_annotations else []
    if journal is not None:
        listeners.append(journal)  # type: ignore[arg-type]
    ask = _terminal_asker(renderer) if _interactive(options) else None
    # The engine updates the state in place; the short result compares the end with this.
    before = copy.deepcopy(state) if _short_result_wanted(options) else {}
    try:
        with renderer, stop_on_signals():
            result = run_until_done(workflow.arun(
                inputs, listeners=listeners, run_id=run_id, journal=journal, ask=ask,
                state=state, cursor=cursor, answers=answers, cache=cache, executor=fanout,
            ))
    except WfeError as error:
        hinted = _resume_hint(error, run_id) if journal is not None else None
        if hinted is None:
            raise
        raise hinted from error
    except KeyboardInterrupt as interrupt:
        sys.stderr.write(f"interrupted: run {run_id} can be resumed with `wfe resume {run_id}`\n"
                         if journal is not None else "interrupted\n")
        return exit_code_for(interrupt)
    _report(result, options, workflow.graph, before=before, stored=journal is not None)
    return exit_code(result)


def _resume_hint(error: WfeError, run_id: str) -> WfeError | None:
    """A store that failed mid-run (a full disk, say) leaves the run resumable: say so."""
    if not isinstance(error, StoreError):
        return None
    return StoreError(f"{error}; run {run_id} stopped and can be resumed once the store can be "
                      f"written again (`wfe resume {run_id}`)")


def _report(result: RunResult, options: RunOptions, graph: Graph, *, before: dict[str, Any],
            stored: bool) -> None:
    """The final state to --output, or else to stdout when it is not a terminal; on a terminal
    a short result instead (SPEC section 2); then what went wrong, on stderr. The state is
    masked only to be shown (a quiet run without --output shows none)."""
    short = _short_result_wanted(options)
    if options.output is not None or short or not (options.json_lines or options.quiet):
        shown = mask_value(graph.schema.mask(result.state))
        if options.output is not None:
            write_output(options.output, shown)
        if short:
            show = where_to_see(result.run_id, stored=stored, store=options.store,
                                output=options.output)
            before_shown = mask_value(graph.schema.mask(before))
            sys.stdout.write(short_result(result, before_shown, shown, show=show))
        elif options.output is None:
            print_state(shown)
    if not options.json_lines:
        report(result, stored=stored)


def _short_result_wanted(options: RunOptions) -> bool:
    return not options.json_lines and not options.quiet and sys.stdout.isatty()


def _mode(options: RunOptions) -> RenderMode:
    if options.json_lines:
        return "json"
    if options.quiet:
        return "quiet"
    return "live" if sys.stderr.isatty() else "plain"


def _renderer(options: RunOptions, graph: Graph) -> Renderer:
    return make_renderer(_mode(options), nodes=list(graph.nodes), workflow=graph.name)


def _interactive(options: RunOptions) -> bool:
    return (not options.json_lines and not options.quiet and options.attach is None
            and sys.stdin.isatty() and sys.stderr.isatty())


def _terminal_asker(renderer: Renderer) -> Asker:
    def ask(node: str, message: str, expects: dict[str, str]) -> dict[str, Any] | None:
        # deferred: the prompt checks answers with the store's journal (sqlite3, ~15 ms), and
        # only a run that reaches an interrupt node asks
        from wfe.cli.prompt import prompt_for

        renderer.prompt_begins(node)
        try:
            return prompt_for(node, message, expects)
        finally:
            renderer.prompt_ends(node)

    return ask


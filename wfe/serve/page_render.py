"""The HTML of `GET /`, rendered from the API's JSON documents; every value is escaped.

Run ids, workflow names, node names and errors are user data: they only ever reach the page
through `html.escape` here, or through `textContent` in page.js.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any, get_args
from urllib.parse import quote, urlencode

from wfe.engine.events import RunStatus
from wfe.render._format import format_duration, format_error

RUN_COLUMNS = ("Run", "Workflow", "Status", "Started", "Duration", "Steps")
#: How many more runs each "Older runs" shows.
RUNS_PAGE = 50
NODE_COLUMNS = ("Node", "Status", "Visits", "Attempts", "Duration", "Items", "Error")
#: The statuses a run may be filtered by (SPEC section 3's `run_finished` ones, and running).
RUN_STATUSES = get_args(RunStatus)


@dataclass
class NodeRow:
    name: str
    status: str = "pending"
    attempts: int = 0
    visits: int = 0
    duration_ms: float | None = None
    items: str = ""
    error: str = ""


@dataclass
class SelectedRun:
    """The run named by `?run=`: its document, its workflow's Mermaid text, or why not."""

    run_id: str
    document: Mapping[str, Any] | None = None
    nodes: list[NodeRow] = field(default_factory=list)
    mermaid: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class RunFilters:
    """The runs list's query: `?status=&workflow=&limit=` (kept in links, so it reads without
    JavaScript too)."""

    status: str = ""
    workflow: str = ""
    limit: int = 50


@dataclass
class PageView:
    root: str
    mermaid_src: str
    #: The page's own style and script, inlined: a `<script src>` could not send the token.
    style: str = ""
    scripts: Sequence[str] = ()
    nonce: str = ""
    runs: Sequence[Mapping[str, Any]] = ()
    runs_problem: str | None = None
    workflows: Sequence[Mapping[str, Any]] = ()
    filters: RunFilters = field(default_factory=lambda: RunFilters())
    selected: SelectedRun | None = None


def _moment(text: object) -> datetime | None:
    """A document's time (ISO 8601, UTC); None when it is missing or not one."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def utc_time(text: object) -> str:
    moment = _moment(text)
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def run_duration(run: Mapping[str, Any]) -> str:
    started, finished = _moment(run.get("created_at")), _moment(run.get("finished_at"))
    if started is None or finished is None:
        return "-"
    return format_duration(max(0.0, (finished - started).total_seconds()) * 1000)


def node_rows(run: Mapping[str, Any], graph: Mapping[str, Any] | None) -> list[NodeRow]:
    """One row per node, from the graph's node list and the run's recorded steps.

    Steps record finished nodes only, so the node in flight is the run's `next_node` while it
    runs, and a node that failed the run is named by the run's `error`.
    """
    rows = {name: NodeRow(name) for name in _graph_node_names(graph)}
    for step in run.get("steps") or ():
        row = rows.setdefault(str(step.get("node")), NodeRow(str(step.get("node"))))
        row.attempts = int(step.get("attempt") or 1)
        row.duration_ms = float(step.get("duration_ms") or 0)
        row.status = "failed" if step.get("outcome") == "routed" else "done"
        row.error = format_error(step.get("error")) if step.get("error") else ""
        row.items = item_summary(step.get("items"))
    for name, count in (run.get("visits") or {}).items():
        if name in rows:
            rows[name].visits = int(count)
    _mark_current_node(run, rows)
    return list(rows.values())


def _graph_node_names(graph: Mapping[str, Any] | None) -> list[str]:
    nodes = (graph or {}).get("nodes") or ()
    return [str(node["id"]) for node in nodes if node.get("kind") != "end" and "id" in node]


def _mark_current_node(run: Mapping[str, Any], rows: dict[str, NodeRow]) -> None:
    status, error, waiting = run.get("status"), run.get("error"), run.get("waiting")
    if status == "running" and run.get("next_node") not in (None, "", "end"):
        name = str(run["next_node"])
        rows.setdefault(name, NodeRow(name)).status = "running"
    elif isinstance(waiting, Mapping) and waiting.get("node"):
        name = str(waiting["node"])
        rows.setdefault(name, NodeRow(name)).status = "waiting"
    if isinstance(error, Mapping) and error.get("node"):
        name = str(error["node"])
        row = rows.setdefault(name, NodeRow(name))
        row.status, row.error = "failed", format_error(error)


def item_summary(items: object) -> str:
    """`3 done · 1 failed` for a map step's item records; empty for other steps."""
    if not isinstance(items, list) or not items:
        return ""
    counts = Counter(str(item.get("status", "?")) for item in items if isinstance(item, dict))
    return " · ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def _cells(columns: Sequence[str], values: Iterable[str]) -> str:
    """Cells labelled with their column (a phone shows the label beside each value)."""
    return "".join(f'<td data-label="{escape(label)}">{value}</td>'
                   for label, value in zip(columns, values, strict=True))


def _header(columns: Iterable[str]) -> str:
    return "<tr>" + "".join(f'<th scope="col">{escape(c)}</th>' for c in columns) + "</tr>"


def status_badge(status: object) -> str:
    text = escape(str(status or "unknown"))
    return f'<span class="status" data-status="{text}">{text}</span>'


def time_tag(text: object) -> str:
    """UTC on the server; the page's script shows it in local time, UTC on hover."""
    shown = utc_time(text)
    if shown == "-":
        return "-"
    return f'<time datetime="{escape(str(text))}" title="{shown} UTC">{shown} UTC</time>'


def run_href(root: str, run_id: str) -> str:
    return f'{root}?run={quote(run_id, safe="")}'


def _run_row(root: str, run: Mapping[str, Any], selected: str | None) -> str:
    run_id = str(run.get("run_id", ""))
    current = ' aria-current="true"' if run_id == selected else ""
    link = (f'<a class="run-link" href="{escape(run_href(root, run_id))}" '
            f'data-run-id="{escape(run_id)}"><code>{escape(run_id)}</code></a>')
    cells = (link, escape(str(run.get("workflow", ""))), status_badge(run.get("status")),
             time_tag(run.get("created_at")), escape(run_duration(run)),
             escape(str(run.get("steps", ""))))
    return f'<tr data-run-id="{escape(run_id)}"{current}>{_cells(RUN_COLUMNS, cells)}</tr>'


def _node_row(row: NodeRow) -> str:
    duration = format_duration(row.duration_ms) if row.duration_ms is not None else ""
    name = f'<a class="node-link" href="#node={escape(quote(row.name, safe=""))}">' \
           f"{escape(row.name)}</a>"
    cells = (name, status_badge(row.status), str(row.visits or ""), str(row.attempts or ""),
             escape(duration), escape(row.items), escape(row.error))
    return (f'<tr data-node="{escape(row.name)}">{_cells(NODE_COLUMNS, cells)}</tr>'
            .replace('<td data-label="Error">', '<td data-label="Error" class="error">'))


def _options(values: Iterable[str], chosen: str, everything: str) -> str:
    options = [f'<option value="">{escape(everything)}</option>']
    options += [f'<option{" selected" if v == chosen else ""}>{escape(v)}</option>'
                for v in values]
    return "".join(options)


def _filters(view: PageView) -> str:
    """A GET form: filtering works without JavaScript; the script applies it in place."""
    names = [str(w.get("name", "")) for w in view.workflows]
    statuses = _options(RUN_STATUSES, view.filters.status, "any")
    workflows = _options(names, view.filters.workflow, "any")
    return f"""<form class="filters" id="filters" method="get" action="{escape(view.root)}">
<label>Status <select name="status">{statuses}</select></label>
<label>Workflow <select name="workflow">{workflows}</select></label>
<noscript><button type="submit">Filter</button></noscript></form>"""


def _more_link(view: PageView) -> str:
    query = {"status": view.filters.status, "workflow": view.filters.workflow,
             "limit": str(view.filters.limit + RUNS_PAGE)}
    href = view.root + "?" + urlencode({k: v for k, v in query.items() if v})
    hidden = "" if len(view.runs) >= view.filters.limit else " hidden"
    return f'<p><a id="runs-more" href="{escape(href)}"{hidden}>Older runs</a></p>'


def _runs_section(view: PageView) -> str:
    selected = view.selected.run_id if view.selected else None
    rows = "".join(_run_row(view.root, run, selected) for run in view.runs)
    problem = (f'<p class="problem" role="alert">Runs could not be loaded: '
               f"{escape(view.runs_problem)}</p>" if view.runs_problem else "")
    hidden = " hidden" if view.runs or view.runs_problem else ""
    return f"""<section class="runs" aria-labelledby="runs-heading">
<h2 id="runs-heading">Runs</h2>{problem}{_filters(view)}
<table id="runs"><thead>{_header(RUN_COLUMNS)}</thead>
<tbody>{rows}</tbody></table>
<p id="runs-empty"{hidden}>No runs in this store yet.</p>{_more_link(view)}
</section>"""


def _workflows_section(view: PageView) -> str:
    items = "".join(
        f'<li data-workflow="{escape(str(w.get("name", "")))}"><strong>'
        f'{escape(str(w.get("name", "")))}</strong> <span class="hint">'
        f'{escape(str(w.get("description", "")))}</span></li>' for w in view.workflows)
    return f"""<section class="workflows" aria-labelledby="workflows-heading">
<h2 id="workflows-heading">Workflows</h2><ul id="workflows">{items}</ul>
</section>"""


def _run_summary(run: SelectedRun) -> str:
    document = run.document
    if document is None:
        return f'<p class="problem" role="alert">{escape(run.problem or "not found")}</p>'
    parts = [escape(str(document.get("workflow", ""))), status_badge(document.get("status")),
             f"started {time_tag(document.get('created_at'))}",
             f"{escape(str(document.get('step', 0)))} steps"]
    error = document.get("error")
    detail = (f'<p class="run-error">{escape(format_error(error))}</p>'
              if isinstance(error, Mapping) else "")
    return f'<p id="run-summary">{" · ".join(parts)}</p>{detail}{_waiting(document)}'


def _waiting(document: Mapping[str, Any]) -> str:
    waiting = document.get("waiting")
    if document.get("status") != "waiting" or not isinstance(waiting, Mapping):
        return ""
    expects = ", ".join(f"{k} ({v})" for k, v in (waiting.get("expects") or {}).items())
    return (f'<p class="waiting-message" data-status="waiting">'
            f'{escape(str(waiting.get("message") or "waiting"))}'
            f'{" · expects " + escape(expects) if expects else ""}</p>')


def _run_section(view: PageView) -> str:
    run = view.selected
    run_id = escape(run.run_id) if run else ""
    rows = "".join(_node_row(row) for row in run.nodes) if run else ""
    summary = _run_summary(run) if run else '<p id="run-summary"></p>'
    graph = escape(run.mermaid) if run and run.mermaid else ""
    hidden = "" if run else " hidden"
    return f"""<section class="run" id="run" aria-labelledby="run-heading"{hidden}>
<a class="back" id="back" href="{escape(view.root)}">&larr; All runs</a>
<h2 id="run-heading">Run <code id="run-id">{run_id}</code></h2>
<div id="run-status" aria-live="polite">{summary}</div>
<div id="run-actions" class="actions"></div>
<h3 id="nodes-heading">Nodes</h3>
<table id="nodes" aria-labelledby="nodes-heading"><thead>{_header(NODE_COLUMNS)}</thead>
<tbody>{rows}</tbody></table>
<section id="step-panel" aria-labelledby="step-heading" hidden></section>
<h3 id="timeline-heading">Timeline</h3>
<div id="timeline" class="timeline" aria-labelledby="timeline-heading"></div>
<h3 id="graph-heading">Graph</h3>
<figure id="graph" aria-labelledby="graph-heading"><pre id="graph-text">{graph}</pre></figure>
</section>"""


def page_title(view: PageView) -> str:
    """The tab says how the selected run is doing."""
    run = view.selected
    if run is None or run.document is None:
        return "wfe runs"
    return f"{run.document.get('status', '?')} · {run.run_id} · wfe"


def render_page(view: PageView) -> str:
    root = escape(view.root)
    selected = escape(view.selected.run_id) if view.selected else ""
    nonce = escape(view.nonce)
    scripts = "\n".join(f'<script nonce="{nonce}">{script}</script>' for script in view.scripts)
    body_class = ' class="detail-open"' if view.selected else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(page_title(view))}</title>
<link rel="icon" href="data:,">
<style>{view.style}</style>
</head>
<body data-root="{root}" data-mermaid-src="{escape(view.mermaid_src)}" data-run="{selected}"
 data-limit="{view.filters.limit}"{body_class}>
<header class="top"><h1>wfe</h1>
<p id="notice" role="status" aria-live="polite"></p></header>
<main>
<div class="lists">
{_workflows_section(view)}
{_runs_section(view)}
</div>
{_run_section(view)}
</main>
{scripts}
</body>
</html>
"""

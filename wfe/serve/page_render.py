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
from typing import Any
from urllib.parse import quote

from wfe.render._format import format_duration, format_error

RUN_COLUMNS = ("Run", "Workflow", "Status", "Started (UTC)", "Duration", "Steps")
NODE_COLUMNS = ("Node", "Status", "Attempts", "Duration", "Items", "Error")


@dataclass
class NodeRow:
    name: str
    status: str = "pending"
    attempts: int = 0
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


def _cells(values: Iterable[str]) -> str:
    return "".join(f"<td>{value}</td>" for value in values)


def _header(columns: Iterable[str]) -> str:
    return "<tr>" + "".join(f'<th scope="col">{escape(c)}</th>' for c in columns) + "</tr>"


def status_badge(status: object) -> str:
    text = escape(str(status or "unknown"))
    return f'<span class="status" data-status="{text}">{text}</span>'


def _run_row(root: str, run: Mapping[str, Any], selected: str | None) -> str:
    run_id = str(run.get("run_id", ""))
    current = ' aria-current="true"' if run_id == selected else ""
    link = (f'<a class="run-link" href="{escape(root)}?run={escape(quote(run_id, safe=""))}" '
            f'data-run-id="{escape(run_id)}"><code>{escape(run_id)}</code></a>')
    cells = (link, escape(str(run.get("workflow", ""))), status_badge(run.get("status")),
             escape(utc_time(run.get("created_at"))), escape(run_duration(run)),
             escape(str(run.get("steps", ""))))
    return f'<tr data-run-id="{escape(run_id)}"{current}>{_cells(cells)}</tr>'


def _node_row(row: NodeRow) -> str:
    duration = format_duration(row.duration_ms) if row.duration_ms is not None else ""
    cells = (escape(row.name), status_badge(row.status), str(row.attempts or ""),
             escape(duration), escape(row.items), escape(row.error))
    return f'<tr data-node="{escape(row.name)}">{_cells(cells)}</tr>'


def _runs_section(view: PageView) -> str:
    selected = view.selected.run_id if view.selected else None
    rows = "".join(_run_row(view.root, run, selected) for run in view.runs)
    problem = (f'<p class="problem" role="alert">Runs could not be loaded: '
               f"{escape(view.runs_problem)}</p>" if view.runs_problem else "")
    hidden = " hidden" if view.runs or view.runs_problem else ""
    return f"""<section class="runs" aria-labelledby="runs-heading">
<h2 id="runs-heading">Runs</h2>{problem}
<table id="runs"><thead>{_header(RUN_COLUMNS)}</thead>
<tbody>{rows}</tbody></table>
<p id="runs-empty"{hidden}>No runs in this store yet.</p>
</section>"""


def _run_summary(run: SelectedRun) -> str:
    document = run.document
    if document is None:
        return f'<p class="problem" role="alert">{escape(run.problem or "not found")}</p>'
    parts = [escape(str(document.get("workflow", ""))), status_badge(document.get("status")),
             f"started {escape(utc_time(document.get('created_at')))} UTC",
             f"{escape(str(document.get('step', 0)))} steps"]
    error = document.get("error")
    detail = (f'<p class="run-error">{escape(format_error(error))}</p>'
              if isinstance(error, Mapping) else "")
    return f'<p id="run-summary">{" · ".join(parts)}</p>{detail}'


def _run_section(view: PageView) -> str:
    run = view.selected
    run_id = escape(run.run_id) if run else ""
    rows = "".join(_node_row(row) for row in run.nodes) if run else ""
    summary = _run_summary(run) if run else '<p id="run-summary"></p>'
    graph = escape(run.mermaid) if run and run.mermaid else ""
    hidden = "" if run else " hidden"
    return f"""<section class="run" id="run" aria-labelledby="run-heading"{hidden}>
<h2 id="run-heading">Run <code id="run-id">{run_id}</code></h2>
<div id="run-status" aria-live="polite">{summary}</div>
<h3 id="nodes-heading">Nodes</h3>
<table id="nodes" aria-labelledby="nodes-heading"><thead>{_header(NODE_COLUMNS)}</thead>
<tbody>{rows}</tbody></table>
<h3 id="graph-heading">Graph</h3>
<figure id="graph" aria-labelledby="graph-heading"><pre id="graph-text">{graph}</pre></figure>
</section>"""


def render_page(view: PageView) -> str:
    root = escape(view.root)
    selected = escape(view.selected.run_id) if view.selected else ""
    nonce = escape(view.nonce)
    scripts = "\n".join(f'<script nonce="{nonce}">{script}</script>' for script in view.scripts)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wfe runs</title>
<link rel="icon" href="data:,">
<style>{view.style}</style>
</head>
<body data-root="{root}" data-mermaid-src="{escape(view.mermaid_src)}" data-run="{selected}">
<header class="top"><h1>wfe</h1>
<p id="notice" role="status" aria-live="polite"></p></header>
<main>
{_runs_section(view)}
{_run_section(view)}
</main>
{scripts}
</body>
</html>
"""

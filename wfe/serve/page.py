"""`GET /` of `wfe serve`: runs, a run's nodes updating live, and its graph.

The HTML is rendered on the server from the JSON API (so it reads without JavaScript);
`static/page.js` then keeps it live through the same API. Script and style are inlined, because
the page may be opened with `?token=` and a `<script src>` could not send that token on.
mermaid.js draws the graph. It ships inside wfe (`static/mermaid.min.js`, its version and sha256
in the README) and is served by wfe itself: the page loads nothing from anywhere else, works
offline, and runs no script a CDN could change. Should it fail to load, the page shows the
Mermaid text.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from wfe.serve.page_api import ApiAnswer, api_get, path_segment
from wfe.serve.page_render import PageView, SelectedRun, node_rows, render_page

__all__ = ["MERMAID_JS", "page_asset", "router"]

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).with_name("static")
MERMAID_JS = STATIC_DIR / "mermaid.min.js"
RUNS_SHOWN = 50


def _page_headers(nonce: str) -> dict[str, str]:
    """The page URL may carry `?token=`, so no Referer is ever sent. Only scripts carrying this
    response's nonce run (the page's own and the mermaid.js it loads); mermaid's SVG needs
    inline styles."""
    return {
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'"
        ),
    }


@cache
def page_asset(name: str) -> str:
    """A script or style sheet from static/, to inline into the page (read once)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def page(request: Request, run: str | None = None) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/") + "/"
    mermaid_src = f"{root}static/mermaid.min.js"
    nonce = secrets.token_urlsafe(18)
    view = PageView(root=root, mermaid_src=mermaid_src, style=page_asset("page.css"),
                    scripts=(page_asset("run_events.js"), page_asset("page.js")), nonce=nonce)
    runs = await api_get(request, "/runs", {"limit": RUNS_SHOWN})
    if runs.ok and isinstance(runs.body, dict):
        view.runs = [r for r in runs.body.get("runs") or () if isinstance(r, dict)]
    else:
        view.runs_problem = runs.detail()
    if run:
        view.selected = await _selected_run(request, run)
    return HTMLResponse(render_page(view), headers=_page_headers(nonce))


async def _selected_run(request: Request, run_id: str) -> SelectedRun:
    selected = SelectedRun(run_id)
    answer = await api_get(request, f"/runs/{path_segment(run_id)}")
    if not answer.ok or not isinstance(answer.body, dict):
        selected.problem = f"Run {run_id} could not be loaded: {answer.detail()}"
        return selected
    selected.document = answer.body
    selected.run_id = str(answer.body.get("run_id") or run_id)  # the full id of a prefix
    workflow = await _workflow(request, str(answer.body.get("workflow", "")))
    graph = workflow.body.get("graph") if isinstance(workflow.body, dict) else None
    selected.nodes = node_rows(answer.body, graph if isinstance(graph, dict) else None)
    if isinstance(workflow.body, dict) and isinstance(workflow.body.get("mermaid"), str):
        selected.mermaid = workflow.body["mermaid"]
    return selected


async def _workflow(request: Request, name: str) -> ApiAnswer:
    if not name:
        return ApiAnswer(404, None)
    return await api_get(request, f"/workflows/{path_segment(name)}")


@router.get("/static/mermaid.min.js")
async def mermaid_js() -> FileResponse:
    """The copy of mermaid.js that ships with wfe; the page loads it for the graph."""
    return FileResponse(MERMAID_JS, media_type="text/javascript",
                        headers={"Cache-Control": "max-age=86400"})

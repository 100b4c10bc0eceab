"""`GET /` of `wfe serve`: runs, a run's nodes updating live, and its graph.

The HTML is rendered on the server from the JSON API (so it reads without JavaScript);
`static/page.js` then keeps it live through the same API. Script and style are inlined, because
the page may be opened with `?token=` and a `<script src>` could not send that token on.
mermaid.js draws the graph when it can be loaded: from a local file when one is configured (the
machine may have no internet), else from the CDN; without it the page shows the Mermaid text.
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from wfe.serve.page_api import ApiAnswer, api_get, path_segment
from wfe.serve.page_render import PageView, SelectedRun, node_rows, render_page

__all__ = ["MERMAID_CDN_URL", "local_mermaid_js", "page_asset", "router"]

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).with_name("static")
MERMAID_CDN_URL = "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.min.js"
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


def local_mermaid_js() -> Path | None:
    """mermaid.min.js from `WFE_MERMAID_JS`, else under `WFE_MERMAID_NODE_MODULES`, if present."""
    candidates = []
    if os.environ.get("WFE_MERMAID_JS"):
        candidates.append(Path(os.environ["WFE_MERMAID_JS"]))
    if os.environ.get("WFE_MERMAID_NODE_MODULES"):
        modules = Path(os.environ["WFE_MERMAID_NODE_MODULES"])
        candidates.append(modules / "mermaid" / "dist" / "mermaid.min.js")
    return next((path for path in candidates if path.is_file()), None)


@router.get("/", response_class=HTMLResponse)
async def page(request: Request, run: str | None = None) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/") + "/"
    mermaid_src = f"{root}static/mermaid.min.js" if local_mermaid_js() else MERMAID_CDN_URL
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
    """The local copy of mermaid.js, when one is configured; the page loads it for the graph."""
    mermaid = local_mermaid_js()
    if mermaid is None:
        raise HTTPException(404, "no local mermaid.js: set WFE_MERMAID_JS")
    return FileResponse(mermaid, media_type="text/javascript",
                        headers={"Cache-Control": "max-age=86400"})

"""The page of `wfe serve` in a real headless Chromium, against a canned stand-in for the API.

Skipped where Playwright for Python or Debian's chromium is not installed. Every request the
browser would send off the loopback interface is aborted, so the tests never reach the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from serve_page_fake_api import FakeApi, ServerThread, run_document  # noqa: E402
from serve_page_support import (  # noqa: E402
    CHROMIUM,
    WAIT_MS,
    Tab,
    launched_chromium,
    node_cell,
    node_status,
    open_tab,
)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed")

XSS_RUN = '<img src=x onerror="window.__xss=1">'
XSS_NODE = "<script>window.__xss=2</script>"
XSS_ERROR = '<img src=x onerror="window.__xss=3">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    opened = open_tab(browser)
    yield opened
    opened.close()
    assert opened.errors == [], "the page's script raised"


@dataclass
class Served:
    api: FakeApi
    url: str


@contextmanager
def serve(api: FakeApi) -> Iterator[Served]:
    with ServerThread(api) as server:
        yield Served(api, server.url)


@pytest.fixture
def served() -> Iterator[Served]:
    api = FakeApi()
    api.add_run(run_document("run-old", status="succeeded",
                              finished_at="2023-11-14T22:13:22.500Z"))
    api.add_run(run_document("run-1"))
    with serve(api) as running:
        yield running


def open_run(tab: Tab, served: Served, run_id: str) -> Any:
    page = tab.page
    page.goto(served.url + "/")
    page.locator("#runs a.run-link", has_text=run_id).click()
    sync_api.expect(page.locator("#run-id")).to_have_text(run_id, timeout=WAIT_MS)
    return page


def test_runs_table_and_a_run_are_readable_without_javascript(browser: Any, served: Served):
    tab = open_tab(browser, javascript=False)
    page = tab.page
    page.goto(served.url + "/")
    runs = page.locator("#runs tbody tr")
    sync_api.expect(runs).to_have_count(2)
    sync_api.expect(runs.first).to_contain_text("run-1")
    page.locator("#runs a.run-link", has_text="run-old").click()
    sync_api.expect(page.locator("#run-id")).to_have_text("run-old")
    sync_api.expect(node_status(page, "fetch")).to_have_text("pending")
    sync_api.expect(page.locator("#graph-text")).to_contain_text("flowchart TD")
    tab.close()


def test_a_runs_nodes_go_from_pending_to_running_to_done_live(tab: Tab, served: Served):
    page = open_run(tab, served, "run-1")
    expect, api = sync_api.expect, served.api
    expect(node_status(page, "fetch")).to_have_text("pending", timeout=WAIT_MS)
    api.emit("run-1", "run_started", workflow="demo", inputs={})
    api.emit("run-1", "node_started", node="fetch", step=1, attempt=1)
    expect(node_status(page, "fetch")).to_have_text("running", timeout=WAIT_MS)
    api.emit("run-1", "node_finished", node="fetch", step=1, duration_ms=1234.0, updates={})
    expect(node_status(page, "fetch")).to_have_text("done", timeout=WAIT_MS)
    expect(node_cell(page, "fetch", 3)).to_have_text("1.23 s")
    expect(node_status(page, "report")).to_have_text("pending")
    api.runs["run-1"].update(status="succeeded", finished_at="2023-11-14T22:13:29.000Z")
    api.emit("run-1", "run_finished", status="succeeded", state={}, duration_ms=9000.0)
    expect(page.locator("#run-summary .status")).to_have_text("succeeded", timeout=WAIT_MS)
    expect(page.locator('#runs tr[data-run-id="run-1"] .status')).to_have_text(
        "succeeded", timeout=WAIT_MS)


def test_a_retried_node_shows_its_attempts_and_its_error(tab: Tab, served: Served):
    page = open_run(tab, served, "run-1")
    api = served.api
    api.emit("run-1", "node_started", node="fetch", step=1, attempt=1)
    api.emit("run-1", "node_failed", node="fetch", step=1, attempt=1,
             error={"type": "OSError", "message": "flaky"})
    api.emit("run-1", "node_started", node="fetch", step=1, attempt=2)
    sync_api.expect(node_status(page, "fetch")).to_have_text("retrying", timeout=WAIT_MS)
    sync_api.expect(node_cell(page, "fetch", 2)).to_have_text("2")
    api.emit("run-1", "node_failed", node="fetch", step=1, attempt=2,
             error={"type": "OSError", "message": "flaky again"})
    sync_api.expect(node_status(page, "fetch")).to_have_text("failed", timeout=WAIT_MS)
    sync_api.expect(node_cell(page, "fetch", 5)).to_have_text("OSError: flaky again")


def test_a_map_nodes_items_are_counted_on_its_row(tab: Tab, served: Served):
    page = open_run(tab, served, "run-1")
    api = served.api
    api.emit("run-1", "node_started", node="each", step=2, attempt=1)
    for index in range(3):
        api.emit("run-1", "node_started", node=f"each[{index}]", step=2, attempt=1)
    api.emit("run-1", "node_finished", node="each[0]", step=2, duration_ms=5.0, updates={})
    api.emit("run-1", "node_failed", node="each[2]", step=2, attempt=1,
             error={"type": "ValueError", "message": "bad item"})
    sync_api.expect(node_cell(page, "each", 4)).to_have_text(
        "1 done · 1 failed · 1 running", timeout=WAIT_MS)
    sync_api.expect(page.locator('#nodes tr[data-node^="each["]')).to_have_count(0)


def test_branch_rows_follow_their_parent_node(tab: Tab, served: Served):
    page = open_run(tab, served, "run-1")
    for node in ("each", "each/lint", "each/types"):
        served.api.emit("run-1", "node_started", node=node, step=2, attempt=1)
    rows = page.locator("#nodes tbody tr")
    sync_api.expect(rows).to_have_count(5, timeout=WAIT_MS)
    names = [row.get_attribute("data-node") for row in rows.all()]
    assert names == ["fetch", "each", "each/lint", "each/types", "report"]


def test_user_data_with_markup_is_shown_as_text(tab: Tab):
    api = FakeApi()
    api.add_run(run_document(XSS_RUN, error={"node": XSS_NODE, "type": "ValueError",
                                             "message": XSS_ERROR}))
    with serve(api) as served:
        page = tab.page
        page.goto(served.url + "/")
        link = page.locator("#runs a.run-link").first
        sync_api.expect(link).to_have_text(XSS_RUN)
        link.click()
        api.emit(XSS_RUN, "node_started", node=XSS_NODE, step=1, attempt=1)
        api.emit(XSS_RUN, "node_failed", node=XSS_NODE, step=1, attempt=1,
                 error={"type": "ValueError", "message": XSS_ERROR})
        row = page.locator("#nodes tbody tr").filter(has_text=XSS_NODE)
        sync_api.expect(row.locator("td").nth(5)).to_have_text(
            f"ValueError: {XSS_ERROR}", timeout=WAIT_MS)
        sync_api.expect(page.locator(".run-error")).to_have_text(f"ValueError: {XSS_ERROR}")
        assert page.evaluate("window.__xss") is None
        assert page.locator("main img, main script").count() == 0


def test_the_graph_falls_back_to_the_mermaid_text_when_mermaid_js_cannot_load(
        tab: Tab, served: Served):
    tab.page.route("**/static/mermaid.min.js", lambda route: route.fulfill(status=404))
    page = open_run(tab, served, "run-1")
    graph = page.locator("#graph")
    sync_api.expect(graph.locator(".hint")).to_contain_text("Mermaid text", timeout=WAIT_MS)
    sync_api.expect(graph.locator("pre")).to_contain_text("n_fetch --> n_each")
    assert graph.get_attribute("data-rendered") == "text"


def test_the_graph_is_drawn_as_svg_by_the_mermaid_js_that_ships_with_wfe_offline(
        tab: Tab, served: Served):
    page = open_run(tab, served, "run-1")
    sync_api.expect(page.locator("#graph svg")).to_have_count(1, timeout=WAIT_MS)
    sync_api.expect(page.locator("#graph svg")).to_contain_text("report")
    served.api.emit("run-1", "node_started", node="fetch", step=1, attempt=1)
    sync_api.expect(page.locator('#graph g.node[data-status="running"]')).to_have_count(
        1, timeout=WAIT_MS)
    assert tab.aborted == []  # nothing was asked of any other host


def test_with_a_token_the_page_works_when_opened_with_it(tab: Tab):
    api = FakeApi(token="s3cret")
    api.add_run(run_document("run-1"))
    with serve(api) as served:
        page = tab.page
        page.goto(served.url + "/?token=s3cret")
        sync_api.expect(page.locator("#runs tbody tr")).to_have_count(1)
        sync_api.expect(page).not_to_have_url(re.compile("token"), timeout=WAIT_MS)
        assert page.evaluate("sessionStorage.getItem('wfe-token')") == "s3cret"
        api.add_run(run_document("run-2"))  # only the page's own fetch, with the header, finds it
        link = page.locator("#runs a.run-link", has_text="run-2")
        sync_api.expect(link).to_have_count(1, timeout=WAIT_MS)
        link.click()
        api.emit("run-2", "node_started", node="fetch", step=1, attempt=1)
        sync_api.expect(node_status(page, "fetch")).to_have_text("running", timeout=WAIT_MS)


def test_the_page_says_so_when_the_api_stops_accepting_its_token(
        tab: Tab):
    api = FakeApi(token="s3cret")
    api.add_run(run_document("run-1"))
    with serve(api) as served:
        page = tab.page
        page.goto(served.url + "/?token=s3cret")
        sync_api.expect(page.locator("#runs tbody tr")).to_have_count(1)
        api.token = "rotated"
        sync_api.expect(page.locator("#notice")).to_contain_text(
            "Runs could not be loaded: 401", timeout=WAIT_MS)

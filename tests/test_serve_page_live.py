"""The page against the real `wfe serve` (a subprocess on a free loopback port, with a token),
in a real headless Chromium. Skipped without Playwright, chromium, FastAPI or uvicorn.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx")
sync_api = pytest.importorskip("playwright.sync_api")

from serve_page_support import (  # noqa: E402
    CHROMIUM,
    WAIT_MS,
    Tab,
    launched_chromium,
    node_cell,
    node_status,
    open_tab,
)
from serve_support import ServerProcess, start_server, wait_for_status  # noqa: E402

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed")

TOKEN = "page-test-token"
MARKUP_ERROR = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'

TOOLS = f'''
import pathlib
import time

from wfe import tool


@tool
def prepare() -> dict:
    return {{"prepared": True}}


@tool
def wait_for_file(release: str) -> dict:
    """Blocks until `release` exists: the test decides when this node finishes."""
    deadline = time.monotonic() + 120
    while not pathlib.Path(release).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.02)
    return {{"released": True}}


@tool
def finish() -> dict:
    return {{"finished": True}}


@tool
def explode() -> dict:
    raise ValueError({MARKUP_ERROR!r})
'''

GATED = """
name: gated
description: Prepare, wait for a file, finish.
imports: [page_tools]
state:
  release: {type: str, required: true}
  prepared: {type: bool, default: false}
  released: {type: bool, default: false}
  finished: {type: bool, default: false}
nodes:
  prepare: {tool: prepare, next: wait}
  wait: {tool: wait_for_file, next: finish}
  finish: {tool: finish}
"""

BROKEN = """
name: broken
imports: [page_tools]
nodes:
  explode: {tool: explode}
"""


@dataclass
class Live:
    server: ServerProcess
    folder: Path

    def start_run(self, workflow: str, inputs: dict[str, Any]) -> str:
        with self.server.client(TOKEN) as client:
            answer = client.post("/runs", json={"workflow": workflow, "inputs": inputs})
            assert answer.status_code == 202, answer.text
            return str(answer.json()["run_id"])

    def wait_until_finished(self, run_id: str) -> dict[str, Any]:
        with self.server.client(TOKEN) as client:
            return wait_for_status(client, run_id, headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("serve-page")
    folder = root / "workflows"
    folder.mkdir()
    (folder / "page_tools.py").write_text(textwrap.dedent(TOOLS))
    (folder / "gated.yaml").write_text(textwrap.dedent(GATED))
    (folder / "broken.yaml").write_text(textwrap.dedent(BROKEN))
    server = start_server(root, str(folder), "--token", TOKEN, "--store", str(root / "wfe.db"))
    try:
        yield Live(server, root)
    finally:
        server.stop()


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


def open_run(tab: Tab, live: Live, run_id: str) -> Any:
    page = tab.page
    page.goto(f"{live.server.url}/?token={TOKEN}")
    link = page.locator("#runs a.run-link", has_text=run_id)
    sync_api.expect(link).to_have_count(1, timeout=WAIT_MS)
    link.click()
    sync_api.expect(page.locator("#run-id")).to_have_text(run_id, timeout=WAIT_MS)
    return page


def test_a_run_started_over_the_api_goes_from_running_to_done_live_on_the_page(
        tab: Tab, live: Live, tmp_path: Path):
    release = tmp_path / "release"
    run_id = live.start_run("gated", {"release": str(release)})
    page = open_run(tab, live, run_id)
    expect = sync_api.expect
    expect(node_status(page, "prepare")).to_have_text("done", timeout=WAIT_MS)
    expect(node_status(page, "wait")).to_have_text("running", timeout=WAIT_MS)
    expect(node_status(page, "finish")).to_have_text("pending")
    release.touch()
    expect(node_status(page, "wait")).to_have_text("done", timeout=WAIT_MS)
    expect(node_status(page, "finish")).to_have_text("done", timeout=WAIT_MS)
    expect(node_cell(page, "wait", 2)).to_have_text("1")
    expect(page.locator("#run-summary .status")).to_have_text("succeeded", timeout=WAIT_MS)
    expect(page.locator(f'#runs tr[data-run-id="{run_id}"] .status')).to_have_text(
        "succeeded", timeout=WAIT_MS)
    graph = page.locator("#graph")
    expect(graph.locator("svg")).to_have_count(1, timeout=WAIT_MS)
    expect(graph.locator('g.node[data-status="done"]')).to_have_count(3, timeout=WAIT_MS)
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    assert (tmp_path / "page.png").stat().st_size > 0
    assert tab.aborted == []


def test_the_page_keeps_the_token_for_its_own_requests_and_out_of_the_address_bar(
        tab: Tab, live: Live):
    page = tab.page
    page.goto(f"{live.server.url}/?token={TOKEN}")
    sync_api.expect(page).not_to_have_url(f"{live.server.url}/?token={TOKEN}", timeout=WAIT_MS)
    assert "token" not in page.url
    run_id = live.start_run("gated", {"release": str(live.folder / "released-already")})
    (live.folder / "released-already").touch()
    # Listed by the page's own refresh, which carries the token as a header.
    sync_api.expect(page.locator("#runs a.run-link", has_text=run_id)).to_have_count(
        1, timeout=WAIT_MS)


def test_without_the_token_the_server_refuses_the_page(tab: Tab, live: Live):
    answer = tab.page.goto(live.server.url + "/")
    assert answer is not None and answer.status == 401


def test_an_error_message_with_markup_is_shown_as_text(tab: Tab, live: Live):
    run_id = live.start_run("broken", {})
    assert live.wait_until_finished(run_id)["status"] == "failed"
    page = open_run(tab, live, run_id)
    expected = f"ValueError: {MARKUP_ERROR}"
    sync_api.expect(node_cell(page, "explode", 5)).to_have_text(expected, timeout=WAIT_MS)
    sync_api.expect(page.locator(".run-error")).to_contain_text(expected)
    page.goto(f"{live.server.url}/?token={TOKEN}&run={run_id}")  # the server-rendered view
    sync_api.expect(page.locator(".run-error")).to_contain_text(expected)
    assert page.evaluate("window.__xss") is None
    assert page.locator("main img, main script").count() == 0

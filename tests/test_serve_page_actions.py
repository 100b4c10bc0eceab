"""The page acting on a real `wfe serve` (with a token), in headless Chromium at a desktop
(1280 px) and a phone (390 px) width: start, cancel, resume and re-run from the page, the step
panel, deep links and rows that keep keyboard focus. Screenshots go to the test's tmp_path.
Skipped without Playwright, chromium, FastAPI or uvicorn.
"""

from __future__ import annotations

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
from serve_support import ServerProcess, start_server, wait_for_status, write_served  # noqa: E402

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed")

TOKEN = "page-actions-token"
WIDTHS = {"desktop": 1280, "phone": 390}
expect = sync_api.expect


@dataclass
class Live:
    server: ServerProcess
    folder: Path

    def api(self, method: str, path: str, body: Any = None) -> Any:
        with self.server.client(TOKEN) as client:
            answer = client.request(method, path, json=body)
            assert answer.status_code < 300, answer.text
            return answer.json()

    def finished(self, workflow: str, **inputs: Any) -> str:
        run_id = str(self.api("POST", "/runs", {"workflow": workflow, "inputs": inputs})["run_id"])
        with self.server.client(TOKEN) as client:
            wait_for_status(client, run_id)
        return run_id


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("serve-page-actions")
    folder = write_served(root)
    server = start_server(root, str(folder), "--token", TOKEN, "--store", str(root / "wfe.db"))
    try:
        yield Live(server, root)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as launched:
        yield launched


@pytest.fixture(params=list(WIDTHS))
def tab(request: pytest.FixtureRequest, browser: Any) -> Iterator[Tab]:
    opened = open_tab(browser)
    opened.page.set_viewport_size({"width": WIDTHS[request.param], "height": 860})
    yield opened
    opened.close()
    assert opened.errors == [], "the page's script raised"
    assert opened.aborted == []


def open_page(tab: Tab, live: Live, query: str = "") -> Any:
    tab.page.goto(f"{live.server.url}/?token={TOKEN}{query}")
    return tab.page


def test_a_run_started_from_the_run_form_is_cancelled_from_the_page(
        tab: Tab, live: Live, tmp_path: Path):
    page = open_page(tab, live)
    page.locator('#workflows li[data-workflow="blocking"] button').click()
    form = page.locator('#workflows li[data-workflow="blocking"] form')
    form.locator('input[name="release"]').fill(str(tmp_path / "never"))
    form.locator('input[name="released"][type="checkbox"]').wait_for()
    form.get_by_role("button", name="Start run").click()
    expect(node_status(page, "wait")).to_have_text("running", timeout=WAIT_MS)
    expect(page.locator("#run")).to_be_in_viewport()
    summary = page.locator("#run-summary")
    expect(summary).not_to_have_text(summary.inner_text(), timeout=WAIT_MS)  # it ticks
    expect(page).to_have_title("running · " + page.locator("#run-id").inner_text() + " · wfe")
    page.screenshot(path=str(tmp_path / "running.png"), full_page=True)
    page.locator("#run-actions").get_by_role("button", name="Cancel").click()
    expect(page.locator("#run-summary .status")).to_have_text("cancelled", timeout=WAIT_MS)
    expect(page).to_have_title(f"cancelled · {page.locator('#run-id').inner_text()} · wfe")


def test_a_waiting_run_shows_its_message_and_resumes_with_what_it_expects(
        tab: Tab, live: Live, tmp_path: Path):
    run_id = live.finished("approval")
    page = open_page(tab, live, f"&run={run_id}")
    expect(node_status(page, "approve")).to_have_text("waiting", timeout=WAIT_MS)
    form = page.locator("#run-actions form", has_text="Ship it?")
    expect(form).to_be_visible(timeout=WAIT_MS)
    page.screenshot(path=str(tmp_path / "waiting.png"), full_page=True)
    form.locator('input[name="approved"]').check()
    form.get_by_role("button", name="Resume").click()
    expect(page.locator("#run-summary .status")).to_have_text("succeeded", timeout=WAIT_MS)
    expect(node_status(page, "again")).to_have_text("done", timeout=WAIT_MS)


def test_the_step_panel_shows_a_nodes_visits_updates_logs_and_states(
        tab: Tab, live: Live, tmp_path: Path):
    run_id = live.finished("counter", n=2)
    page = open_page(tab, live, f"&run={run_id}")
    expect(node_cell(page, "tick", "Visits")).to_have_text("2", timeout=WAIT_MS)
    page.locator('#nodes a.node-link', has_text="tick").click()
    panel = page.locator("#step-panel")
    expect(panel.locator("article")).to_have_count(2, timeout=WAIT_MS)
    expect(panel.locator("article").first).to_contain_text('"i": 1')
    expect(panel.locator(".logs li")).to_have_count(2)
    expect(panel.locator(".logs li").nth(1)).to_contain_text("tick 1")
    expect(panel.locator("article table.state-diff")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator('#timeline .track[data-lane="tick"] .bar')).to_have_count(2)
    page.screenshot(path=str(tmp_path / "panel.png"), full_page=True)


def test_a_deep_link_opens_the_run_and_the_step(tab: Tab, live: Live):
    run_id = live.finished("counter", n=2)
    page = open_page(tab, live, f"&run={run_id}#step=2")
    expect(page.locator("#step-panel article#step-2")).to_have_attribute(
        "aria-current", "true", timeout=WAIT_MS)
    expect(page.locator("#step-heading")).to_contain_text("Node tick")


def test_a_rerun_from_a_node_with_an_edit_starts_a_linked_run(tab: Tab, live: Live):
    old = live.finished("counter", n=1)
    page = open_page(tab, live, f"&run={old}")
    page.locator("#run-actions summary", has_text="Re-run").click()
    form = page.locator("#rerun-form")
    form.locator('select[name="node"]').select_option("tick")
    form.locator('input[name="n"]').fill("3")
    form.get_by_role("button", name="Re-run").click()
    expect(page.locator("#run-id")).not_to_have_text(old, timeout=WAIT_MS)
    expect(page.locator("#run-summary .status")).to_have_text("succeeded", timeout=WAIT_MS)
    new = page.locator("#run-id").inner_text()
    document = live.api("GET", f"/runs/{new}")
    assert (document["parent_run_id"], document["state"]["i"]) == (old, 3)


def state_row(article: Any, key: str) -> Any:
    return article.locator("table.state-diff tr", has=article.page.locator(f'th:text-is("{key}")'))


def test_each_step_shows_the_state_after_it_with_the_keys_it_changed(
        tab: Tab, live: Live, tmp_path: Path):
    run_id = live.finished("counter", n=2)
    page = open_page(tab, live, f"&run={run_id}#node=tick")
    articles = page.locator("#step-panel article")
    expect(articles.locator("table.state-diff")).to_have_count(2, timeout=WAIT_MS)
    for index, after in enumerate(("1", "2")):
        changed = state_row(articles.nth(index), "i")
        expect(changed).to_have_attribute("data-change", "changed")
        expect(changed.locator("code")).to_have_text(after)
        expect(changed).to_contain_text(f"was {int(after) - 1}")
        expect(state_row(articles.nth(index), "n")).not_to_have_attribute("data-change", "changed")
    page.screenshot(path=str(tmp_path / "states.png"), full_page=True)


def test_a_key_a_step_adds_is_marked_added(tab: Tab, live: Live):
    run_id = live.finished("approval")
    live.api("POST", f"/runs/{run_id}/resume", {"inputs": {"approved": True}})
    with live.server.client(TOKEN) as client:
        wait_for_status(client, run_id)
    page = open_page(tab, live, f"&run={run_id}#node=approve")
    added = state_row(page.locator("#step-panel article").first, "approved")
    expect(added).to_have_attribute("data-change", "added", timeout=WAIT_MS)
    expect(added.locator(".sign")).to_have_text("+")


@pytest.mark.parametrize("edit", ["field", "json"])
def test_a_fork_from_a_step_with_an_edit_starts_a_linked_run_and_follows_it(
        tab: Tab, live: Live, tmp_path: Path, edit: str):
    old = live.finished("counter", n=2)
    page = open_page(tab, live, f"&run={old}#node=tick")
    first = page.locator("#step-panel article#step-1")
    first.get_by_role("button", name="Fork from here…").click(timeout=WAIT_MS)
    form = first.locator("form.fork")
    if edit == "field":
        form.locator('input[name="n"]').fill("4")
    else:
        form.locator("textarea:not([name])").fill('{"n": 4}')
    page.screenshot(path=str(tmp_path / "fork-form.png"), full_page=True)
    form.get_by_role("button", name="Fork").click()
    expect(page.locator("#run-id")).not_to_have_text(old, timeout=WAIT_MS)
    expect(page.locator("#run-summary .status")).to_have_text("succeeded", timeout=WAIT_MS)
    document = live.api("GET", f"/runs/{page.locator('#run-id').inner_text()}")
    assert (document["parent_run_id"], document["state"]["i"]) == (old, 4)
    assert [step["step"] for step in document["steps"]] == [2, 3, 4]


def test_a_fork_with_edits_that_are_not_a_json_object_says_so_under_its_form(
        tab: Tab, live: Live):
    old = live.finished("counter", n=1)
    page = open_page(tab, live, f"&run={old}#node=tick")
    first = page.locator("#step-panel article#step-1")
    first.get_by_role("button", name="Fork from here…").click(timeout=WAIT_MS)
    form = first.locator("form.fork")
    form.locator("textarea:not([name])").fill("[1, 2]")
    form.get_by_role("button", name="Fork").click()
    expect(form.locator(".problem")).to_contain_text("a JSON object", timeout=WAIT_MS)
    expect(page.locator("#run-id")).to_have_text(old)


def test_a_refresh_of_the_runs_keeps_keyboard_focus_and_the_filter(tab: Tab, live: Live):
    kept = live.finished("counter", n=0)
    page = open_page(tab, live, "&workflow=counter")
    link = page.locator(f'#runs a.run-link[data-run-id="{kept}"]')
    link.focus()
    newer = live.finished("counter", n=0)
    live.finished("approval")  # filtered out
    expect(page.locator(f'#runs tr[data-run-id="{newer}"]')).to_have_count(1, timeout=WAIT_MS)
    assert page.evaluate("document.activeElement.dataset.runId") == kept
    workflows = page.locator("#runs tbody tr td[data-label='Workflow']").all_inner_texts()
    assert set(workflows) == {"counter"}


def test_a_value_the_schema_refuses_is_answered_under_the_run_form(tab: Tab, live: Live):
    page = open_page(tab, live)
    page.locator('#workflows li[data-workflow="counter"] button').click()
    form = page.locator('#workflows li[data-workflow="counter"] form')
    expect(form.locator('input[name="n"]')).to_have_attribute("placeholder", "3")
    form.locator('input[name="n"]').fill("1.5")
    assert form.evaluate("(form) => form.checkValidity()") is False  # an int is whole
    form.locator('input[name="n"]').fill("1e23")  # whole, but JSON sends it as a float
    form.get_by_role("button", name="Start run").click()
    expect(form.locator(".problem")).to_contain_text("422: ", timeout=WAIT_MS)
    expect(form.locator(".problem")).to_contain_text("'n'")

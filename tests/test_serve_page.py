"""`GET /` of `wfe serve` as HTML: rendered on the server from the JSON API, escaped, with
the copy of mermaid.js that ships with wfe and nothing from elsewhere. (The browser tests are in
test_serve_page_browser.py and test_serve_page_live.py.)
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from serve_page_fake_api import FakeApi, make_app, run_document

from wfe.serve import page
from wfe.serve.page_render import node_rows

MARKUP = '<script>alert("x")</script>'
ESCAPED_MARKUP = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


@pytest.fixture
def api() -> FakeApi:
    fake = FakeApi()
    fake.add_run(run_document("run-old", status="succeeded",
                              finished_at="2023-11-14T22:13:22.500Z"))
    fake.add_run(run_document("run-1"))
    return fake


@pytest.fixture
def client(api: FakeApi) -> Iterator[TestClient]:
    with TestClient(make_app(api)) as test_client:
        yield test_client


def run_ids_listed(html: str) -> list[str]:
    return re.findall(r'<tr data-run-id="([^"]*)"', html)


def test_the_runs_table_is_rendered_on_the_server_newest_first(client: TestClient):
    html = client.get("/").text
    assert run_ids_listed(html) == ["run-1", "run-old"]
    assert 'href="/?run=run-old"' in html
    assert "<td>2.50 s</td>" in html and "<td>2023-11-14 22:13:20</td>" in html
    assert '<p id="runs-empty" hidden>' in html
    assert '<section class="run" id="run" aria-labelledby="run-heading" hidden>' in html


def test_an_empty_store_says_so(monkeypatch: pytest.MonkeyPatch):
    with TestClient(make_app(FakeApi())) as empty:
        assert '<p id="runs-empty">No runs in this store yet.</p>' in empty.get("/").text


@pytest.mark.parametrize("field", ["run_id", "workflow"])
def test_user_data_in_the_runs_table_is_escaped(api: FakeApi, client: TestClient, field: str):
    api.add_run({**run_document("plain"), field: MARKUP})
    html = client.get("/").text
    assert MARKUP not in html
    assert ESCAPED_MARKUP in html


def test_a_selected_run_is_rendered_with_its_nodes_and_graph_text(
        api: FakeApi, client: TestClient):
    api.runs["run-1"].update(next_node="each", step=1, steps=[
        {"step": 1, "node": "fetch", "attempt": 2, "duration_ms": 1234.0,
         "outcome": "succeeded", "error": None, "items": None}])
    html = client.get("/", params={"run": "run-1"}).text
    assert '<code id="run-id">run-1</code>' in html
    assert '<tr data-run-id="run-1" aria-current="true">' in html
    assert re.findall(r'<tr data-node="([^"]*)">', html) == ["fetch", "each", "report"]
    assert ('<tr data-node="fetch"><td>fetch</td><td><span class="status" data-status="done">'
            "done</span></td><td>2</td><td>1.23 s</td>") in html
    assert 'data-status="running">running</span>' in html
    assert "n_fetch --&gt; n_each" in html


def test_a_selected_runs_error_is_escaped(api: FakeApi, client: TestClient):
    api.runs["run-1"]["error"] = {"node": "each", "type": "ValueError", "message": MARKUP}
    html = client.get("/", params={"run": "run-1"}).text
    assert MARKUP not in html
    assert f'<p class="run-error">ValueError: {ESCAPED_MARKUP}</p>' in html


def test_an_unknown_run_is_reported_on_the_page(client: TestClient):
    html = client.get("/", params={"run": "nope"}).text
    assert "Run nope could not be loaded: 404: no run &#x27;nope&#x27;" in html


def test_an_api_error_is_shown_instead_of_the_runs(api: FakeApi, client: TestClient):
    api.runs_failure = "the store is locked"
    answer = client.get("/")
    assert answer.status_code == 200
    assert "Runs could not be loaded: 503: the store is locked" in answer.text


@pytest.mark.parametrize("how", ["query", "header"])
def test_the_page_reads_the_api_with_the_token_it_was_given(how: str):
    api = FakeApi(token="s3cret")
    api.add_run(run_document("run-1"))
    with TestClient(make_app(api)) as client:
        if how == "query":
            answer = client.get("/", params={"token": "s3cret"})
        else:
            answer = client.get("/", headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 200
    assert run_ids_listed(answer.text) == ["run-1"]


def test_the_page_is_not_part_of_the_api_schema(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/static/mermaid.min.js" not in paths


def csp_nonce(answer: Any) -> str:
    found = re.search(r"script-src 'nonce-([^']+)'", answer.headers["content-security-policy"])
    assert found is not None
    return found.group(1)


def test_the_page_sends_no_referrer_and_runs_only_its_own_scripts(client: TestClient):
    first, second = client.get("/"), client.get("/")
    assert first.headers["referrer-policy"] == "no-referrer"
    assert first.headers["cache-control"] == "no-store"
    nonce = csp_nonce(first)
    assert re.findall(r"<script[^>]*>", first.text) == [f'<script nonce="{nonce}">'] * 2
    assert csp_nonce(second) != nonce


@pytest.mark.parametrize(("asset", "closing_tag"), [("page.js", "</script"),
                                                    ("run_events.js", "</script"),
                                                    ("page.css", "</style")])
def test_the_inlined_assets_never_close_their_own_tag(asset: str, closing_tag: str):
    assert closing_tag not in page.page_asset(asset).lower()


@pytest.mark.parametrize("script", ["page.js", "run_events.js"])
def test_the_page_scripts_parse(script: str):
    node = shutil.which("node") or pytest.skip("node is not installed")
    checked = subprocess.run([node, "--check", str(page.STATIC_DIR / script)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


def test_the_page_loads_mermaid_from_the_server_and_nothing_from_elsewhere(
        client: TestClient):
    answer = client.get("/")
    assert 'data-mermaid-src="/static/mermaid.min.js"' in answer.text
    assert re.findall(r"https?://[^\s\"'<>]*", answer.text) == []
    served = client.get("/static/mermaid.min.js")
    assert served.status_code == 200
    assert served.content == page.MERMAID_JS.read_bytes()
    assert served.headers["content-type"].startswith("text/javascript")


def test_the_vendored_mermaid_js_is_the_one_the_readme_records():
    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text().split())
    recorded = re.search(r"mermaid (\d+\.\d+\.\d+) \(npm `mermaid`, `dist/mermaid\.min\.js`, "
                         r"MIT licence[^)]*\), sha256 `([0-9a-f]{64})`", readme)
    assert recorded is not None, "README: the vendored mermaid's version and sha256"
    version, digest = recorded.groups()
    shipped = page.MERMAID_JS.read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == digest
    assert f'"{version}"'.encode() in shipped or version.encode() in shipped
    assert "MIT License" in (page.STATIC_DIR / "mermaid.LICENSE").read_text()


GRAPH = {"nodes": [{"id": "a", "kind": "tool"}, {"id": "m", "kind": "map"},
                   {"id": "end", "kind": "end"}]}


def step(node: str, **fields: Any) -> dict[str, Any]:
    return {"step": 1, "node": node, "attempt": 1, "duration_ms": 10.0, "outcome": "succeeded",
            "error": None, "items": None, **fields}


@pytest.mark.parametrize(("run", "expected"), [
    pytest.param({}, [("a", "pending"), ("m", "pending")], id="nothing-ran-yet"),
    pytest.param({"steps": [step("a")]}, [("a", "done"), ("m", "pending")], id="a-step-is-done"),
    pytest.param({"status": "running", "next_node": "m", "steps": [step("a")]},
                 [("a", "done"), ("m", "running")], id="the-next-node-of-a-running-run"),
    pytest.param({"status": "running", "next_node": "end", "steps": [step("a"), step("m")]},
                 [("a", "done"), ("m", "done")], id="a-run-about-to-finish"),
    pytest.param({"steps": [step("a", outcome="routed",
                                 error={"type": "E", "message": "m"})]},
                 [("a", "failed"), ("m", "pending")], id="a-routed-failure"),
    pytest.param({"status": "failed", "error": {"node": "m", "type": "E", "message": "x"}},
                 [("a", "pending"), ("m", "failed")], id="the-node-that-failed-the-run"),
    pytest.param({"status": "waiting", "waiting": {"node": "ask"}},
                 [("a", "pending"), ("m", "pending"), ("ask", "waiting")],
                 id="a-waiting-node-outside-the-graph-list"),
])
def test_node_rows_follow_the_graph_and_the_recorded_steps(
        run: dict[str, Any], expected: list[tuple[str, str]]):
    rows = node_rows(run, GRAPH)
    assert [(row.name, row.status) for row in rows] == expected


def test_node_rows_count_a_map_steps_items():
    items = [{"index": 0, "status": "succeeded"}, {"index": 1, "status": "failed"},
             {"index": 2, "status": "succeeded"}]
    rows = node_rows({"steps": [step("m", items=items)]}, GRAPH)
    assert rows[1].items == "1 failed · 2 succeeded"

"""`wfe serve` routes, in process: the documents, errors, auth, limits and posted workflows."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402
from serve_support import wait_for_status, write_served  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from wfe.cli import app as cli  # noqa: E402
from wfe.serve.app import create_app  # noqa: E402
from wfe.serve.config import ServeConfig  # noqa: E402

TOKEN = "s3cret-token"


def make_client(root: Path, **settings: object) -> TestClient:
    served = write_served(root)
    config = ServeConfig(paths=(served,), store=root / ".wfe" / "wfe.db", **settings)
    return TestClient(create_app(config), base_url="http://127.0.0.1:8321")


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.chdir(tmp_path)
    with make_client(tmp_path) as test_client:
        yield test_client


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    return str(tmp_path / ".wfe" / "wfe.db")


def start(client: TestClient, workflow: str = "counter", **inputs: object) -> str:
    response = client.post("/runs", json={"workflow": workflow, "inputs": inputs})
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


# --- workflows -------------------------------------------------------------------------------


def test_workflows_are_listed_with_their_nodes(client: TestClient) -> None:
    listed = {w["name"]: w for w in client.get("/workflows").json()["workflows"]}
    assert set(listed) == {"counter", "approval", "blocking"}
    assert listed["counter"] == {"name": "counter", "path": "workflows/counter.yaml",
                                 "description": "Count to n, one tick at a time.",
                                 "nodes": ["tick"]}


def test_a_workflow_comes_with_its_source_and_the_graph_wfe_graph_draws(
        client: TestClient, tmp_path: Path) -> None:
    document = client.get("/workflows/counter").json()
    runner = CliRunner()
    file = str(tmp_path / "workflows" / "counter.yaml")
    as_json = runner.invoke(cli, ["graph", file, "--format", "json"]).stdout
    mermaid = runner.invoke(cli, ["graph", file, "--format", "mermaid"]).stdout
    assert document["source"] == (tmp_path / "workflows" / "counter.yaml").read_text()
    assert document["graph"] == json.loads(as_json)
    assert document["mermaid"] == mermaid


def test_an_unknown_workflow_is_a_404_naming_it(client: TestClient) -> None:
    response = client.get("/workflows/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "no workflow 'nope' is served here"}


def test_an_invalid_served_file_is_a_422_with_its_problems_at_line_and_col(
        client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "workflows" / "broken.yaml").write_text("nodes:\n  a: {tool: nope}\n")
    response = client.get("/workflows/broken")
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem == {"file": "workflows/broken.yaml", "line": 2, "col": 13, "code": "WFE030",
                       "message": problem["message"]}
    assert "unknown tool 'nope'" in problem["message"]
    assert "broken" not in [w["name"] for w in client.get("/workflows").json()["workflows"]]


POSTED = """
name: posted
imports: [serve_tools]
state:
  i: {type: int, default: 0}
  delay: {type: float, default: 0.0}
nodes:
  once: {tool: tick}
"""


def post_yaml(client: TestClient, text: str) -> httpx.Response:
    return client.post("/workflows", content=textwrap.dedent(text).encode(),
                       headers={"content-type": "application/yaml"})


def test_a_posted_workflow_is_kept_beside_the_store_and_can_run(
        client: TestClient, tmp_path: Path) -> None:
    response = post_yaml(client, POSTED)
    assert response.status_code == 201, response.text
    assert (tmp_path / ".wfe" / "workflows" / "posted.yaml").is_file()
    run_id = start(client, "posted")
    assert wait_for_status(client, run_id)["state"]["i"] == 1


def test_posting_a_name_already_served_is_a_409(client: TestClient) -> None:
    response = post_yaml(client, POSTED.replace("name: posted", "name: counter"))
    assert response.status_code == 409
    assert "already served" in response.json()["detail"]


@pytest.mark.parametrize(("text", "code", "needle", "line"), [
    (POSTED.replace("[serve_tools]", "[serve_tools, os]"), "WFE033", "tool module 'os' is not "
     "allowed", 3),
    (POSTED.replace("once: {tool: tick}", "once: {workflow: /etc/hosts.yaml}"), "WFE070",
     "outside the folders this server serves", 8),
    (POSTED.replace("once: {tool: tick}", "once: {parallel: {b: {workflow: /etc/hosts.yaml}}}"),
     "WFE070", "outside the folders this server serves", 8),
    (POSTED.replace("once: {tool: tick}", "once: {tool: tock}"), "WFE030", "unknown tool 'tock'",
     8),
    (POSTED.replace("name: posted", "name: 'no/slash'"), "WFE011", "name 'no/slash'", 2),
    ("nodes: [unclosed\n", "WFE002", "", 2),
])
def test_an_invalid_posted_workflow_is_a_422_naming_the_module_path_or_problem(
        client: TestClient, tmp_path: Path, text: str, code: str, needle: str,
        line: int) -> None:
    response = post_yaml(client, text)
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [p["code"] for p in problems] == [code]
    assert needle in problems[0]["message"]
    assert (problems[0]["file"], problems[0]["line"]) == ("body", line)
    assert not (tmp_path / ".wfe" / "workflows" / "posted.yaml").exists()


def test_a_posted_workflow_is_never_imported_before_its_modules_are_checked(
        client: TestClient, tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    evil = tmp_path / ".wfe" / "workflows"
    evil.mkdir(parents=True)
    (evil / "evil_tools.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    response = post_yaml(client, POSTED.replace("[serve_tools]", "[evil_tools]"))
    assert response.status_code == 422
    assert not marker.exists()


# --- runs ------------------------------------------------------------------------------------


def test_a_run_started_over_http_is_stored_as_the_cli_shows_it(
        client: TestClient, store_path: str) -> None:
    run_id = start(client, n=2)
    document = wait_for_status(client, run_id)
    assert document["status"] == "succeeded" and document["state"]["i"] == 2
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", run_id, "--json", "--store", store_path])
    assert json.loads(shown.stdout) == document
    listed = runner.invoke(cli, ["runs", "--json", "--store", store_path])
    assert json.loads(listed.stdout) == client.get("/runs").json()["runs"]


def test_runs_list_newest_first_and_filter_by_status(client: TestClient) -> None:
    first, second = start(client), start(client)
    for run_id in (first, second):
        wait_for_status(client, run_id)
    ids = [r["run_id"] for r in client.get("/runs").json()["runs"]]
    assert ids == [second, first]
    assert client.get("/runs", params={"status": "failed"}).json() == {"runs": []}
    assert len(client.get("/runs", params={"limit": 1}).json()["runs"]) == 1


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"workflow": "nope"}, 404, "no workflow 'nope' is served here"),
    ({"workflow": "counter", "inputs": {"n": "3"}}, 422, "n"),
    ({"workflow": "counter", "inputs": {"bogus": 1}}, 422, "bogus"),
    ({"workflow": "counter", "extra": 1}, 422, "body.extra"),
    ({"workflow": 7}, 422, "body.workflow"),
    ({}, 422, "body.workflow"),
])
def test_a_bad_start_request_is_refused_with_a_one_line_detail(
        client: TestClient, body: dict[str, object], status: int, detail: str) -> None:
    response = client.post("/runs", json=body)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert "\n" not in response.json()["detail"]


def test_an_input_error_names_its_key(client: TestClient) -> None:
    response = client.post("/runs", json={"workflow": "counter", "inputs": {"n": "three"}})
    assert response.json()["key"] == "n"


@pytest.mark.parametrize(("path", "status"), [
    ("/runs/zzzz", 404), ("/runs/zzzz/events", 404), ("/runs?status=bogus", 422),
    ("/runs?limit=0", 422), ("/runs?limit=x", 422),
])
def test_bad_run_lookups_are_client_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)


def test_a_waiting_run_resumes_with_the_answers_it_expects(client: TestClient) -> None:
    run_id = start(client, "approval")
    waiting = wait_for_status(client, run_id)
    assert waiting["status"] == "waiting"
    assert waiting["waiting"]["expects"] == {"approved": "bool"}
    wrong = client.post(f"/runs/{run_id}/resume", json={"inputs": {"approved": "yes"}})
    assert wrong.status_code == 422 and wrong.json()["key"] == "approved"
    resumed = client.post(f"/runs/{run_id}/resume", json={"inputs": {"approved": True}})
    assert resumed.status_code == 202 and resumed.json() == {"run_id": run_id}
    finished = wait_for_status(client, run_id)
    assert finished["status"] == "succeeded" and finished["state"]["i"] == 2


def test_resuming_a_finished_run_is_a_409(client: TestClient) -> None:
    run_id = start(client)
    wait_for_status(client, run_id)
    response = client.post(f"/runs/{run_id}/resume", json={})
    assert response.status_code == 409
    assert response.json()["detail"] == f"run {run_id} already succeeded"


def test_a_run_executing_here_is_cancelled_at_once(client: TestClient, tmp_path: Path) -> None:
    run_id = start(client, "blocking", release=str(tmp_path / "never"))
    wait_for_status(client, run_id, frozenset({"running"}))
    assert client.post(f"/runs/{run_id}/cancel").status_code == 202
    assert wait_for_status(client, run_id)["status"] == "cancelled"
    events = [e["event"] for e in _stored_events(client, run_id)]
    assert events[-1] == "run_finished"
    (tmp_path / "never").touch()  # let the worker thread end


def test_cancelling_a_run_that_is_not_running_is_a_409(client: TestClient) -> None:
    run_id = start(client)
    wait_for_status(client, run_id)
    response = client.post(f"/runs/{run_id}/cancel")
    assert response.status_code == 409
    assert response.json()["detail"] == f"run {run_id} is not running (succeeded)"


def test_a_sync_tool_never_blocks_the_server(client: TestClient, tmp_path: Path) -> None:
    release = tmp_path / "release"
    run_id = start(client, "blocking", release=str(release))
    # While the tool blocks its thread, the server still answers (an inline call would not).
    assert wait_for_status(client, run_id, frozenset({"running"}))["step"] == 0
    assert client.get("/workflows").status_code == 200
    release.touch()
    assert wait_for_status(client, run_id)["state"]["released"] is True


def _stored_events(client: TestClient, run_id: str) -> list[dict[str, object]]:
    with client.stream("GET", f"/runs/{run_id}/events") as response:
        text = "".join(response.iter_text())
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def test_stored_events_replay_as_server_sent_events(client: TestClient) -> None:
    run_id = start(client, n=2)
    wait_for_status(client, run_id)
    events = _stored_events(client, run_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    with client.stream("GET", f"/runs/{run_id}/events", headers={"Last-Event-ID": "3"}) as r:
        resumed = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert [e["seq"] for e in resumed] == [e["seq"] for e in events[3:]]


def test_a_run_id_prefix_works_like_on_the_command_line(client: TestClient) -> None:
    run_id = start(client)
    wait_for_status(client, run_id)
    assert client.get(f"/runs/{run_id[:10]}").json()["run_id"] == run_id


# --- security --------------------------------------------------------------------------------


@pytest.fixture
def guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.chdir(tmp_path)
    with make_client(tmp_path, token=TOKEN, max_body=2048) as test_client:
        yield test_client


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": TOKEN},
])
@pytest.mark.parametrize("path", ["/runs", "/workflows", "/workflows/counter", "/runs/x"])
def test_without_the_right_bearer_token_every_route_is_a_401(
        guarded: TestClient, headers: dict[str, str], path: str) -> None:
    response = guarded.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "missing or wrong bearer token"}


def test_with_the_bearer_token_requests_pass(guarded: TestClient) -> None:
    response = guarded.get("/runs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


@pytest.mark.parametrize(("path", "status"), [
    ("/", 200), ("/runs/zzz/events", 404), ("/runs", 401), ("/workflows", 401),
])
def test_the_token_as_a_query_parameter_opens_only_the_page_and_event_streams(
        guarded: TestClient, path: str, status: int) -> None:
    assert guarded.get(path, params={"token": TOKEN}).status_code == status


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_the_api_description_is_public(guarded: TestClient, path: str) -> None:
    assert guarded.get(path).status_code == 200


def test_a_body_over_the_limit_is_a_413(guarded: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    big = {"workflow": "counter", "inputs": {"pad": "x" * 4096}}
    response = guarded.post("/runs", json=big, headers=auth)
    assert response.status_code == 413
    assert response.json() == {"detail": "request body is larger than 2048 bytes"}
    streamed = guarded.post("/workflows", content=iter([b"a" * 1500, b"b" * 1500]),
                            headers=auth)
    assert streamed.status_code == 413


def test_every_route_documents_typed_responses(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            success = next(code for code in responses if code.startswith("2"))
            content = responses[success]["content"]
            media, body = next(iter(content.items()))
            assert media in ("application/json", "text/event-stream"), (path, method)
            if media == "application/json":
                assert "$ref" in body["schema"], (path, method)
            assert "401" in responses and "$ref" in str(responses["401"]), (path, method)
    assert "EventDocument" in schema["components"]["schemas"]
    posted = schema["paths"]["/workflows"]["post"]["requestBody"]["content"]
    assert list(posted) == ["application/yaml"]


def test_a_module_given_with_import_may_be_used_by_posted_workflows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "extra_serve_tools.py").write_text(
        "from wfe import tool\n\n@tool\ndef shout(word: str) -> dict:\n"
        "    return {'word': word.upper()}\n")
    text = ("name: loud\nimports: [extra_serve_tools]\nstate:\n  word: {type: str, default: hi}\n"
            "nodes:\n  say: {tool: shout}\n")
    with make_client(tmp_path, imports=("extra_serve_tools",)) as test_client:
        assert post_yaml(test_client, text).status_code == 201
        run_id = start(test_client, "loud")
        assert wait_for_status(test_client, run_id)["state"]["word"] == "HI"

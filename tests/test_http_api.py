"""The HTTP API against a real ``xlr serve`` process on a free loopback port (one per module), with ``requests``:
a Jenkins build created and followed live through the API, abort/retry/skip/delete, tokens, paging, bad input
and a secrets canary over every endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.http_helpers import CANARIES, TIMEOUT, Api, events, follow, served_api, token_command


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from served_api(tmp_path_factory.mktemp("http-api"))


def test_a_jenkins_build_created_through_the_api_runs_and_is_followed_live(api: Api) -> None:
    api.jenkins.add_job("team/app", queue_polls=1, build_polls=1)
    created = api.create(
        {"type": "jenkins.Build", "cis": {"jenkinsServer": "jenkins"}, "inputs": {"jobName": "team/job/app"}}
    )
    assert (created["type"], created["status"], created["title"]) == ("jenkins.Build", "planned", "jenkins.Build")
    seen = follow(api, created["id"])
    assert seen[-1] == ("end", {"status": "completed"}), seen
    status_lines = [data["status_line"] for name, data in seen if name == "status"]
    assert status_lines[-1] == "Build #1: SUCCESS", seen
    assert "Running build #1" in status_lines, seen
    texts = [data["text"] for name, data in seen if name == "line"]
    assert "Finished: SUCCESS" in texts
    shown = api.get(f"/tasks/{created['id']}").json()
    assert shown["status"] == "completed"
    assert shown["properties"]["buildStatus"] == "SUCCESS"
    assert [entry["status_line"] for entry in shown["status_lines"]][-1] == "Build #1: SUCCESS"
    assert all(run["outcome"] == "succeeded" for run in shown["runs"])
    log = api.get(f"/tasks/{created['id']}/log")
    assert log.headers["content-type"].startswith("text/plain")
    assert "Finished: SUCCESS" in log.text
    lines = api.get(f"/tasks/{created['id']}/log", params={"format": "json"}).json()["lines"]
    assert [line["text"] for line in lines] == texts


def test_a_follower_that_reconnects_resumes_after_the_last_line_it_saw(api: Api) -> None:
    task = api.create({"type": "demo.Counter", "inputs": {"polls": 2, "interval": "1"}})
    first = follow(api, task["id"])
    lines = [data for name, data in first if name == "line"]
    assert len(lines) == 2, first
    again = requests.get(
        f"{api.url}/tasks/{task['id']}/log",
        params={"follow": "true"},
        headers={"Last-Event-ID": str(lines[0]["id"])},
        stream=True,
        timeout=TIMEOUT,
    )
    with again:
        resumed = [data for name, data in events(again) if name == "line"]
    assert resumed == lines[1:]


def test_abort_retry_skip_and_delete_follow_the_task_lifecycle(api: Api) -> None:
    task = api.create({"type": "demo.Counter", "inputs": {"polls": 5, "interval": "3600"}, "title": "long"})
    path = f"/tasks/{task['id']}"
    assert api.delete(path).status_code == 409
    aborted = api.post(f"{path}/abort")
    assert aborted.status_code == 200, aborted.text
    assert aborted.json()["status"] == "aborted"
    again = api.post(f"{path}/abort")
    assert again.status_code == 409 and again.json()["field"] is None, again.text
    retried = api.post(f"{path}/retry").json()
    assert (retried["status"], retried["attempt"]) in {("planned", 2), ("in_progress", 2)}, retried
    assert api.post(f"{path}/skip").json()["status"] == "skipped"
    assert api.post(f"{path}/retry").status_code == 409
    deleted = api.delete(path)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["removed"]["tasks"] == 1
    assert api.get(path).status_code == 404


def test_pages_follow_the_cursor_and_ignore_tasks_created_meanwhile(api: Api) -> None:
    created = [
        api.create({"type": "demo.Counter", "inputs": {"polls": 0}, "title": f"paging {n}"})["id"] for n in range(7)
    ]
    seen: list[int] = []
    page = api.get("/tasks", params={"text": "paging", "limit": 3}).json()
    seen += [t["id"] for t in page["tasks"]]
    later = api.create({"type": "demo.Counter", "inputs": {"polls": 0}, "title": "paging late"})["id"]
    while page["next"] is not None:
        page = api.get("/tasks", params={"text": "paging", "limit": 3, "cursor": page["next"]}).json()
        seen += [t["id"] for t in page["tasks"]]
    assert seen == sorted(created, reverse=True)
    first = api.get("/tasks", params={"text": "PAGING", "limit": 1}).json()
    assert [t["id"] for t in first["tasks"]] == [later]
    counters = api.get("/tasks", params={"type": "demo.Counter", "limit": 500}).json()["tasks"]
    assert set(created) <= {t["id"] for t in counters}
    assert all(t["type"] == "demo.Counter" for t in counters)
    statuses = {"planned", "in_progress", "completed"}
    filtered = api.get("/tasks", params={"status": ",".join(statuses), "limit": 500}).json()["tasks"]
    assert filtered and all(t["status"] in statuses for t in filtered)


@pytest.mark.parametrize(
    ("method", "path", "body", "params", "status", "field"),
    [
        ("GET", "/tasks", None, {"limit": "0"}, 400, "limit"),
        ("GET", "/tasks", None, {"limit": "501"}, 400, "limit"),
        ("GET", "/tasks", None, {"limit": "many"}, 400, "limit"),
        ("GET", "/tasks", None, {"cursor": "abc"}, 400, "cursor"),
        ("GET", "/tasks", None, {"cursor": "\u00b2"}, 400, "cursor"),  # a digit to str.isdigit, not to int()
        ("GET", "/tasks", None, {"cursor": "9" * 5000}, 400, "cursor"),  # more digits than int() converts
        ("GET", "/tasks", None, {"status": "sleeping"}, 400, "status"),
        ("GET", "/tasks", None, {"text": "x" * 201}, 400, "text"),
        ("GET", "/tasks/1/log", None, {"after": "-1"}, 400, "after"),
        ("GET", "/tasks/1/log", None, {"format": "xml"}, 400, "format"),
        ("GET", "/tasks/1/log", None, {"follow": "maybe"}, 400, "follow"),
        ("POST", "/tasks", [1, 2], None, 400, "body"),
        ("POST", "/tasks", {}, None, 400, "type"),
        ("POST", "/tasks", {"type": 3}, None, 400, "type"),
        ("POST", "/tasks", {"type": "demo.Counter", "colour": "red"}, None, 400, "colour"),
        ("POST", "/tasks", {"type": "no.Such"}, None, 400, "type"),
        ("POST", "/tasks", {"type": "demo.Counter", "inputs": []}, None, 400, "inputs"),
        ("POST", "/tasks", {"type": "demo.Counter", "inputs": {"polls": "x"}}, None, 400, "inputs.polls"),
        ("POST", "/tasks", {"type": "demo.Counter", "inputs": {"count": 1}}, None, 400, "inputs.count"),
        ("POST", "/tasks", {"type": "demo.Call", "inputs": {"server": "demo"}}, None, 400, "inputs.name"),
        (
            "POST",
            "/tasks",
            {"type": "demo.Call", "cis": {"server": "nope"}, "inputs": {"name": "n"}},
            None,
            400,
            "inputs.server",
        ),
        ("POST", "/tasks", {"type": "demo.Call", "cis": {"server": 1}}, None, 400, "cis.server"),
        ("POST", "/tasks", {"type": "demo.Abstract"}, None, 400, "inputs"),
        ("GET", "/tasks/999999", None, None, 404, None),
        ("GET", "/tasks/abc", None, None, 404, None),
        ("GET", "/tasks/99999999999999999999999", None, None, 404, None),
        ("POST", "/tasks/999999/abort", None, None, 404, None),
        ("GET", "/types/no.Such", None, None, 404, None),
        ("GET", "/nothing", None, None, 404, None),
        ("PUT", "/tasks", None, None, 405, None),
    ],
)
def test_bad_input_is_a_4xx_json_error_naming_the_field(
    api: Api, method: str, path: str, body: Any, params: dict[str, str] | None, status: int, field: str | None
) -> None:
    response = requests.request(method, api.url + path, json=body, params=params, headers=api.auth(), timeout=TIMEOUT)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["field"] == field, error
    assert error["error"] and "Traceback" not in response.text


def test_a_body_that_is_not_json_names_the_body(api: Api) -> None:
    response = requests.post(f"{api.url}/tasks", data=b"{nope", headers=api.auth(), timeout=TIMEOUT)
    assert (response.status_code, response.json()["field"]) == (400, "body"), response.text


def test_writes_need_a_valid_token_and_reads_are_open_on_loopback(api: Api) -> None:
    assert api.get("/tasks").status_code == 200
    missing = requests.post(f"{api.url}/tasks", json={"type": "demo.Counter"}, timeout=TIMEOUT)
    assert missing.status_code == 401, missing.text
    assert missing.json()["field"] == "Authorization"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = api.post("/tasks", {"type": "demo.Counter"}, headers=api.auth("xlr_not-a-token"))
    assert wrong.status_code == 401, wrong.text
    rundeck = api.post(
        "/tasks", {"type": "demo.Counter", "inputs": {"polls": 0}}, headers={"X-Rundeck-Auth-Token": api.token}
    )
    assert rundeck.status_code == 201, rundeck.text


def test_a_revoked_token_is_refused_with_403(api: Api) -> None:
    token = token_command(api.home, "create", "short-lived").strip()
    assert (
        api.post("/tasks", {"type": "demo.Counter", "inputs": {"polls": 0}}, headers=api.auth(token)).status_code == 201
    )
    token_command(api.home, "revoke", "short-lived")
    refused = api.post("/tasks", {"type": "demo.Counter", "inputs": {"polls": 0}}, headers=api.auth(token))
    assert refused.status_code == 403, refused.text
    assert "revoked" in refused.json()["error"]
    listed = json.loads(token_command(api.home, "list", "--json"))
    assert [row["name"] for row in listed] == ["tests"]
    assert listed[0]["last_used_at"] is not None
    assert token not in token_command(api.home, "list", "--all")


def test_types_cis_and_settings_are_those_of_the_cli(api: Api) -> None:
    names = [row["name"] for row in api.get("/types").json()["types"]]
    assert {"jenkins.Build", "demo.Counter"} <= set(names)
    call = api.get("/types/demo.Call").json()
    inputs = next(c for c in call["categories"] if c["category"] == "input")["properties"]
    assert next(p for p in inputs if p["name"] == "token")["password"] is True
    cis = api.get("/cis").json()["cis"]
    assert cis == [{"name": "demo", "type": "demo.Server"}, {"name": "jenkins", "type": "jenkins.Server"}]
    settings = {row["name"]: row for row in api.get("/settings").json()["settings"]}
    assert settings["workers.size"] == {"name": "workers.size", "value": 2, "source": "xlr.toml:2"}
    assert settings["http.listen"]["value"] == "127.0.0.1:0"


def test_no_response_ever_holds_a_secret(api: Api) -> None:
    call = api.create(
        {"type": "demo.Call", "cis": {"server": "demo"}, "inputs": {"name": "n", "token": CANARIES["input"]}}
    )
    follow(api, call["id"])
    api.jenkins.add_job("canary")
    build = api.create({"type": "jenkins.Build", "cis": {"jenkinsServer": "jenkins"}, "inputs": {"jobName": "canary"}})
    follow(api, build["id"])
    bodies = [json.dumps(call), json.dumps(build)]
    paths = ["/tasks?limit=500", "/types", "/cis", "/settings", "/openapi.json"]
    for task_id in (call["id"], build["id"]):
        paths += [f"/tasks/{task_id}", f"/tasks/{task_id}/log", f"/tasks/{task_id}/log?format=json"]
    paths += [f"/types/{row['name']}" for row in api.get("/types").json()["types"]]
    for path in paths:
        response = api.get(path, headers=api.auth())
        assert response.status_code == 200, (path, response.text)
        bodies.append(response.text)
    with api.get(f"/tasks/{call['id']}/log", params={"follow": "true"}, stream=True) as stream:
        bodies.append(stream.text)
    bodies.append(api.post(f"/tasks/{call['id']}/skip").text)
    shown = api.get(f"/tasks/{call['id']}").json()
    assert shown["properties"]["token"] == "********"
    for body in bodies:
        for canary in CANARIES.values():
            assert canary not in body

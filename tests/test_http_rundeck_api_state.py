"""Rundeck's execution state and output filters against a real ``xlr serve``, read by a Rundeck API client written
with ``requests``: the per-step, per-node state of a finished and of a running execution, output by node and by
step, in plain text, in compacted form and in XML."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from tests.rundeck_client import Rundeck, served_rundeck
from tests.waiting import wait_until

JOBS = """\
- name: three-steps
  uuid: 5b0c6e0a-0101-4000-8000-000000000001
  description: ''
  sequence:
    keepgoing: true
    commands:
    - exec: echo first
    - exec: echo second && echo again && exit 3
    - exec: echo third
- name: caller
  uuid: 5b0c6e0a-0103-4000-8000-000000000003
  description: ''
  sequence:
    keepgoing: true
    commands:
    - jobref:
        uuid: 5b0c6e0a-0101-4000-8000-000000000001
    - exec: echo after
- name: sleeper
  uuid: 5b0c6e0a-0102-4000-8000-000000000002
  description: ''
  sequence:
    commands:
    - exec: echo sleeping && sleep 3600
    - exec: echo never
"""


@pytest.fixture(scope="module")
def rundeck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rundeck]:
    for _, client in served_rundeck(tmp_path_factory.mktemp("rundeck-state"), "ops", JOBS):
        yield client


@pytest.fixture(scope="module")
def finished(rundeck: Rundeck) -> dict[str, Any]:
    execution = rundeck.run("5b0c6e0a-0101-4000-8000-000000000001").json()
    done = rundeck.wait_done(execution["id"])
    assert done["status"] == "failed", done
    return done


def test_the_state_of_a_finished_execution_is_each_step_on_each_node(
    rundeck: Rundeck, finished: dict[str, Any]
) -> None:
    state = rundeck.get(f"/execution/{finished['id']}/state")
    server = state["serverNode"]
    assert (state["executionId"], state["executionState"], state["completed"]) == (finished["id"], "FAILED", True)
    assert (state["stepCount"], state["targetNodes"], state["allNodes"]) == (3, [server], [server])
    assert [(s["id"], s["stepctx"], s["executionState"], s["nodeStep"]) for s in state["steps"]] == [
        ("1", "1", "SUCCEEDED", True),
        ("2", "2", "FAILED", True),
        ("3", "3", "SUCCEEDED", True),
    ]
    assert state["nodes"] == {
        server: [
            {"executionState": "SUCCEEDED", "stepctx": "1"},
            {"executionState": "FAILED", "stepctx": "2"},
            {"executionState": "SUCCEEDED", "stepctx": "3"},
        ]
    }
    first = state["steps"][0]["nodeStates"][server]
    assert first["executionState"] == "SUCCEEDED" and first["startTime"] <= first["endTime"] <= state["endTime"]
    assert state["startTime"] <= state["steps"][1]["startTime"] and state["updateTime"] == state["endTime"]
    missing = rundeck.call("GET", "/execution/424242/state")
    assert missing.status_code == 404 and missing.json()["message"] == "Execution ID does not exist: 424242"


def test_the_state_in_xml_has_rundecks_elements(rundeck: Rundeck, finished: dict[str, Any]) -> None:
    response = rundeck.call("GET", f"/execution/{finished['id']}/state", headers={"Accept": "application/xml"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert root.tag == "executionState" and root.get("id") == str(finished["id"])
    assert (root.findtext("executionState"), root.findtext("completed"), root.findtext("stepCount")) == (
        "FAILED",
        "true",
        "3",
    )
    steps = root.findall("steps/step")
    assert [(s.get("stepctx"), s.findtext("executionState")) for s in steps] == [
        ("1", "SUCCEEDED"),
        ("2", "FAILED"),
        ("3", "SUCCEEDED"),
    ]
    server = root.findtext("serverNode")
    assert steps[1].find("nodeStates/nodeState").get("name") == server
    assert [n.get("name") for n in root.findall("targetNodes/nodes/node")] == [server]
    assert [s.findtext("stepctx") for s in root.findall(f"nodes/node[@name='{server}']/steps/step")] == ["1", "2", "3"]


def test_a_running_execution_shows_its_running_step_and_ends_aborted(rundeck: Rundeck) -> None:
    execution = rundeck.run("5b0c6e0a-0102-4000-8000-000000000002").json()
    state: dict[str, Any] = {}

    def step_running() -> bool:
        state.update(rundeck.get(f"/execution/{execution['id']}/state"))
        return bool(state["steps"]) and state["steps"][0]["executionState"] == "RUNNING"

    wait_until(step_running, lambda: f"the first step to run: {state}")
    assert (state["executionState"], state["completed"], state["steps"][1]["executionState"]) == (
        "RUNNING",
        False,
        "WAITING",
    )
    assert state["steps"][0]["endTime"] is None
    assert rundeck.call("POST", f"/execution/{execution['id']}/abort").status_code == 200
    assert rundeck.wait_done(execution["id"])["status"] == "aborted"
    ended = rundeck.get(f"/execution/{execution['id']}/state")
    assert ended["executionState"] == "ABORTED" and ended["completed"] is True
    assert [s["executionState"] for s in ended["steps"]] == ["ABORTED", "NOT_STARTED"]


def test_output_is_filtered_by_node_and_by_step(rundeck: Rundeck, finished: dict[str, Any]) -> None:
    execution_id = finished["id"]
    server = rundeck.get(f"/execution/{execution_id}/state")["serverNode"]
    whole = rundeck.output(execution_id)["entries"]
    step = rundeck.get(f"/execution/{execution_id}/output/step/2")
    assert [e["log"] for e in step["entries"]] == [e["log"] for e in whole if e["stepctx"] == "2"]
    assert {"second", "again"} <= {e["log"] for e in step["entries"]} and step["filter"] == {"stepctx": "2"}
    on_node = rundeck.get(f"/execution/{execution_id}/output/node/{server}/step/3")
    assert "third" in [e["log"] for e in on_node["entries"]]
    assert on_node["filter"] == {"nodename": server, "stepctx": "3"}
    assert rundeck.get(f"/execution/{execution_id}/output/node/{server}")["entries"] == [
        e for e in whole if e["node"] == server
    ]
    nowhere = rundeck.get(f"/execution/{execution_id}/output/node/nowhere")
    assert (nowhere["entries"], nowhere["completed"]) == ([], True)
    paged, offset = [], "0"
    while True:
        page = rundeck.get(f"/execution/{execution_id}/output/step/2", offset=offset, maxlines=1)
        paged += page["entries"]
        offset = page["offset"]
        if page["completed"]:
            break
    assert paged == step["entries"]
    tail = rundeck.get(f"/execution/{execution_id}/output", lastlines=2)
    assert (tail["entries"], tail["offset"], tail["completed"]) == (
        whole[-2:],
        rundeck.output(execution_id)["offset"],
        True,
    )
    assert rundeck.get(f"/execution/{execution_id}/output/step/2", lastlines=1)["entries"] == step["entries"][-1:]


def test_output_as_text_compacted_and_xml(rundeck: Rundeck, finished: dict[str, Any]) -> None:
    execution_id = finished["id"]
    whole = rundeck.output(execution_id)
    text = rundeck.call("GET", f"/execution/{execution_id}/output", params={"format": "text"})
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.text.splitlines() == [e["log"] for e in whole["entries"]]
    assert (text.headers["X-Rundeck-ExecOutput-Offset"], text.headers["X-Rundeck-ExecOutput-Completed"]) == (
        whole["offset"],
        "true",
    )
    compact = rundeck.output(execution_id, compacted="true")
    assert (compact["compacted"], compact["compactedAttr"]) == (True, "log")
    assert any(isinstance(e, str) for e in compact["entries"]), compact["entries"]
    restored, previous = [], {}
    for entry in compact["entries"]:
        changes = {"log": entry} if isinstance(entry, str) else entry
        previous = {k: v for k, v in {**previous, **changes}.items() if v is not None}
        restored.append(previous)
    assert restored == whole["entries"]
    xml = rundeck.call("GET", f"/execution/{execution_id}/output", headers={"Accept": "application/xml"})
    root = etree.fromstring(xml.content)
    assert root.tag == "output" and root.findtext("offset") == whole["offset"]
    assert [e.get("log") for e in root.findall("entries/entry")] == [e["log"] for e in whole["entries"]]
    bad = rundeck.call("GET", f"/execution/{execution_id}/output", params={"format": "yaml"})
    assert bad.status_code == 400 and "format" in bad.json()["message"]
    not_a_flag = rundeck.call("GET", f"/execution/{execution_id}/output", params={"compacted": "maybe"})
    assert not_a_flag.status_code == 400 and "compacted" in not_a_flag.json()["message"]


def test_a_job_references_lines_carry_rundecks_nested_step_context(rundeck: Rundeck) -> None:
    execution = rundeck.run("5b0c6e0a-0103-4000-8000-000000000003").json()
    assert rundeck.wait_done(execution["id"])["status"] == "failed"
    first = rundeck.get(f"/execution/{execution['id']}/output/step/1")["entries"]
    assert {e["stepctx"] for e in first} >= {"1/1", "1/2", "1/3"}, first
    assert [e["log"] for e in first if e["stepctx"] == "1/2"][:2] == ["second", "again"]
    nested = rundeck.get(f"/execution/{execution['id']}/output/step/1/3")
    assert "third" in [e["log"] for e in nested["entries"]] and nested["filter"] == {"stepctx": "1/3"}
    assert "after" in [e["log"] for e in rundeck.get(f"/execution/{execution['id']}/output/step/2")["entries"]]
    state = rundeck.get(f"/execution/{execution['id']}/state")
    server = state["serverNode"]
    assert [(s["stepctx"], s["nodeStep"], s["executionState"]) for s in state["steps"]] == [
        ("1", False, "FAILED"),
        ("2", True, "SUCCEEDED"),
    ]
    reference = state["steps"][0]
    assert reference["hasSubworkflow"] is True and "nodeStates" not in reference
    workflow = reference["workflow"]
    assert (workflow["stepCount"], workflow["executionState"], workflow["completed"]) == (3, "FAILED", True)
    assert [(s["stepctx"], s["id"], s["executionState"]) for s in workflow["steps"]] == [
        ("1/1", "1", "SUCCEEDED"),
        ("1/2", "2", "FAILED"),
        ("1/3", "3", "SUCCEEDED"),
    ]
    assert [entry["stepctx"] for entry in state["nodes"][server]] == ["1/1", "1/2", "1/3", "2"]
    xml = etree.fromstring(
        rundeck.call("GET", f"/execution/{execution['id']}/state", headers={"Accept": "application/xml"}).content
    )
    nested = xml.find("steps/step/workflow")
    assert [s.get("stepctx") for s in nested.findall("steps/step")] == ["1/1", "1/2", "1/3"]
    assert xml.find("steps/step").findtext("hasSubworkflow") == "true"

"""Rundeck's execution query, running executions and execution deletes against a real ``xlr serve``, driven by a
Rundeck API client written with ``requests``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from lxml import etree

from tests.rundeck_client import Rundeck, served_rundeck
from tests.waiting import wait_until

QUICK, FAILS, REPORT, LONG = (f"5b0c6e0a-02{n:02d}-4000-8000-0000000000{n:02d}" for n in range(1, 5))
JOBS = f"""\
- name: quick
  uuid: {QUICK}
  description: ''
  sequence:
    commands:
    - exec: echo quick
- name: fails
  uuid: {FAILS}
  description: ''
  sequence:
    commands:
    - exec: exit 1
- name: report
  group: batch/nightly
  uuid: {REPORT}
  description: ''
  sequence:
    commands:
    - exec: echo report
- name: long
  uuid: {LONG}
  description: ''
  sequence:
    commands:
    - exec: echo sleeping && sleep 3600
"""


@pytest.fixture(scope="module")
def rundeck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rundeck]:
    for _, client in served_rundeck(tmp_path_factory.mktemp("rundeck-executions"), "ops", JOBS):
        yield client


@pytest.fixture(scope="module")
def ran(rundeck: Rundeck) -> dict[str, list[int]]:
    """Two runs of quick, one of fails, one of report, all ended."""
    ids: dict[str, list[int]] = {QUICK: [], FAILS: [], REPORT: []}
    for job_id in (QUICK, QUICK, FAILS, REPORT):
        execution = rundeck.run(job_id).json()
        rundeck.wait_done(execution["id"])
        ids[job_id].append(execution["id"])
    return ids


def _ids(rundeck: Rundeck, **params: str) -> list[int]:
    page = rundeck.get("/project/ops/executions", max=1000, **params)
    assert page["paging"]["total"] == page["paging"]["count"] == len(page["executions"]), page["paging"]
    return sorted(e["id"] for e in page["executions"])


def test_the_execution_query_keeps_what_each_filter_says(rundeck: Rundeck, ran: dict[str, list[int]]) -> None:
    everything = sorted(ran[QUICK] + ran[FAILS] + ran[REPORT])
    assert _ids(rundeck) == everything
    assert _ids(rundeck, statusFilter="failed") == ran[FAILS]
    assert _ids(rundeck, statusFilter="succeeded") == sorted(ran[QUICK] + ran[REPORT])
    assert _ids(rundeck, jobIdListFilter=QUICK) == ran[QUICK]
    assert _ids(rundeck, jobIdListFilter=f"{QUICK},{REPORT}") == sorted(ran[QUICK] + ran[REPORT])
    assert _ids(rundeck, excludeJobIdListFilter=QUICK) == sorted(ran[FAILS] + ran[REPORT])
    assert _ids(rundeck, jobListFilter="batch/nightly/report") == ran[REPORT]
    assert _ids(rundeck, excludeJobListFilter="quick") == sorted(ran[FAILS] + ran[REPORT])
    assert _ids(rundeck, groupPath="batch") == ran[REPORT]
    assert _ids(rundeck, groupPath="-") == sorted(ran[QUICK] + ran[FAILS])
    assert _ids(rundeck, groupPathExact="batch") == []
    assert _ids(rundeck, jobFilter="QUI") == ran[QUICK]
    assert _ids(rundeck, jobExactFilter="fails") == ran[FAILS]
    assert _ids(rundeck, userFilter="tests") == everything and _ids(rundeck, userFilter="nobody") == []
    assert _ids(rundeck, executionTypeFilter="user") == everything
    assert _ids(rundeck, executionTypeFilter="scheduled") == [] and _ids(rundeck, adhoc="true") == []
    assert _ids(rundeck, recentFilter="1h") == everything and _ids(rundeck, olderFilter="1h") == []
    tomorrow = str(int((time.time() + 86400) * 1000))
    assert _ids(rundeck, begin=tomorrow) == [] and _ids(rundeck, end=tomorrow) == everything
    assert _ids(rundeck, end="2001-01-01T00:00:00Z") == []
    of_job = rundeck.get(f"/job/{QUICK}/executions", status="failed")
    assert of_job["executions"] == [] and of_job["paging"]["total"] == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("statusFilter", "bogus"),
        ("recentFilter", "2x"),
        ("begin", "yesterday"),
        ("executionTypeFilter", "cron"),
        ("adhoc", "maybe"),
        ("abortedbyFilter", "admin"),
        ("max", "0"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_them(rundeck: Rundeck, name: str, value: str) -> None:
    response = rundeck.call("GET", "/project/ops/executions", params={name: value})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] is True and name in body["message"], body


def test_running_executions_and_deleting_one(rundeck: Rundeck, ran: dict[str, list[int]]) -> None:
    execution = rundeck.run(LONG).json()
    wait_until(lambda: rundeck.get(f"/execution/{execution['id']}")["status"] == "running", "the execution to run")
    running = rundeck.get("/project/ops/executions/running")
    assert [e["id"] for e in running["executions"]] == [execution["id"]], running
    assert [e["id"] for e in rundeck.get("/project/*/executions/running")["executions"]] == [execution["id"]]
    assert rundeck.get("/project/ops/executions/running", jobIdFilter=QUICK)["executions"] == []
    refused = rundeck.call("DELETE", f"/execution/{execution['id']}")
    assert refused.status_code == 409 and "is running" in refused.json()["message"], refused.text
    rundeck.call("POST", f"/execution/{execution['id']}/abort")
    assert rundeck.wait_done(execution["id"])["status"] == "aborted"
    assert rundeck.get("/project/*/executions/running")["executions"] == []
    assert rundeck.call("DELETE", f"/execution/{execution['id']}").status_code == 204
    assert rundeck.call("GET", f"/execution/{execution['id']}").status_code == 404
    assert rundeck.call("DELETE", f"/execution/{execution['id']}").status_code == 404
    assert rundeck.call("GET", "/project/nope/executions/running").status_code == 404


def test_bulk_deletes_report_each_id(rundeck: Rundeck) -> None:
    first, second, third = (rundeck.wait_done(rundeck.run(QUICK).json()["id"])["id"] for _ in range(3))
    by_query = rundeck.call("POST", "/executions/delete", params={"ids": f"{first},999999,abc"}).json()
    assert by_query == {
        "failures": [{"id": "999999", "message": "Not found: 999999"}, {"id": "abc", "message": "Not found: abc"}],
        "failedCount": 2,
        "successCount": 1,
        "allsuccessful": False,
        "requestCount": 3,
    }
    as_list = rundeck.call("POST", "/executions/delete", json=[second]).json()
    assert (as_list["successCount"], as_list["allsuccessful"]) == (1, True)
    xml = rundeck.call(
        "POST",
        "/executions/delete",
        data=f'<executions><execution id="{third}"/></executions>',
        headers={"Content-Type": "application/xml", "Accept": "application/xml"},
    )
    root = etree.fromstring(xml.content)
    assert (root.tag, root.get("allsuccessful"), root.find("successful").get("count")) == (
        "deleteExecutions",
        "true",
        "1",
    )
    for execution_id in (first, second, third):
        assert rundeck.call("GET", f"/execution/{execution_id}").status_code == 404
    empty = rundeck.call("POST", "/executions/delete")
    assert empty.status_code == 400 and empty.json()["message"] == 'parameter "ids" is required'
    not_ids = rundeck.call("POST", "/executions/delete", json={"ids": "1"})
    assert not_ids.status_code == 400 and "ids" in not_ids.json()["message"]


def test_a_jobs_executions_are_deleted_together_and_lists_answer_xml(rundeck: Rundeck) -> None:
    for _ in range(2):
        rundeck.wait_done(rundeck.run(REPORT).json()["id"])
    xml = rundeck.call("GET", f"/job/{REPORT}/executions", headers={"Accept": "application/xml"})
    root = etree.fromstring(xml.content)
    assert root.tag == "executions" and int(root.get("total")) == len(root.findall("execution")) >= 2
    execution = root.find("execution")
    assert execution.get("status") == "succeeded" and execution.find("job").get("id") == REPORT
    assert execution.findtext("job/name") == "report" and execution.findtext("user") == "tests"
    deleted = rundeck.call("DELETE", f"/job/{REPORT}/executions").json()
    assert deleted["allsuccessful"] is True and deleted["successCount"] == int(root.get("total"))
    assert rundeck.get(f"/job/{REPORT}/executions")["paging"]["total"] == 0


def test_jobs_run_through_job_executions_and_are_deleted_in_bulk(rundeck: Rundeck) -> None:
    throwaway = "".join(
        f"- name: t{n}\n  uuid: 5b0c6e0a-02{n:02d}-4000-8000-0000000000{n:02d}\n  description: ''\n"
        "  sequence:\n    commands:\n    - exec: echo t\n"
        for n in (11, 12, 13)
    )
    assert rundeck.import_jobs("tmp", throwaway).status_code == 200
    first, second, third = (f"5b0c6e0a-02{n:02d}-4000-8000-0000000000{n:02d}" for n in (11, 12, 13))
    started = rundeck.call("POST", f"/job/{first}/executions", json={"argString": ""})
    assert started.status_code == 200 and started.json()["job"]["id"] == first, started.text
    assert rundeck.wait_done(started.json()["id"])["status"] == "succeeded"
    deleted = rundeck.call("POST", "/jobs/delete", params={"idlist": f"{first},{second},nope"}).json()
    assert deleted == {
        "requestCount": 3,
        "allsuccessful": False,
        "succeeded": [
            {"id": first, "message": "Job was successfully deleted"},
            {"id": second, "message": "Job was successfully deleted"},
        ],
        "failed": [{"id": "nope", "errorCode": "notfound", "message": "Job ID does not exist: nope"}],
    }
    xml = rundeck.call("DELETE", "/jobs/delete", params={"ids": third}, headers={"Accept": "application/xml"})
    root = etree.fromstring(xml.content)
    assert (root.tag, root.get("allsuccessful"), root.find("succeeded/deleteJobRequest").get("id")) == (
        "deleteJobs",
        "true",
        third,
    )
    assert rundeck.get("/project/tmp/jobs") == []
    refused = rundeck.call("POST", "/jobs/delete")
    assert refused.status_code == 400 and refused.json()["message"] == 'parameter "ids" or "idlist" is required'

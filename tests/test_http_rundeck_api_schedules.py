"""Turning jobs' schedules and executions on and off through Rundeck's API against a real ``xlr serve``: what the
job list, the export and the scheduler of that server do after each switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lxml import etree

from tests.http_helpers import Api
from tests.rundeck_client import Rundeck, served_rundeck
from tests.waiting import wait_until
from xlr_runtime.store import Store
from xlr_runtime.store.schedules import ScheduleRow

TICKER, PLAIN = "5b0c6e0a-0301-4000-8000-000000000001", "5b0c6e0a-0302-4000-8000-000000000002"
JOBS = f"""\
- name: ticker
  uuid: {TICKER}
  description: ''
  scheduleEnabled: false
  multipleExecutions: true
  schedule:
    time:
      hour: '*'
      minute: '*'
      seconds: '0/1'
    month: '*'
    year: '*'
    weekday:
      day: '*'
  sequence:
    commands:
    - exec: echo tick
- name: plain
  uuid: {PLAIN}
  description: ''
  sequence:
    commands:
    - exec: echo plain
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Rundeck]]:
    yield from served_rundeck(tmp_path_factory.mktemp("rundeck-schedules"), "ops", JOBS)


def _row(home: Path, job_id: str) -> ScheduleRow | None:
    """The serve process's schedule row of the job (what its schedule loop will do)."""
    store = Store.open(home / "xlr.db")
    try:
        return store.schedules.get(job_id)
    finally:
        store.close()


def _ticker(rundeck: Rundeck) -> dict[str, object]:
    return rundeck.get("/project/ops/jobs", idlist=TICKER)[0]


def test_a_schedule_turned_on_fires_and_turned_off_stops(served: tuple[Api, Rundeck]) -> None:
    api, rundeck = served
    listed = _ticker(rundeck)
    assert (listed["scheduled"], listed["scheduleEnabled"], listed["nextScheduledExecution"]) == (True, False, None)
    wait_until(lambda: _row(api.home, TICKER) is not None, "the schedule loop to plan the job")
    assert _row(api.home, TICKER).note == "schedule disabled (scheduleEnabled=false)"
    enabled = rundeck.call("POST", f"/job/{TICKER}/schedule/enable")
    assert (enabled.status_code, enabled.json()) == (200, {"success": True})
    listed = _ticker(rundeck)
    assert listed["scheduleEnabled"] is True and listed["nextScheduledExecution"] is not None
    fired = lambda: rundeck.get("/project/ops/executions", executionTypeFilter="scheduled")["paging"]["total"]  # noqa: E731
    wait_until(lambda: fired() >= 1, "the schedule to fire")
    bulk = rundeck.call("POST", "/jobs/schedule/disable", json={"ids": [TICKER], "idlist": "nope"}).json()
    assert bulk == {
        "requestCount": 2,
        "enabled": False,
        "allsuccessful": False,
        "succeeded": [{"id": TICKER, "message": "Job schedule disabled"}],
        "failed": [{"id": "nope", "errorCode": "notfound", "message": "Job ID does not exist: nope"}],
    }
    wait_until(lambda: _row(api.home, TICKER).next_fire_at is None, "the schedule loop to unschedule the job")
    assert _row(api.home, TICKER).note == "schedule disabled (scheduleEnabled=false)"
    assert _ticker(rundeck)["scheduleEnabled"] is False
    exported = yaml.safe_load(rundeck.call("GET", f"/job/{TICKER}", params={"format": "yaml"}).text)
    assert exported[0]["scheduleEnabled"] is False


def test_executions_turned_off_refuse_runs_until_turned_on(served: tuple[Api, Rundeck]) -> None:
    _, rundeck = served
    assert rundeck.call("POST", f"/job/{PLAIN}/execution/disable").json() == {"success": True}
    assert rundeck.get("/project/ops/jobs", idlist=PLAIN)[0]["enabled"] is False
    refused = rundeck.run(PLAIN)
    assert refused.status_code == 409 and "executions disabled" in refused.json()["message"], refused.text
    xml = rundeck.call("POST", "/jobs/execution/enable", params={"ids": PLAIN}, headers={"Accept": "application/xml"})
    root = etree.fromstring(xml.content)
    assert (root.tag, root.get("enabled"), root.get("allsuccessful")) == ("toggleExecution", "true", "true")
    assert root.find("succeeded/toggleExecutionResult").get("id") == PLAIN
    started = rundeck.run(PLAIN)
    assert started.status_code == 200, started.text
    assert rundeck.wait_done(started.json()["id"])["status"] == "succeeded"


def test_the_scheduler_lists_scheduled_jobs_and_bad_requests_name_the_field(served: tuple[Api, Rundeck]) -> None:
    _, rundeck = served
    assert [job["id"] for job in rundeck.get("/scheduler/jobs")] == [TICKER]
    xml = etree.fromstring(rundeck.call("GET", "/scheduler/jobs", headers={"Accept": "application/xml"}).content)
    assert (xml.tag, xml.get("count"), xml.find("job").get("id"), xml.findtext("job/name")) == (
        "jobs",
        "1",
        TICKER,
        "ticker",
    )
    missing = rundeck.call("POST", "/job/nope/schedule/enable")
    assert missing.status_code == 404 and missing.json()["message"] == "Job ID does not exist: nope"
    empty = rundeck.call("POST", "/jobs/execution/disable")
    assert empty.status_code == 400 and empty.json()["message"] == 'parameter "ids" or "idlist" is required'
    wrong = rundeck.call("POST", "/jobs/execution/disable", json={"ids": "x"})
    assert wrong.status_code == 400 and "ids" in wrong.json()["message"]

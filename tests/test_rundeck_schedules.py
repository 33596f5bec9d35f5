"""Cron schedules of Rundeck jobs: the Quartz grammar, time zones, durable firing through the real execution
service with a virtual clock, the missed-fire policy, enable flags, rescheduling, and ``xlr schedules``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.clock import VirtualClock
from xlr_runtime.home import Home
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.model import Job, Schedule, Workflow
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.nodes.resources import local_node
from xlr_runtime.rundeck.run.execution import ExecutionService
from xlr_runtime.rundeck.schedules.quartz import QuartzError, parse
from xlr_runtime.rundeck.schedules.schedules import ScheduleService, list_schedules, next_fire_times, plan
from xlr_runtime.store import Store
from xlr_runtime.store.executions import ExecutionStatus
from xlr_runtime.store.jobs import definition_sha256
from xlr_runtime.store.owners import LEASE_SECONDS

UTC_ZONE = ZoneInfo("UTC")
#: Monday 2026-01-05 08:00:00 UTC.
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC).timestamp()


def at(text: str) -> float:
    """Epoch of an ISO time with offset (``2026-01-05T08:00:00+00:00``)."""
    return datetime.fromisoformat(text).timestamp()


def shown(epochs: list[float], zone: str = "UTC") -> list[str]:
    return [datetime.fromtimestamp(e, ZoneInfo(zone)).isoformat() for e in epochs]


# -- the Quartz grammar --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        ("0 0 12 ? * MON-FRI", "2026-01-09T13:00:00+00:00",  # Friday afternoon -> Monday
         ["2026-01-12T12:00:00+00:00", "2026-01-13T12:00:00+00:00", "2026-01-14T12:00:00+00:00"]),
        ("0 0 9 ? * 1", "2026-01-05T00:00:00+00:00",  # day-of-week 1 is Sunday
         ["2026-01-11T09:00:00+00:00", "2026-01-18T09:00:00+00:00", "2026-01-25T09:00:00+00:00"]),
        ("0 0/20 * * * ?", "2026-01-05T08:05:00+00:00",
         ["2026-01-05T08:20:00+00:00", "2026-01-05T08:40:00+00:00", "2026-01-05T09:00:00+00:00"]),
        ("5/20 * * * * ?", "2026-01-05T08:00:00+00:00",
         ["2026-01-05T08:00:05+00:00", "2026-01-05T08:00:25+00:00", "2026-01-05T08:00:45+00:00"]),
        ("0 0 22-1 * * ?", "2026-01-05T12:00:00+00:00",  # a range that wraps midnight
         ["2026-01-05T22:00:00+00:00", "2026-01-05T23:00:00+00:00", "2026-01-06T00:00:00+00:00"]),
        ("0 0 12 15W * ?", "2024-06-01T00:00:00+00:00",  # 15 June 2024 is a Saturday -> Friday 14th
         ["2024-06-14T12:00:00+00:00", "2024-07-15T12:00:00+00:00", "2024-08-15T12:00:00+00:00"]),
        ("0 0 12 1W * ?", "2024-05-31T00:00:00+00:00",  # 1 June 2024 is a Saturday -> Monday 3rd, same month
         ["2024-06-03T12:00:00+00:00", "2024-07-01T12:00:00+00:00", "2024-08-01T12:00:00+00:00"]),
        ("0 0 12 L * ?", "2024-01-31T13:00:00+00:00",
         ["2024-02-29T12:00:00+00:00", "2024-03-31T12:00:00+00:00", "2024-04-30T12:00:00+00:00"]),
        ("0 0 12 LW * ?", "2024-08-01T00:00:00+00:00",  # 31 Aug 2024 is a Saturday
         ["2024-08-30T12:00:00+00:00", "2024-09-30T12:00:00+00:00", "2024-10-31T12:00:00+00:00"]),
        ("0 0 12 L-3 * ?", "2024-02-01T00:00:00+00:00",
         ["2024-02-26T12:00:00+00:00", "2024-03-28T12:00:00+00:00", "2024-04-27T12:00:00+00:00"]),
        ("0 0 12 ? * 6#3", "2024-06-01T00:00:00+00:00",  # third Friday
         ["2024-06-21T12:00:00+00:00", "2024-07-19T12:00:00+00:00", "2024-08-16T12:00:00+00:00"]),
        ("0 0 12 ? * 6L", "2024-06-01T00:00:00+00:00",  # last Friday
         ["2024-06-28T12:00:00+00:00", "2024-07-26T12:00:00+00:00", "2024-08-30T12:00:00+00:00"]),
        ("0 0 12 ? * L", "2024-06-02T00:00:00+00:00",  # a lone L is 7: Saturday
         ["2024-06-08T12:00:00+00:00", "2024-06-15T12:00:00+00:00", "2024-06-22T12:00:00+00:00"]),
        ("0 0 6 1 JAN,jul ? 2027-2028", "2026-01-05T08:00:00+00:00",
         ["2027-01-01T06:00:00+00:00", "2027-07-01T06:00:00+00:00", "2028-01-01T06:00:00+00:00"]),
    ],
)  # fmt: skip
def test_next_fire_times(expression: str, start: str, expected: list[str]) -> None:
    assert shown(parse(expression).fire_times(at(start), UTC_ZONE, 3)) == expected


def test_an_expression_that_ends_has_no_more_fire_times() -> None:
    assert parse("0 0 6 1 1 ? 2010").next_after(START, UTC_ZONE) is None
    assert parse("0 0 0 31 2 ?").next_after(START, UTC_ZONE) is None  # 31 February
    assert shown(parse("0 0 6 1 1 ? 2099").fire_times(START, UTC_ZONE, 5)) == ["2099-01-01T06:00:00+00:00"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 0 12 * * *", 'invalid schedule "0 0 12 * * *": exactly one of day-of-month and day-of-week must be "?"'),
        ("0 0 12 ? * ?", 'invalid schedule "0 0 12 ? * ?": exactly one of day-of-month and day-of-week must be "?"'),
        ("0 0 12 ? *", 'invalid schedule "0 0 12 ? *": expected 6 or 7 fields (sec min hour dom mon dow [year])'),
        ("0 60 12 ? * *", 'invalid schedule "0 60 12 ? * *": minutes value 60 is not in 0-59'),
        ("0 0 12 ? * 0", 'invalid schedule "0 0 12 ? * 0": day-of-week value 0 is not in 1-7'),
        ("0 0 ? ? * *", 'invalid schedule "0 0 ? ? * *": "?" is only allowed in day-of-month or day-of-week'),
        ("0 0 12 ? * FOO", 'invalid schedule "0 0 12 ? * FOO": day-of-week value "FOO" is not a number'),
        ("0 0 12 ? * * 1969", 'invalid schedule "0 0 12 ? * * 1969": year value 1969 is not in 1970-2099'),
    ],
)
def test_invalid_expressions(expression: str, message: str) -> None:
    with pytest.raises(QuartzError) as caught:
        parse(expression)
    assert str(caught.value) == message


def test_time_zone_is_the_wall_clock_of_the_job() -> None:
    paris = ZoneInfo("Europe/Paris")
    times = parse("0 0 6 * * ?").fire_times(START, paris, 2)
    assert shown(times, "Europe/Paris") == ["2026-01-06T06:00:00+01:00", "2026-01-07T06:00:00+01:00"]
    assert shown(times) == ["2026-01-06T05:00:00+00:00", "2026-01-07T05:00:00+00:00"]


def test_daylight_saving_gap_is_skipped_and_repeated_hour_fires_once() -> None:
    new_york = "America/New_York"
    zone = ZoneInfo(new_york)
    # 2024-03-10: 02:00 -> 03:00, so 02:30 does not exist that day (Quartz under Rundeck skips it).
    spring = parse("0 30 2 * * ?").fire_times(at("2024-03-09T12:00:00-05:00"), zone, 2)
    assert shown(spring, new_york) == ["2024-03-11T02:30:00-04:00", "2024-03-12T02:30:00-04:00"]
    # 2024-11-03: 01:30 happens twice; it fires at the first one only.
    autumn = parse("0 30 1 * * ?").fire_times(at("2024-11-02T12:00:00-04:00"), zone, 2)
    assert shown(autumn, new_york) == ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]


def _job(**fields: object) -> Job:
    return Job(name="j", sequence=Workflow(steps=()), **fields)  # type: ignore[arg-type]


def test_plan_says_why_a_job_does_not_fire() -> None:
    every_minute = Schedule.from_crontab("0 * * ? * *")
    cases = {
        "not scheduled": _job(),
        "schedule disabled (scheduleEnabled=false)": _job(schedule=every_minute, schedule_enabled=False),
        "executions disabled (executionEnabled=false)": _job(schedule=every_minute, execution_enabled=False),
        'unknown timeZone "Mars/Olympus"': _job(schedule=every_minute, time_zone="Mars/Olympus"),
        "no fire time after now": _job(schedule=Schedule.from_crontab("0 0 6 1 1 ? 2010")),
    }
    for note, job in cases.items():
        result = plan(job, now=START, default_zone=UTC_ZONE)
        assert (result.next_fire_at, result.note) == (None, note)
    tokyo = plan(_job(schedule=every_minute, time_zone="Asia/Tokyo"), now=START, default_zone=UTC_ZONE)
    assert (tokyo.crontab, tokyo.time_zone, tokyo.next_fire_at) == ("0 * * ? * * *", "Asia/Tokyo", START + 60)
    assert next_fire_times(_job(schedule=every_minute), after=START, count=3, default_zone=UTC_ZONE) == [
        START + 60, START + 120, START + 180,
    ]  # fmt: skip


# -- durable firing ------------------------------------------------------------------------------------------------


def job_xml(name: str = "tick", *, crontab: str = "0 0/5 * ? * * *", extra: str = "", description: str = "") -> str:
    options = "<context><options preserveOrder='true'><option name='env' value='dev' /></options></context>"
    return (
        f"<joblist><job><name>{name}</name><description>{description}</description><uuid>uuid-{name}</uuid>"
        f"{options}<schedule crontab='{crontab}'/>{extra}<sequence keepgoing='false' strategy='node-first'>"
        "<command><exec>echo env=${option.env}</exec></command></sequence></job></joblist>"
    )


class World:
    """A store, the real execution service and the schedule service on one virtual clock."""

    def __init__(self, root: Path, clock: VirtualClock) -> None:
        self.clock = clock
        self.store = Store.open(root / "xlr.db")
        self.executions = ExecutionService(
            self.store, home_root=root, clock=clock, server_node=local_node(name="srv"), lease=LEASE_SECONDS
        )
        self.schedules = ScheduleService(self.store, self.executions, clock=clock, default_zone=UTC_ZONE)

    def load(self, xml: str) -> None:
        JobStore(self.store).load("P", load_jobs_xml(xml, path="t.xml"), now=self.clock.now())

    def drive(self, execution_id: int) -> None:
        self.executions.run(until=lambda: self.store.executions.get(execution_id).status.is_final, max_wait=0.02)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def world(tmp_path: Path, clock: VirtualClock) -> Iterator[World]:
    made = World(tmp_path, clock)
    yield made
    made.store.close()


def test_a_due_schedule_queues_an_execution_with_default_options(world: World, clock: VirtualClock) -> None:
    world.load(job_xml())
    assert world.schedules.tick() == []
    assert world.store.schedules.get("uuid-tick").next_fire_at == START + 300
    clock.advance(299)
    assert world.schedules.tick() == []
    clock.advance(1)
    (execution_id,) = world.schedules.tick()
    world.drive(execution_id)
    execution = world.store.executions.get(execution_id)
    assert (execution.execution_type, execution.options, execution.status) == (
        "scheduled", {"env": "dev"}, ExecutionStatus.SUCCEEDED,
    )  # fmt: skip
    assert "env=dev" in [line.text for line in world.store.executions.log(execution_id)]
    row = world.store.schedules.get("uuid-tick")
    assert (row.next_fire_at, row.last_fire_at, row.last_execution_id) == (START + 600, START + 300, execution_id)


def test_the_loop_fires_at_each_fire_time_of_the_virtual_clock(world: World) -> None:
    world.load(job_xml(extra="<multipleExecutions>true</multipleExecutions>"))
    world.schedules.run(until=lambda: len(world.store.executions.list()) >= 3, max_wait=60)
    created = sorted(e.created_at for e in world.store.executions.list())
    assert created == [START + 300, START + 600, START + 900]


def test_missed_fires_during_downtime_fire_once_at_start_up(tmp_path: Path, clock: VirtualClock) -> None:
    first = World(tmp_path, clock)
    first.load(job_xml())
    first.schedules.tick()
    first.store.close()  # the server stops before 08:05; it comes back at 11:00:10
    clock.set(START + 3 * 3600 + 10)
    second = World(tmp_path, clock)
    try:
        fired = second.schedules.tick()
        assert len(fired) == 1  # not 36
        assert second.schedules.tick() == []
        assert second.store.schedules.get("uuid-tick").next_fire_at == START + 3 * 3600 + 300
    finally:
        second.store.close()


def test_disabled_schedules_and_executions_do_not_fire(world: World, clock: VirtualClock) -> None:
    world.load(job_xml("off", extra="<scheduleEnabled>false</scheduleEnabled>"))
    world.load(job_xml("noexec", extra="<executionEnabled>false</executionEnabled>"))
    world.schedules.tick()
    clock.advance(3600)
    assert world.schedules.tick() == []
    assert world.store.schedules.get("uuid-off").note == "schedule disabled (scheduleEnabled=false)"
    assert world.store.schedules.get("uuid-noexec").note == "executions disabled (executionEnabled=false)"
    world.load(job_xml("off"))  # enabled again: scheduled from now
    world.schedules.tick()
    assert world.store.schedules.get("uuid-off").next_fire_at == START + 3600 + 300


def test_turning_a_schedule_or_executions_off_and_on_replans_the_job(world: World, clock: VirtualClock) -> None:
    world.load(job_xml())
    world.schedules.tick()
    JobStore(world.store).set_enabled("uuid-tick", schedule=False, now=clock.now())
    clock.advance(3600)
    assert world.schedules.tick() == []
    assert world.store.schedules.get("uuid-tick").note == "schedule disabled (scheduleEnabled=false)"
    JobStore(world.store).set_enabled("uuid-tick", schedule=True, execution=False, now=clock.now())
    clock.advance(3600)
    assert world.schedules.tick() == []
    assert world.store.schedules.get("uuid-tick").note == "executions disabled (executionEnabled=false)"
    JobStore(world.store).set_enabled("uuid-tick", execution=True, now=clock.now())
    world.schedules.tick()
    assert world.store.schedules.get("uuid-tick").next_fire_at == START + 2 * 3600 + 300
    clock.advance(300)
    assert len(world.schedules.tick()) == 1


def test_loading_a_new_version_reschedules_and_deleting_unschedules(world: World, clock: VirtualClock) -> None:
    world.load(job_xml(crontab="0 0 * ? * * *"))
    world.schedules.tick()
    assert world.store.schedules.get("uuid-tick").next_fire_at == START + 3600
    world.load(job_xml(crontab="0 30 8 ? * MON-FRI", description="v2"))
    world.schedules.tick()
    row = world.store.schedules.get("uuid-tick")
    assert (row.crontab, row.next_fire_at) == ("0 30 8 ? * MON-FRI *", START + 1800)
    JobStore(world.store).delete("P", "uuid-tick")
    clock.advance(3600)
    assert world.schedules.tick() == []
    assert world.store.schedules.get("uuid-tick") is None


def test_a_new_version_with_the_same_schedule_keeps_a_missed_fire(world: World, clock: VirtualClock) -> None:
    world.load(job_xml())
    world.schedules.tick()
    clock.advance(1000)
    world.load(job_xml(description="v2"))
    assert len(world.schedules.tick()) == 1


def test_a_fire_while_the_job_runs_is_skipped_without_multiple_executions(world: World, clock: VirtualClock) -> None:
    world.load(job_xml())
    world.schedules.tick()
    clock.advance(300)
    (first,) = world.schedules.tick()
    clock.advance(300)
    assert world.schedules.tick() == []
    row = world.store.schedules.get("uuid-tick")
    assert row.last_error == (
        f"job 'tick' is already running (execution {first}) and does not allow multiple executions"
    )
    assert row.next_fire_at == START + 900


def _spoil(store: Store, uuid: str, *, digest: bool) -> None:
    """Make a stored definition unreadable, as an older version could have stored it (with its digest updated, as
    a load would, or not)."""
    store.execute("UPDATE jobs SET definition = replace(definition, 'echo', 'x' || char(27)) WHERE uuid = ?", [uuid])
    if digest:
        row = store.query_one("SELECT definition FROM jobs WHERE uuid = ?", [uuid])
        assert row is not None
        store.execute(
            "UPDATE jobs SET definition_sha256 = ? WHERE uuid = ?", [definition_sha256(row["definition"]), uuid]
        )


@pytest.mark.parametrize("digest", [True, False], ids=["read-when-scheduled", "read-when-fired"])
def test_one_unreadable_job_does_not_stop_the_other_schedules(
    world: World, caplog: pytest.LogCaptureFixture, digest: bool
) -> None:
    world.load(job_xml("bad", extra="<multipleExecutions>true</multipleExecutions>"))
    world.load(job_xml("good", extra="<multipleExecutions>true</multipleExecutions>"))
    world.schedules.tick()  # both planned from readable definitions
    _spoil(world.store, "uuid-bad", digest=digest)
    caplog.set_level(logging.DEBUG, logger="xlr_runtime.rundeck.schedules.schedules")

    def good_fires() -> int:
        return sum(e.job_name == "good" for e in world.store.executions.list())

    world.schedules.run(until=lambda: good_fires() >= 4, max_wait=60)
    assert sorted(e.created_at for e in world.store.executions.list()) == [START + 300 * n for n in range(1, 5)]
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 1, [r.getMessage() for r in problems]
    assert problems[0].exc_info is None
    doing = "scheduling" if digest else "firing"
    assert problems[0].getMessage().startswith(f"{doing} job P/bad (uuid-bad) failed, the other schedules go on: ")
    assert "PCDATA invalid Char value 27" in problems[0].getMessage()
    row = world.store.schedules.get("uuid-bad")
    assert row is not None
    if digest:  # not read again until a new version is loaded
        assert row.next_fire_at is None and row.note is not None and "cannot be read" in row.note
    else:  # tried again after 60, 120, 240 … seconds, never in a busy loop
        assert row.next_fire_at is not None and row.next_fire_at > world.clock.now()
        assert row.last_error is not None and "tried again later" in row.last_error
    assert len(caplog.records) < 20


def test_a_tick_that_fails_as_a_whole_is_logged_once_and_retried_after_max_wait(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.load(job_xml())
    world.schedules.tick()
    world.clock.advance(600)  # a fire is due: the old loop did not wait at all while it could not be fired
    calls = []

    def broken() -> list[object]:
        calls.append(1)
        raise RuntimeError("database is locked")

    monkeypatch.setattr(world.store.schedules, "stale", broken)
    started = time.monotonic()
    world.schedules.run(until=lambda: time.monotonic() - started > 0.5, max_wait=0.1)
    assert 3 <= len(calls) <= 8
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in failures] == ["schedule tick failed; trying again every 0.1s"]


def test_list_schedules_shows_a_missed_fire_as_pending(world: World, clock: VirtualClock) -> None:
    world.load(job_xml())
    world.load(job_xml("never", extra="<scheduleEnabled>false</scheduleEnabled>"))
    world.schedules.tick()
    clock.advance(3600)  # no server ticked since
    entries = {e.full_name: e for e in list_schedules(world.store, "P", now=clock.now(), default_zone=UTC_ZONE)}
    assert entries["tick"].next_fire_at == START + 300
    assert (entries["never"].next_fire_at, entries["never"].note) == (None, "schedule disabled (scheduleEnabled=false)")


# -- the CLI -------------------------------------------------------------------------------------------------------


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home.root), "TZ": "UTC"})


def test_xlr_schedules_lists_next_fire_times(home: Home, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.xml"
    late = job_xml("late", crontab="0 0 6 1 JAN ? 2098-2099", extra="<timeZone>Europe/Paris</timeZone>")
    off = job_xml("off", crontab="0 0 6 1 JAN ? 2099", extra="<scheduleEnabled>false</scheduleEnabled>")
    jobs.write_text(late.replace("</joblist>", "") + off.replace("<joblist>", ""), encoding="utf-8")
    assert xlr(home, "jobs", "load", "-p", "P", "--file", str(jobs)).exit_code == 0
    listed = xlr(home, "schedules", "-p", "P", "-n", "2")
    assert listed.exit_code == 0, listed.output
    assert listed.output == (
        "uuid-late  late  0 0 6 1 JAN ? 2098-2099  Europe/Paris\n"
        "    next: 2098-01-01 06:00:00 CET\n"
        "    next: 2099-01-01 06:00:00 CET\n"
        "uuid-off  off  0 0 6 1 JAN ? 2099  UTC\n"
        "    does not fire: schedule disabled (scheduleEnabled=false)\n"
    )
    as_json = json.loads(xlr(home, "schedules", "-p", "P", "--json").output)
    assert as_json[0]["nextFireTimes"] == [at("2098-01-01T06:00:00+01:00")]
    assert as_json[1]["nextFireAt"] is None
    assert xlr(home, "schedules", "-p", "Q").output == "No scheduled jobs in project Q\n"


def test_a_fire_time_another_host_fired_queues_nothing_more_and_says_nothing_alarming(
    world: World, clock: VirtualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A second host on the same database whose view of the row is behind (it read the row before the first host
    # fired it, as a reload of the job read on both hosts can leave it): the unique key on the job and the fire
    # time keeps that fire to one execution.
    world.load(job_xml(extra="<multipleExecutions>true</multipleExecutions>"))
    world.schedules.tick()
    clock.advance(300)
    due = world.store.schedules.get("uuid-tick")
    (first,) = world.schedules.tick()
    other = Store.open(tmp_path / "xlr.db", owner="other-host:1:x")
    try:
        executions = ExecutionService(
            other, home_root=tmp_path, clock=clock, server_node=local_node(name="srv"), lease=LEASE_SECONDS
        )
        behind = ScheduleService(other, executions, clock=clock, default_zone=UTC_ZONE)
        other.schedules.save(
            "uuid-tick", project="P", definition_sha256=due.definition_sha256, crontab=due.crontab,
            time_zone=due.time_zone, next_fire_at=due.next_fire_at, note=None, now=clock.now(),
        )  # fmt: skip
        with caplog.at_level(logging.INFO):
            assert behind.tick() == []
    finally:
        other.close()
    assert [e.id for e in world.store.executions.list()] == [first]
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
    row = world.store.schedules.get("uuid-tick")
    assert (row.next_fire_at, row.last_execution_id, row.last_error) == (START + 600, first, None)

"""``xlr tasks`` pages: the newest 50 by default, ``--limit N``, ``--all``, and a footer saying how many older
tasks are left out and how to see them (on stderr with ``--json``, so the JSON stays whole)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.cli.options import DEFAULT_PAGE
from xlr_runtime.home import Home
from xlr_runtime.store import Store, TaskStatus, TaskSummary

NOW = 1_700_000_000.0


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, ["tasks", *args, "--home", str(home.root)])


def store_tasks(home: Home, count: int, *, aborted: tuple[int, ...] = ()) -> None:
    """``count`` planned tasks titled ``task N`` (ids 1..count); those numbered in ``aborted`` are aborted."""
    with Store.open(home.database) as store:
        for number in range(1, count + 1):
            store.tasks.create(
                type_name="demo.Counter",
                title=f"task {number}",
                properties={"polls": number, "token": "x" * 100},
                inputs={},
                variables={},
                first_script="demo/Counter.py",
                now=NOW + number,
            )
        for number in aborted:
            store.tasks.finish(
                number, status=TaskStatus.ABORTED, allowed_from=[TaskStatus.PLANNED], now=NOW + 1000, note="aborted"
            )


def listed_ids(result: Result) -> list[int]:
    """The ids of the table's rows."""
    return [int(line.split()[0]) for line in result.stdout.splitlines()[1:] if "demo.Counter" in line.split()]


def test_the_newest_fifty_are_listed_with_a_footer_naming_the_rest(home: Home) -> None:
    store_tasks(home, DEFAULT_PAGE + 7)
    result = xlr(home)
    assert result.exit_code == 0, result.output
    assert listed_ids(result) == list(range(DEFAULT_PAGE + 7, 7, -1)), result.output
    assert result.stdout.splitlines()[-1] == (
        "7 older tasks are not shown (the newest 50 are); see them with --limit N or --all."
    )


def test_limit_and_all(home: Home) -> None:
    store_tasks(home, 60)
    three = xlr(home, "--limit", "3")
    assert listed_ids(three) == [60, 59, 58], three.output
    assert three.stdout.splitlines()[-1] == (
        "57 older tasks are not shown (the newest 3 are); see them with --limit N or --all."
    )
    everything = xlr(home, "--all")
    assert listed_ids(everything) == list(range(60, 0, -1)), everything.output
    assert "not shown" not in everything.output


@pytest.mark.parametrize(("count", "limit"), [(3, "3"), (1, "5")])
def test_no_footer_when_nothing_is_left_out(home: Home, count: int, limit: str) -> None:
    store_tasks(home, count)
    result = xlr(home, "--limit", limit)
    assert listed_ids(result) == list(range(count, 0, -1)), result.output
    assert "not shown" not in result.output


def test_one_older_task_is_named_in_the_singular(home: Home) -> None:
    store_tasks(home, 3)
    result = xlr(home, "--limit", "2")
    assert result.stdout.splitlines()[-1] == (
        "1 older task is not shown (the newest 2 are); see them with --limit N or --all."
    )


def test_the_footer_counts_only_the_tasks_of_the_statuses_asked_for(home: Home) -> None:
    store_tasks(home, 10, aborted=(2, 4, 6, 8))
    result = xlr(home, "--status", "aborted", "--limit", "3")
    assert listed_ids(result) == [8, 6, 4], result.output
    assert result.stdout.splitlines()[-1].startswith("1 older task is not shown"), result.output


def test_json_pages_too_and_the_footer_goes_to_stderr(home: Home) -> None:
    store_tasks(home, 5)
    result = xlr(home, "--limit", "2", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == [5, 4]
    assert set(rows[0]) == {
        "id",
        "type",
        "title",
        "status",
        "status_line",
        "last_status_line",
        "attempt",
        "created_at",
        "started_at",
        "ended_at",
        "failure",
    }
    assert rows[0]["title"] == "task 5" and rows[0]["status"] == "planned" and rows[0]["created_at"] == NOW + 5
    assert result.stderr == "3 older tasks are not shown (the newest 2 are); see them with --limit N or --all.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "3", "--all"], "Error: give --limit N or --all, not both"),
        (["--limit", "0"], "Error: Invalid value for '--limit': 0 is not in the range x>=1."),
    ],
)
def test_bad_paging_options_are_usage_errors(home: Home, args: list[str], message: str) -> None:
    result = xlr(home, *args)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == message, result.output


def test_summaries_are_tasks_without_their_values(home: Home) -> None:
    store_tasks(home, 4, aborted=(3,))
    with Store.open(home.database) as store:
        summaries = store.tasks.summaries(limit=2)
        full = store.tasks.list(limit=2)
        assert store.tasks.count() == 4
        assert store.tasks.count(statuses=[TaskStatus.ABORTED, TaskStatus.FAILED]) == 1
        assert store.tasks.summaries(statuses=[TaskStatus.ABORTED]) == [
            TaskSummary(**{k: v for k, v in vars(store.tasks.get(3)).items() if k in TaskSummary.__dataclass_fields__})
        ]
    assert [s.id for s in summaries] == ["4", "3"]
    for summary, task in zip(summaries, full, strict=True):
        assert summary.to_json() == {k: v for k, v in task.to_json().items() if k != "properties"}

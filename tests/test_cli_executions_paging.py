"""``xlr executions`` pages as ``xlr tasks`` does: the newest 50 top-level executions by default, ``--limit N``
(at least 1), ``--all``, and a footer saying how many older ones are left out (on stderr with ``--json``). The
executions a job reference starts are filtered out before the page is cut, so a page is never short."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.cli.options import DEFAULT_PAGE
from xlr_runtime.home import Home
from xlr_runtime.store import Store
from xlr_runtime.store.executions import Execution

NOW = 1_700_000_000.0


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, ["executions", *args, "--home", str(home.root)])


def store_executions(home: Home, count: int, *, children: int = 0, project: str = "P") -> list[int]:
    """``count`` queued executions of job ``web`` in ``project``, each followed by ``children`` job-reference
    children of its own; returns the ids of the top-level ones."""
    top: list[int] = []
    with Store.open(home.database) as store:
        for number in range(count):
            parent = _create(store, project, f"web-{number}", NOW + number)
            top.append(parent.id)
            for child in range(children):
                _create(store, project, f"child-{number}-{child}", NOW + number, parent_id=parent.id)
    return top


def _create(store: Store, project: str, name: str, now: float, parent_id: int | None = None) -> Execution:
    return store.executions.create(
        project=project, job_id=f"uuid-{name}", job_name=name, job_group="deploy", job_xml=f"<job>{'x' * 500}</job>",
        options={"env": "prod"}, arg_string="-env prod", user="me", now=now, parent_id=parent_id,
    )  # fmt: skip


def listed_ids(result: Result) -> list[int]:
    """The ids of the table's rows."""
    return [int(line.split()[0]) for line in result.stdout.splitlines()[1:] if "deploy/" in line]


def test_the_newest_fifty_top_level_executions_are_listed_with_a_footer(home: Home) -> None:
    top = store_executions(home, DEFAULT_PAGE + 7, children=2)
    result = xlr(home)
    assert result.exit_code == 0, result.output
    assert listed_ids(result) == top[::-1][:DEFAULT_PAGE], result.output
    assert result.stdout.splitlines()[-1] == (
        "7 older executions are not shown (the newest 50 are); see them with --limit N or --all."
    )


def test_children_never_make_a_page_short(home: Home) -> None:
    top = store_executions(home, 4, children=3)
    result = xlr(home, "--limit", "3")
    assert listed_ids(result) == top[::-1][:3], result.output
    assert result.stdout.splitlines()[-1] == (
        "1 older execution is not shown (the newest 3 are); see them with --limit N or --all."
    )


def test_all_lists_every_top_level_execution(home: Home) -> None:
    top = store_executions(home, 60, children=1)
    result = xlr(home, "--all")
    assert listed_ids(result) == top[::-1], result.output
    assert "not shown" not in result.output


@pytest.mark.parametrize(("count", "limit"), [(3, "3"), (1, "5")])
def test_no_footer_when_nothing_is_left_out(home: Home, count: int, limit: str) -> None:
    top = store_executions(home, count, children=2)
    result = xlr(home, "--limit", limit)
    assert listed_ids(result) == top[::-1], result.output
    assert "not shown" not in result.output


def test_the_footer_counts_only_the_project_asked_for(home: Home) -> None:
    ops = store_executions(home, 5, project="ops")
    store_executions(home, 4, project="web")
    result = xlr(home, "-p", "ops", "--limit", "2")
    assert listed_ids(result) == ops[::-1][:2], result.output
    assert result.stdout.splitlines()[-1].startswith("3 older executions are not shown"), result.output


def test_json_pages_too_keeps_its_fields_and_the_footer_goes_to_stderr(home: Home) -> None:
    top = store_executions(home, 5, children=1)
    result = xlr(home, "--limit", "2", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    with Store.open(home.database) as store:
        expected = [store.executions.get(execution_id).to_json() for execution_id in top[::-1][:2]]
    assert rows == expected
    assert rows[0]["job"] == {"id": "uuid-web-4", "name": "web-4", "group": "deploy"}
    assert rows[0]["parentId"] is None and rows[0]["options"] == {"env": "prod"}
    assert result.stderr == "3 older executions are not shown (the newest 2 are); see them with --limit N or --all.\n"


def test_no_executions(home: Home) -> None:
    result = xlr(home)
    assert result.exit_code == 0, result.output
    assert result.output == "No executions.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "3", "--all"], "Error: give --limit N or --all, not both"),
        (["--limit", "0"], "Error: Invalid value for '--limit': 0 is not in the range x>=1."),
        (["--limit", "-1"], "Error: Invalid value for '--limit': -1 is not in the range x>=1."),
    ],
)
def test_bad_limits_are_usage_errors(home: Home, args: list[str], message: str) -> None:
    result = xlr(home, *args)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == message, result.output

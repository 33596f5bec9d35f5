"""Run-time features checked where the other execution tests do not reach: ``${option.x}`` and ``${job.*}`` in
node filters, per-node and byte log limits on several nodes, and the exit code of a timed-out ``xlr jobs run``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.rundeck_helpers import Harness, job_xml
from xlr_runtime.cli import main
from xlr_runtime.store.executions import ExecutionStatus

NODES = """
web1: {hostname: h1, node-executor: local, tags: 'web,prod'}
web2: {hostname: h2, node-executor: local, tags: 'web'}
db1: {hostname: h3, node-executor: local, tags: 'db,prod'}
"""


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path, nodes=NODES)
    yield h
    h.close()


def test_options_and_job_context_in_filter_and_filter_exclude(harness: Harness) -> None:
    xml = job_xml(
        "<command><exec>echo ${job.name} on ${node.name} ${node.hostname}</exec></command>",
        name="deploy",
        options="<option name='tier' value='web'/><option name='skip' value='web2'/>",
        extra="<nodefilters><filter>tags: ${option.tier}</filter><filterExclude>name: ${option.skip}</filterExclude>"
        "</nodefilters>",
    )
    execution = harness.run(xml)
    assert harness.output(execution.id) == ["deploy on web1 h1"]
    prod = harness.run(xml.replace("<name>deploy", "<name>prod"), {"tier": "prod", "skip": "none"})
    assert harness.output(prod.id) == ["prod on db1 h3", "prod on web1 h1"]


@pytest.mark.parametrize(
    ("logging", "status", "lines"),
    [
        ("<logging limit='2/node' limitAction='truncate'/>", ExecutionStatus.SUCCEEDED, ["a", "b", "a", "b"]),
        ("<logging limit='3' limitAction='truncate'/>", ExecutionStatus.SUCCEEDED, ["a", "b", "c"]),
        ("<logging limit='4b' limitAction='halt' status='toolong'/>", ExecutionStatus.OTHER, ["a", "b"]),
    ],
)
def test_log_limits_across_nodes(harness: Harness, logging: str, status: ExecutionStatus, lines: list[str]) -> None:
    xml = job_xml(
        "<command><exec>echo a; echo b; echo c</exec></command>",
        extra=logging + "<nodefilters><filter>web1 web2</filter></nodefilters>",
    )
    execution = harness.run(xml)
    assert execution.status == status
    assert harness.output(execution.id) == lines


def test_a_timed_out_run_exits_2(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.xml"
    jobs.write_text(
        job_xml("<command><exec>echo start; sleep 20</exec></command>", name="slow", extra="<timeout>1s</timeout>")
    )
    home = str(tmp_path / "home")
    assert CliRunner().invoke(main, ["jobs", "load", "--home", home, "-p", "P", "-f", str(jobs)]).exit_code == 0
    result = CliRunner().invoke(main, ["jobs", "run", "--home", home, "-p", "P", "-j", "slow", "--follow"])
    assert result.exit_code == 2, result.output
    assert "start" in result.output.splitlines()
    assert result.output.splitlines()[-1] == "Execution 1 timedout: Execution timed out"

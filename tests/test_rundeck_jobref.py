"""Job reference node overrides: the reference's filter (expanded in the parent's context) and dispatch, and
``childNodes`` for a job of another project. Real processes, real resource-model files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rundeck_helpers import Harness, job_xml, load
from xlr_runtime.errors import StateError
from xlr_runtime.store.executions import ExecutionStatus

NODES = """
web1: {hostname: h1, node-executor: local, tags: web}
web2: {hostname: h2, node-executor: local, tags: web}
db1: {hostname: h3, node-executor: local, tags: db}
remote: {hostname: far, tags: web}
"""
OTHER_PROJECT_NODES = "qweb: {hostname: q1, node-executor: local, tags: web}\n"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    for project, text in (("P", NODES), ("Q", OTHER_PROJECT_NODES)):
        folder = tmp_path / "projects" / project / "resources"
        folder.mkdir(parents=True)
        (folder / "nodes.yaml").write_text(text)
    yield h
    h.close()


CHILD = job_xml(
    "<command><exec>echo child on ${node.name}</exec></command>",
    name="child",
    extra="<nodefilters><filter>name: db1</filter></nodefilters>",
)


def _parent(jobref: str, *, name: str = "parent", parent_filter: str = "") -> str:
    extra = f"<nodefilters><filter>{parent_filter}</filter></nodefilters>" if parent_filter else ""
    return job_xml(f"<command>{jobref}</command>", name=name, extra=extra)


def test_without_overrides_the_child_runs_on_its_own_nodes(harness: Harness) -> None:
    harness.add(CHILD)
    execution = harness.run(_parent("<jobref name='child'/>"))
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert harness.output(execution.id) == ["child on db1"]


def test_a_node_step_reference_filter_names_the_parents_node(harness: Harness) -> None:
    harness.add(CHILD)
    jobref = (
        "<jobref name='child' nodeStep='true'><nodefilters><filter>name: ${node.name}</filter></nodefilters></jobref>"
    )
    execution = harness.run(_parent(jobref, parent_filter="web1 web2"))
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    assert harness.output(execution.id) == ["child on web1", "child on web2"]


def test_dispatch_overrides_go_with_the_filter(harness: Harness) -> None:
    harness.add(CHILD)
    base = "<jobref name='child'>{dispatch}<nodefilters><filter>tags: web</filter></nodefilters></jobref>"
    by_host = "<rankAttribute>hostname</rankAttribute>"
    going = harness.run(
        _parent(base.format(dispatch=f"<dispatch>{by_host}<keepgoing>true</keepgoing></dispatch>"), name="going")
    )
    assert going.status == ExecutionStatus.FAILED
    assert harness.output(going.id) == ["child on web1", "child on web2"]
    stopping = harness.run(_parent(base.format(dispatch=f"<dispatch>{by_host}</dispatch>"), name="stopping"))
    assert (stopping.status, harness.output(stopping.id)) == (ExecutionStatus.FAILED, [])
    descending = harness.run(
        _parent(
            base.replace("tags: web", "web1 web2").format(
                dispatch=f"<dispatch>{by_host}<rankOrder>descending</rankOrder></dispatch>"
            ),
            name="descending",
        )
    )
    assert harness.output(descending.id) == ["child on web2", "child on web1"]


def test_dispatch_without_a_filter_is_ignored(harness: Harness) -> None:
    harness.add(CHILD)
    jobref = (
        "<jobref name='child'><dispatch><threadcount>4</threadcount><keepgoing>true</keepgoing></dispatch></jobref>"
    )
    execution = harness.run(_parent(jobref))
    assert harness.output(execution.id) == ["child on db1"]


def test_child_nodes_picks_the_project_whose_nodes_are_used(harness: Harness) -> None:
    other = load(
        job_xml(
            "<command><exec>echo child on ${node.name}</exec></command>",
            name="remote-child",
            extra="<nodefilters><filter>tags: web !hostname: far</filter></nodefilters>",
        )
    )
    harness.jobs.add("Q", other)
    parents_nodes = harness.run(_parent("<jobref name='remote-child' project='Q'/>", name="default"))
    assert harness.output(parents_nodes.id) == ["child on web1", "child on web2"]
    childs_nodes = harness.run(
        _parent("<jobref name='remote-child' project='Q'><childNodes>true</childNodes></jobref>", name="child-nodes")
    )
    assert harness.output(childs_nodes.id) == ["child on qweb"]


def test_a_disabled_job_is_refused_and_skipped_or_failed_by_references(harness: Harness) -> None:
    disabled = harness.add(
        job_xml(
            "<command><exec>echo never</exec></command>", name="off", extra="<executionEnabled>false</executionEnabled>"
        )
    )
    with pytest.raises(StateError) as refused:
        harness.service.start("P", disabled)
    assert str(refused.value) == "job 'off' has executions disabled (executionEnabled is false)"
    skipped = harness.run(_parent("<jobref name='off'/>", name="skips"))
    assert (skipped.status, harness.output(skipped.id)) == (ExecutionStatus.SUCCEEDED, [])
    assert harness.output(skipped.id, levels=("WARN",)) == ["Job reference job off has executions disabled: skipped"]
    failing = harness.run(_parent("<jobref name='off'><failOnDisable>true</failOnDisable></jobref>", name="fails"))
    assert (failing.status, failing.failure) == (
        ExecutionStatus.FAILED,
        "Step 1 failed: job off has executions disabled",
    )


def test_references_by_uuid_by_group_and_name_and_in_another_project(harness: Harness) -> None:
    harness.add(CHILD)  # uuid-child, no group
    harness.jobs.add(
        "Q", load(job_xml("<command><exec>echo q child</exec></command>", name="qc", extra="<group>lib</group>"))
    )
    steps = (
        "<command><jobref><uuid>uuid-child</uuid></jobref></command>"
        "<command><jobref name='qc' group='lib' project='Q'/></command>"
        "<command><jobref project='Q'><uuid>uuid-qc</uuid></jobref></command>"
    )
    execution = harness.run(job_xml(steps, name="refs"))
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    assert harness.output(execution.id) == ["child on db1", "q child", "q child"]
    wrong = harness.run(job_xml("<command><jobref><uuid>uuid-qc</uuid></jobref></command>", name="wrong-project"))
    assert wrong.failure == "Step 1 failed: no job 'uuid-qc' in project 'P'"


def test_a_job_referencing_itself_fails_the_step_naming_the_cycle(harness: Harness) -> None:
    execution = harness.run(_parent("<jobref name='parent'/>"))
    assert execution.status == ExecutionStatus.FAILED
    assert execution.failure == (
        'Step 1 failed: job reference cycle: "parent" -> "parent" (a job cannot run itself through its own job '
        "references)"
    )
    assert [e.id for e in harness.store.executions.list()] == [execution.id]  # no child was started


def test_a_cycle_through_other_jobs_fails_where_it_closes(harness: Harness) -> None:
    harness.add(job_xml("<command><jobref name='b'/></command>", name="a"))
    harness.add(job_xml("<command><exec>echo in b</exec></command><command><jobref name='a'/></command>", name="b"))
    execution = harness.run(_parent("<jobref name='a'/>"))
    assert execution.status == ExecutionStatus.FAILED
    errors = harness.output(execution.id, levels=("ERROR",))
    assert (
        'Step 2 failed: JobReferenceCycle: job reference cycle: "a" -> "b" -> "a" (a job cannot run itself through '
        "its own job references)"
    ) in errors
    assert harness.output(execution.id) == ["in b"]
    assert len(harness.store.executions.list()) == 3  # parent, a, b: the reference back to a started nothing


def test_the_same_job_referenced_twice_in_a_row_is_not_a_cycle(harness: Harness) -> None:
    harness.add(job_xml("<command><exec>echo leaf</exec></command>", name="leaf"))
    harness.add(job_xml("<command><jobref name='leaf'/></command><command><jobref name='leaf'/></command>", name="m"))
    execution = harness.run(_parent("<jobref name='m'/><jobref name='leaf'/>".replace("/><", "/></command><command><")))
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    assert harness.output(execution.id) == ["leaf", "leaf", "leaf"]

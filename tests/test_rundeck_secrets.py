"""Secure option values never reach the store in clear: a canary through every step kind, searched for in the
database, its WAL and every output; the sealed data context still resumes an execution after a crash."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rundeck_helpers import SERVER, Harness, job_xml
from xlr_runtime.rundeck.xml_export import dump_jobs_xml
from xlr_runtime.rundeck.yaml_codec import dump_jobs_yaml
from xlr_runtime.store.executions import ExecutionStatus

CANARY = "c4nary-s3cret"
HIDDEN = "h1dden-t0ken"
OPTIONS = "<option name='pw' secure='true' valueExposed='true'/><option name='token' secure='true'/>"
SCRIPT = (
    "<command><script><![CDATA[#!/bin/sh\necho script @option.pw@ $RD_OPTION_PW\n"
    'echo "RUNDECK:DATA:copy=$RD_OPTION_PW"\n]]></script></command>'
)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


def _stored_bytes(root: Path) -> bytes:
    """The database and its WAL and -shm files, as they are on disk."""
    return b"".join(path.read_bytes() for path in sorted(root.glob("xlr.db*")))


def test_a_canary_never_reaches_the_store_or_any_output(harness: Harness) -> None:
    harness.add(
        job_xml(
            "<command><exec>echo child ${option.p}</exec></command>",
            name="child",
            options=OPTIONS.replace("'pw'", "'p'"),
        )
    )
    steps = (
        "<command><exec>echo exec ${option.pw} [${option.token}] [$RD_OPTION_TOKEN]</exec></command>"
        + SCRIPT
        + "<command><exec>echo data ${data.copy} ; exit 3</exec>"
        "<errorhandler><exec>echo handler ${option.pw} ${secureOption.pw}</exec></errorhandler></command>"
        "<command><jobref name='child'><arg line='-p ${option.pw}'/></jobref></command>"
    )
    job = harness.add(job_xml(steps, options=OPTIONS).replace("keepgoing='false'", "keepgoing='true'"))
    execution = harness.run(job, {"pw": CANARY, "token": HIDDEN})
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    assert harness.output(execution.id) == [
        "exec ******** [] []",
        "script ******** ********",
        "RUNDECK:DATA:copy=********",
        "data ********",
        "handler ******** ********",
        "child ********",
    ]
    outputs = [
        json.dumps([e.to_json() for e in harness.store.executions.list()]),
        json.dumps([line.text for e in harness.store.executions.list() for line in harness.store.executions.log(e.id)]),
        dump_jobs_xml([job]),
        dump_jobs_yaml([job]),
    ]
    for secret in (CANARY, HIDDEN):
        assert secret.encode() not in _stored_bytes(harness.root)
        assert not [text for text in outputs if secret in text]
    harness.store.close()  # a checkpoint moves the WAL into the database file
    for secret in (CANARY, HIDDEN):
        assert secret.encode() not in _stored_bytes(harness.root)


def test_the_sealed_context_resumes_an_execution(harness: Harness, tmp_path: Path) -> None:
    marker = tmp_path / "seen"
    steps = SCRIPT + f"<command><exec>echo ${{option.pw}} ${{data.copy}} &gt; {marker}</exec></command>"
    job = harness.add(job_xml(steps, options=OPTIONS))
    execution = harness.service.start("P", job, {"pw": CANARY})
    store = harness.store
    sealed = harness.service.secrets.seal_rows(
        [
            {"step": None, "node": None, "data": {"option": {"pw": CANARY}, "secureOption": {"pw": CANARY}}},
            {"step": None, "node": SERVER, "data": {"data": {"copy": CANARY}}},
        ]
    )
    assert CANARY not in json.dumps(sealed)
    store.execute(
        "UPDATE executions SET status = 'running', owner = ? WHERE id = ?",
        (f"{socket.gethostname()}:999999999:x", execution.id),
    )
    store.executions.save_progress(
        execution.id, cursor={"nodes": [SERVER], "group": 0, "positions": {SERVER: 1}}, context=sealed
    )
    harness.service.recover()
    ended = harness.finish(execution.id)
    assert ended.status == ExecutionStatus.SUCCEEDED, harness.output(ended.id, levels=("ERROR",))
    assert marker.read_text() == f"{CANARY} {CANARY}\n"
    assert CANARY.encode() not in _stored_bytes(harness.root)


def test_a_step_failure_quoting_a_secure_value_is_stored_masked(tmp_path: Path) -> None:
    def leaky_step(*, configuration: dict[str, str], call: object) -> None:
        raise RuntimeError(f"bad {configuration['value']}")

    harness = Harness(tmp_path, step_types={"test.Leaky": leaky_step})
    try:
        step = (
            "<command><step-plugin type='test.Leaky'><configuration>"
            "<entry key='value' value='${option.pw}'/></configuration></step-plugin></command>"
        )
        execution = harness.run(job_xml(step, options=OPTIONS), {"pw": CANARY})
        assert execution.status == ExecutionStatus.FAILED
        assert execution.failure == "Step 1 failed: test.Leaky: bad ********"
        harness.store.close()
        assert CANARY.encode() not in _stored_bytes(harness.root)
    finally:
        harness.close()

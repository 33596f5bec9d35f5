"""Secure option values never reach the store in clear: a canary through every step kind, searched for in the
database, its WAL and every output; the sealed data context still resumes an execution after a crash."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.rundeck_helpers import SERVER, Harness, job_xml, stored_bytes
from xlr_runtime.cli import main
from xlr_runtime.rundeck.jobs.xml_export import dump_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml
from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.secrets import is_sealed
from xlr_runtime.store import Store
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
        assert secret.encode() not in stored_bytes(harness.root)
        assert not [text for text in outputs if secret in text]
    harness.store.close()  # a checkpoint moves the WAL into the database file
    for secret in (CANARY, HIDDEN):
        assert secret.encode() not in stored_bytes(harness.root)


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
    assert CANARY.encode() not in stored_bytes(harness.root)


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
        assert CANARY.encode() not in stored_bytes(harness.root)
    finally:
        harness.close()


def test_a_childs_own_secure_value_is_masked_in_the_parents_copy_of_its_log(harness: Harness) -> None:
    KeyStore(harness.store).put("keys/child/db", CANARY, "password")
    child_option = "<option name='p' secure='true' valueExposed='true' storagePath='keys/child/db'/>"
    harness.add(job_xml("<command><exec>echo child ${option.p}</exec></command>", name="child", options=child_option))

    execution = harness.run(job_xml("<command><jobref name='child'/></command>", name="parent"))

    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    (child,) = [e for e in harness.store.executions.list() if e.parent_id == execution.id]
    assert (harness.output(execution.id), harness.output(child.id)) == (["child ********"], ["child ********"])
    harness.store.close()
    assert CANARY.encode() not in stored_bytes(harness.root)


PLUGIN_JOB = """<joblist><job><name>deploy</name><uuid>u-deploy</uuid><description/>
<context><options><option name='pw' secure='true' valueExposed='true'/></options></context>
<sequence keepgoing='false' strategy='node-first'>
<command><step-plugin type='demo.Call'><configuration>
<entry key='url' value='https://bob:${option.pw}@example.invalid/x'/><entry key='plain' value='no secret here'/>
</configuration></step-plugin></command>
<command><exec>echo next ${data.echoed}</exec></command>
</sequence></job></joblist>"""


def test_a_secure_value_in_a_task_steps_plain_input_is_sealed_in_the_task_and_masked_in_its_log(
    tmp_path: Path,
) -> None:
    """A secure option passed into a step plugin's non-password input: the task stores it sealed (as a password
    property), its runs and log mask it, and every CLI view of the task and the execution shows it masked."""
    plugin = tmp_path / "demo"
    (plugin / "demo").mkdir(parents=True)
    (plugin / "synthetic.xml").write_text(
        '<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">\n'
        '  <type type="demo.Call" extends="xlrelease.PythonScript">\n'
        '    <property name="url" category="input"/>\n'
        '    <property name="plain" category="input"/>\n'
        '    <property name="echoed" category="output" required="false"/>\n'
        "  </type>\n</synthetic>\n"
    )
    (plugin / "demo" / "Call.py").write_text(
        'print("calling " + url)\nprint("plain: " + plain)\necho = url.split(":")[2]\nechoed = "got " + url\n'
        'task.setStatusLine("status " + url)\n'
    )
    home = tmp_path / "home"
    home.mkdir()
    job = tmp_path / "job.xml"
    job.write_text(PLUGIN_JOB)
    runner = CliRunner()

    def xlr(*args: str) -> Result:
        return runner.invoke(main, list(args), env={"XLR_HOME": str(home), "XLR_PLUGIN_PATH": str(plugin)})

    assert xlr("jobs", "load", "-p", "P", "-f", str(job)).exit_code == 0
    ran = xlr("jobs", "run", "-p", "P", "-j", "deploy", "--follow", "--", "-pw", CANARY)
    assert ran.exit_code == 0, ran.output
    with Store.open(home / "xlr.db") as store:
        (task,) = store.tasks.list()
        assert is_sealed(task.inputs["url"]) and is_sealed(task.properties["url"])
        assert task.inputs["plain"] == "no secret here"  # only what derives from a secure value is sealed
        task_log = [line.text for line in store.tasks.log(task.id)]
    assert "calling ********" in task_log  # the whole value is the task's secret
    assert "plain: no secret here" in task_log
    outputs = [
        ran.output,
        xlr("task", "show", task.id).output,
        xlr("task", "show", task.id, "--json").output,
        xlr("task", "log", task.id).output,
        xlr("task", "log", task.id, "--json").output,
        xlr("execution", "log", "1").output,
        xlr("execution", "show", "1", "--json").output,
    ]
    assert "next got ********" in ran.output
    assert not [text for text in outputs if CANARY in text]
    assert "url = '********'" in outputs[1]
    assert not [line for line in task_log if "xlr-sealed:" in line]  # the script got the value opened
    assert CANARY.encode() not in stored_bytes(home)

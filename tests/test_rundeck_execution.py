"""Executions of Rundeck jobs with real processes: steps, options, flow, limits, nodes, secrets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.rundeck_helpers import SERVER, Harness, job_xml, serve_http, write_nodes
from tests.store_backends import another_store
from tests.waiting import joined, returns_within, wait_until
from xlr_runtime.errors import ClaimLostError, OptionValueError, StateError
from xlr_runtime.rundeck.run.execution import StepCall
from xlr_runtime.store import Store
from xlr_runtime.store.executions import Execution, ExecutionStatus


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path, step_types={"test.Echo": _echo_step, "test.Boom": _boom_step})
    yield h
    h.close()


def _echo_step(*, configuration: dict[str, str], call: StepCall) -> dict[str, str]:
    call.log(f"echo {configuration['text']} on {call.node.name if call.node else 'workflow'}")
    return {"echoed": configuration["text"]}


def _boom_step(*, configuration: dict[str, str], call: StepCall) -> None:
    raise RuntimeError("exploded")


def exec_(command: str, extra: str = "") -> str:
    return f"<command>{extra}<exec>{command}</exec></command>"


# -- steps ------------------------------------------------------------------------------------------------------


def test_exec_and_inline_script_with_options_tokens_and_data(harness: Harness) -> None:
    script = '<![CDATA[#!/bin/sh\necho "script @option.who@ $1 $RD_JOB_NAME"\necho RUNDECK:DATA:k=v1\n]]>'
    xml = job_xml(
        exec_("echo hello ${option.who}")
        + f"<command><script>{script}</script><scriptargs>'a b'</scriptargs></command>"
        + exec_("echo data=${data.k} code=${2:exec.exitCode} node=${node.name}"),
        options="<option name='who' value='world'/>",
    )
    execution = harness.run(xml, {"who": "there you"})
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert harness.output(execution.id) == [
        "hello there you",
        "script there you a job",  # Rundeck consumes the quotes of 'a b': the script gets a and b
        "RUNDECK:DATA:k=v1",
        f"data=v1 code=0 node={SERVER}",
    ]
    assert execution.succeeded_nodes == [SERVER]


def test_interpreter_args_quoted_and_file_extension(harness: Harness) -> None:
    xml = job_xml(
        "<command><script><![CDATA[print('py', __import__('sys').argv[1:])]]></script><scriptargs>x y</scriptargs>"
        "<scriptinterpreter>python3</scriptinterpreter><fileExtension>py</fileExtension></command>"
        '<command><script><![CDATA[echo "$0 $#"]]></script><scriptargs>1 2</scriptargs>'
        "<scriptinterpreter argsquoted='true'>sh -c</scriptinterpreter></command>"
    )
    execution = harness.run(xml)
    out = harness.output(execution.id)
    assert out[0] == "py ['x', 'y']"
    assert out[1].endswith(" 2") and "xlr-script-" in out[1]


def test_scriptfile_and_scripturl(harness: Harness, tmp_path: Path) -> None:
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\necho file @option.x@ $1\n")
    script.chmod(0o755)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"#!/bin/sh\necho url $1\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serve_http(Handler) as url:
        xml = job_xml(
            f"<command><scriptfile>{script}</scriptfile><scriptargs>${{option.x}}</scriptargs></command>"
            f"<command><scripturl>{url}/s.sh</scripturl><scriptargs>u</scriptargs></command>"
            "<command><scripturl>http://127.0.0.1:1/gone</scripturl></command>",
            options="<option name='x' value='1'/>",
        )
        execution = harness.run(xml)
    assert harness.output(execution.id)[:2] == ["file @option.x@ 1", "url u"]
    assert execution.status == ExecutionStatus.FAILED
    assert execution.failure is not None and execution.failure.startswith("Step 3 failed: scripturl could not be read")


def test_plugin_steps_from_pluggy_step_types(harness: Harness) -> None:
    xml = job_xml(
        "<command><step-plugin type='test.Echo'><configuration><entry key='text' value='${option.t}'/>"
        "</configuration></step-plugin></command>" + exec_("echo got ${data.echoed}"),
        options="<option name='t' value='hi'/>",
    )
    execution = harness.run(xml)
    assert harness.output(execution.id) == ["echo hi on workflow", "got hi"]
    failing = harness.run(job_xml("<command><step-plugin type='test.Boom'/></command>", name="boom"))
    assert failing.failure == "Step 1 failed: test.Boom: exploded"
    unknown = harness.run(job_xml("<command><step-plugin type='nope.Step'/></command>", name="unknown"))
    assert unknown.failure == "Step 1 failed: step type 'nope.Step' is not a loaded task type or a step plugin"


def test_job_reference_with_args_and_import_options(harness: Harness) -> None:
    harness.add(
        job_xml(exec_("echo child ${option.a} ${option.b}"), name="child",
                options="<option name='a'/><option name='b' value='dflt'/>", extra="<group>lib</group>")
    )  # fmt: skip
    parent = job_xml(
        "<command><jobref name='child' group='lib' importOptions='true'><arg line='-a ${option.x}'/></jobref>"
        "</command>" + exec_("echo after"),
        name="parent",
        options="<option name='x' value='X'/><option name='b' value='B'/>",
    )
    execution = harness.run(parent)
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert harness.output(execution.id) == ["child X B", "after"]
    missing = harness.run(job_xml("<command><jobref name='ghost'/></command>", name="ghost-ref"))
    assert missing.failure == "Step 1 failed: no job 'ghost' in project 'P'"


# -- options and refusals ---------------------------------------------------------------------------------------


def test_bad_option_is_refused_before_start(harness: Harness) -> None:
    job = harness.add(job_xml(exec_("true"), options="<option name='env' required='true' regex='dev|prod'/>"))
    with pytest.raises(OptionValueError) as info:
        harness.service.start("P", job, {"env": "qa"})
    assert str(info.value) == "option 'env': value 'qa' does not match the regular expression 'dev|prod'"
    assert harness.store.executions.list() == []


def test_multiple_executions_false_refuses_a_second_start(harness: Harness) -> None:
    job = harness.add(job_xml(exec_("true"), name="single"))
    first = harness.service.start("P", job)
    with pytest.raises(StateError) as info:
        harness.service.start("P", job)
    assert str(info.value) == (
        f"job 'single' is already running (execution {first.id}) and does not allow multiple executions"
    )
    many = harness.add(job_xml(exec_("true"), name="many", extra="<multipleExecutions>true</multipleExecutions>"))
    harness.service.start("P", many)
    harness.service.start("P", many)


def test_secure_values_stay_out_of_log_store_and_json(harness: Harness) -> None:
    xml = job_xml(
        exec_("echo pw=${option.pw} env=$RD_OPTION_PW hidden=[${option.token}] [$RD_OPTION_TOKEN]"),
        options="<option name='pw' secure='true' valueExposed='true'/><option name='token' secure='true'/>",
    )
    execution = harness.run(xml, {"pw": "s3cr3t-value", "token": "t0ken-value"})
    assert harness.output(execution.id) == ["pw=******** env=******** hidden=[] []"]
    dump = (harness.root / "xlr.db").read_bytes()
    assert b"s3cr3t-value" not in dump and b"t0ken-value" not in dump
    assert "s3cr3t" not in json.dumps(execution.to_json())
    assert execution.arg_string == "-pw ***** -token *****"


# -- flow ---------------------------------------------------------------------------------------------------------


def handler_job(*, handler_ok: bool | None, keepgoing: bool, kgos: bool) -> str:
    handler = ""
    if handler_ok is not None:
        code = "true" if handler_ok else "false"
        handler = (
            f"<errorhandler keepgoingOnSuccess='{str(kgos).lower()}'>"
            f"<exec>echo handler ${{result.reason}} ; {code}</exec></errorhandler>"
        )
    steps = f"<command>{handler}<exec>echo one; exit 3</exec></command>" + exec_("echo two")
    return job_xml(steps, name=f"h-{handler_ok}-{keepgoing}-{kgos}").replace(
        "keepgoing='false'", f"keepgoing='{str(keepgoing).lower()}'"
    )


@pytest.mark.parametrize(
    ("handler_ok", "keepgoing", "kgos", "status", "ran_two"),
    [
        (None, False, False, ExecutionStatus.FAILED, False),
        (None, True, False, ExecutionStatus.FAILED, True),
        (True, True, False, ExecutionStatus.SUCCEEDED, True),
        (False, True, False, ExecutionStatus.FAILED, True),
        (True, False, True, ExecutionStatus.SUCCEEDED, True),
        (True, False, False, ExecutionStatus.FAILED, False),
        (False, False, True, ExecutionStatus.FAILED, False),
    ],
)
def test_error_handler_table(
    harness: Harness, handler_ok: bool | None, keepgoing: bool, kgos: bool, status: ExecutionStatus, ran_two: bool
) -> None:
    execution = harness.run(handler_job(handler_ok=handler_ok, keepgoing=keepgoing, kgos=kgos))
    assert execution.status == status
    out = harness.output(execution.id)
    assert ("two" in out) == ran_two
    assert ("handler NonZeroResultCode" in out) == (handler_ok is not None)


# -- limits ---------------------------------------------------------------------------------------------------------


def test_timeout_ends_timedout_and_kills_the_step(harness: Harness) -> None:
    xml = job_xml(exec_("echo start; sleep 3600; echo never"), extra="<timeout>${option.t}</timeout>",
                  options="<option name='t' value='1s'/>")  # fmt: skip
    # a step left running would hold the run for an hour: ending at all shows it was killed at the timeout
    execution = returns_within(lambda: harness.run(xml), "the timed-out step was not killed")
    assert execution.status == ExecutionStatus.TIMEDOUT
    assert harness.output(execution.id) == ["start"]


def test_retry_with_delay_then_success(harness: Harness, tmp_path: Path) -> None:
    marker = tmp_path / "attempts"
    xml = job_xml(
        exec_(f"echo x >> {marker}; test $(wc -l &lt; {marker}) -ge 3 &amp;&amp; echo ok attempt $RD_JOB_RETRYATTEMPT"),
        extra="<retry delay='1s'>${option.n}</retry>",
        options="<option name='n' value='3'/>",
    )
    started = time.monotonic()
    last = harness.run(xml)
    assert last.status == ExecutionStatus.SUCCEEDED
    assert time.monotonic() - started >= 2
    chain = sorted(harness.store.executions.list(), key=lambda e: e.id)
    assert [(e.status, e.attempt, e.retry_prev_id) for e in chain] == [
        (ExecutionStatus.FAILED_WITH_RETRY, 0, None),
        (ExecutionStatus.FAILED_WITH_RETRY, 1, chain[0].id),
        (ExecutionStatus.SUCCEEDED, 2, chain[1].id),
    ]
    assert harness.output(last.id) == ["ok attempt 2"]


def test_an_attempt_ends_and_its_retry_is_queued_in_one_commit(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection reads the attempt when its retry is stored: still running, as the end and the retry
    commit together. Between two commits a loop waiting for the chain (``xlr jobs run``) saw it ended with
    its retry still to come, and a crash there left a failed-with-retry execution with no retry."""
    other = Store.open(harness.root / "xlr.db")
    create = harness.store.executions.create
    seen: list[ExecutionStatus] = []

    def spying_create(**kwargs: Any) -> Execution:
        if kwargs.get("retry_prev_id") is not None:
            seen.append(other.executions.get(kwargs["retry_prev_id"]).status)
        return create(**kwargs)

    monkeypatch.setattr(harness.store.executions, "create", spying_create)
    try:
        last = harness.run(job_xml(exec_("exit 1"), extra="<retry>1</retry>"))
    finally:
        other.close()
    assert seen == [ExecutionStatus.RUNNING]
    assert (last.status, last.attempt) == (ExecutionStatus.FAILED, 1)


def test_retry_count_must_be_a_number(harness: Harness) -> None:
    job = harness.add(
        job_xml(exec_("true"), extra="<retry>${option.n}</retry>", options="<option name='n' value='x'/>")
    )
    with pytest.raises(OptionValueError) as info:
        harness.service.start("P", job)
    assert str(info.value) == "retry count 'x' of job 'job' is not an integer"
    with pytest.raises(OptionValueError) as info:  # int() reads Arabic-Indic digits; Rundeck's parseInt does not
        harness.service.start("P", job, {"n": "\u0663"})
    assert str(info.value) == "retry count '\u0663' of job 'job' is not an integer"


@pytest.mark.parametrize(
    ("logging", "status", "custom", "lines"),
    [
        ("<logging limit='3' limitAction='halt'/>", ExecutionStatus.FAILED, None, ["1", "2", "3"]),
        ("<logging limit='3' limitAction='halt' status='aborted'/>", ExecutionStatus.ABORTED, None, ["1", "2", "3"]),
        ("<logging limit='3' limitAction='halt' status='toolong'/>", ExecutionStatus.OTHER, "toolong", ["1", "2", "3"]),
        ("<logging limit='3' limitAction='truncate'/>", ExecutionStatus.SUCCEEDED, None, ["1", "2", "3"]),
        ("<logging limit='4b' limitAction='truncate'/>", ExecutionStatus.SUCCEEDED, None, ["1", "2"]),
    ],
)
def test_log_limit(
    harness: Harness, logging: str, status: ExecutionStatus, custom: str | None, lines: list[str]
) -> None:
    execution = harness.run(job_xml(exec_("for i in 1 2 3 4 5 6; do echo $i; done") + exec_("true"), extra=logging))
    assert (execution.status, execution.custom_status) == (status, custom)
    assert harness.output(execution.id) == lines
    assert "Log output limit exceeded" in harness.output(execution.id, levels=("WARN",))[0]


def test_loglevel_filters_system_lines(harness: Harness) -> None:
    quiet = harness.run(job_xml(exec_("echo out"), name="quiet"))
    assert [line.level for line in harness.store.executions.log(quiet.id)] == ["NORMAL"]
    loud = harness.run(job_xml(exec_("echo out"), name="loud", extra="<loglevel>DEBUG</loglevel>"))
    assert "Step 1 on srv" in harness.output(loud.id, levels=("VERBOSE",))


def test_abort_a_running_execution(harness: Harness) -> None:
    job = harness.add(job_xml(exec_("echo started; sleep 30")))
    execution = harness.service.start("P", job)
    worker = threading.Thread(target=harness.finish, args=(execution.id,))
    worker.start()
    wait_until(lambda: harness.output(execution.id) == ["started"], "the step started")  # running, not queued
    harness.service.abort(execution.id)
    joined(worker, "the aborted execution did not end")
    assert harness.store.executions.get(execution.id).status == ExecutionStatus.ABORTED


# -- nodes --------------------------------------------------------------------------------------------------------


NODES = """
web1: {hostname: h1, node-executor: local, tags: 'web', rank: '2'}
web2: {hostname: h2, node-executor: local, tags: 'web', rank: '1'}
db1: {hostname: h3, node-executor: local, tags: 'db'}
remote: {hostname: far, node-executor: ssh-exec, tags: 'web,remote'}
"""


def test_node_dispatch_order_and_node_context(harness: Harness) -> None:
    write_nodes(harness.root, NODES)
    xml = job_xml(
        exec_("echo ${node.name} ${node.hostname}") + exec_("echo second ${node.name}"),
        extra="<dispatch><rankAttribute>rank</rankAttribute><rankOrder>descending</rankOrder></dispatch>"
        "<nodefilters><filter>tags: web !tags: remote</filter></nodefilters>",
    )
    execution = harness.run(xml)
    assert harness.output(execution.id) == ["web1 h1", "second web1", "web2 h2", "second web2"]
    step_first = harness.run(xml.replace("node-first", "step-first").replace("<name>job", "<name>sf"))
    assert harness.output(step_first.id) == ["web1 h1", "web2 h2", "second web1", "second web2"]


def test_unsupported_node_executor_and_dispatch_keepgoing(harness: Harness) -> None:
    write_nodes(harness.root, NODES)
    xml = job_xml(
        exec_("echo on ${node.name}"),
        extra="<dispatch><keepgoing>true</keepgoing></dispatch><nodefilters><filter>tags: web</filter></nodefilters>",
    )
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.FAILED
    assert execution.failed_nodes == ["remote"]
    assert sorted(execution.succeeded_nodes) == ["web1", "web2"]
    errors = harness.output(execution.id, levels=("ERROR",))
    assert (
        "Step 1 failed: UnsupportedNodeExecutor: node 'remote': node executor 'ssh-exec' is not supported "
        "(use local, jsch-ssh, sshj-ssh)"
    ) in errors


def test_threadcount_runs_nodes_in_parallel(harness: Harness, tmp_path: Path) -> None:
    write_nodes(harness.root, NODES)
    arrived = tmp_path / "arrived"
    arrived.mkdir()
    # Each node's step waits (up to 60 s) until the steps of all three nodes have started: run one after the
    # other, the first would give up seeing only itself.
    together = (
        f"touch {arrived}/${{node.name}} ; i=0; "  # spaced: a token holding a reference is shell-quoted whole
        f"while [ $(ls {arrived} | wc -l) -lt 3 ] &amp;&amp; [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; "
        f"echo ${{node.name}} saw $(ls {arrived} | wc -l)"
    )
    xml = job_xml(
        exec_(together),
        extra="<dispatch><threadcount>${option.tc}</threadcount></dispatch>"
        "<nodefilters><filter>web1 web2 db1</filter></nodefilters>",
        options="<option name='tc' value='3'/>",
    )
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert sorted(harness.output(execution.id)) == ["db1 saw 3", "web1 saw 3", "web2 saw 3"]


def test_empty_node_filter(harness: Harness) -> None:
    write_nodes(harness.root, NODES)
    nothing = harness.run(job_xml(exec_("true"), extra="<nodefilters><filter>name: none</filter></nodefilters>"))
    assert (nothing.status, nothing.failure) == (ExecutionStatus.FAILED, "No nodes matched the filter: name: none")
    allowed = harness.run(
        job_xml(
            exec_("true"),
            name="ok-empty",
            extra="<dispatch><successOnEmptyNodeFilter>true</successOnEmptyNodeFilter></dispatch>"
            "<nodefilters><filter>name: none</filter></nodefilters>",
        )
    )
    assert allowed.status == ExecutionStatus.SUCCEEDED


# -- restart ------------------------------------------------------------------------------------------------------


def test_resume_after_a_crash_reruns_the_running_step(harness: Harness, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    job = harness.add(job_xml(exec_("echo one") + exec_(f"echo two >> {marker}; echo two") + exec_("echo three")))
    execution = harness.service.start("P", job)
    store = harness.store
    store.execute("UPDATE executions SET status = 'running', owner = 'localhost:999999999:x' WHERE id = ?",
                  (execution.id,))  # fmt: skip
    store.executions.save_progress(
        execution.id,
        cursor={"nodes": [SERVER], "group": 0, "positions": {SERVER: 1}},
        context=[{"step": None, "node": None, "data": {"option": {}}}],
    )
    harness.service.recover()  # an owner without a row, of another host: gone (forgotten, or released)
    store.execute(
        "UPDATE executions SET owner = ? WHERE id = ?",
        (f"{__import__('socket').gethostname()}:999999999:x", execution.id),
    )
    harness.service.recover()
    ended = harness.finish(execution.id)
    assert ended.status == ExecutionStatus.SUCCEEDED
    assert ended.restarts == 1
    assert harness.output(ended.id) == ["two", "three"]
    assert marker.read_text() == "two\n"


def test_step_key_value_data_filter_regex(harness: Harness) -> None:
    log_filter = (
        "<plugins><LogFilter type='key-value-data'><config><regex>^OUT (\\w+)=(\\w+)$</regex></config>"
        "</LogFilter></plugins>"
    )
    xml = job_xml(
        exec_("echo OUT k=v2; echo RUNDECK:DATA:other=x", log_filter) + exec_("echo [${data.k}] [${data.other}]")
    )
    execution = harness.run(xml)
    assert harness.output(execution.id)[-1] == "[v2] []"


def test_a_job_whose_schedule_no_longer_fires_still_runs_by_hand(harness: Harness) -> None:
    from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml

    xml = job_xml(exec_("echo still here"), extra="<schedule crontab='0 0 12 * * ? 2020'/>")
    (job,) = load_jobs_xml(xml, path="old.xml", require_future=False)  # stored before 2020 ended
    execution = harness.run(job)
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("NORMAL", "ERROR"))
    assert harness.output(execution.id) == ["still here"]


def test_an_execution_another_runtime_took_over_is_left_alone_at_its_next_write(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    go = tmp_path / "go"
    steps = exec_(f"echo one; while [ ! -e {go} ]; do sleep 0.02; done; echo two") + exec_("echo three")
    started = harness.service.start("P", harness.add(job_xml(steps)), {})
    assert harness.service.tick() == 1
    texts = lambda: [line.text for line in harness.store.executions.log(started.id)]  # noqa: E731
    wait_until(lambda: "one" in texts(), "the first step's first line")
    with another_store(harness.store, owner="host-b:1:x") as taker:  # its lease ran out: taken over
        taker.executions.requeue_running(now=time.time(), owners=[harness.store.owner])
        [resumed] = taker.executions.claim_due(time.time(), owner=taker.owner, limit=1)
        go.touch()
        harness.service.join(timeout=60)

        lost = [r for r in caplog.records if r.name == "xlr_runtime.rundeck.run.execution" and r.levelname == "WARNING"]
        assert [r.getMessage() for r in lost] == [str(ClaimLostError(started.id, 1))]
        assert "two" not in texts() and "three" not in texts()
        assert taker.executions.get(started.id) == resumed  # running for the other runtime, as it claimed it

"""Rundeck jobs on remote nodes over SSH, against real OpenSSH servers on 127.0.0.1 (tests/ssh_helpers.py)."""

from __future__ import annotations

import http.server
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import Serve
from task_helpers import XLR_COMMAND

from tests.rundeck_helpers import SERVER, Harness, job_xml, serve_http, stored_bytes
from tests.ssh_helpers import PASSWORD_USER, SshLab, free_port, key_node, keygen, silent_port, write_project
from tests.waiting import wait_until
from xlr_runtime.rundeck.jobs.xml_export import dump_jobs_xml
from xlr_runtime.rundeck.nodes.properties import ProjectProperties
from xlr_runtime.rundeck.nodes.resources import Node
from xlr_runtime.rundeck.nodes.ssh.credentials import load_credentials
from xlr_runtime.rundeck.nodes.ssh.sessions import connect
from xlr_runtime.rundeck.nodes.ssh.target import resolve_target
from xlr_runtime.store import Store
from xlr_runtime.store.executions import ExecutionStatus

KEY_NODES = ("n1", "n2", "n3")
#: Every node at once, going on past failed ones (the output is compared per node, so order does not matter).
KEEPGOING = "<keepgoing>true</keepgoing><threadcount>4</threadcount>"
ALL_AT_ONCE = "<threadcount>4</threadcount>"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """The project's file-copy-destination-dir (project.properties), empty."""
    folder = tmp_path / "dest"
    folder.mkdir()
    return folder


def lab_nodes(lab: SshLab) -> dict[str, dict[str, str]]:
    return {name: key_node(lab, name) for name in KEY_NODES}


def by_node(harness: Harness, execution_id: int) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    for line in harness.store.executions.log(execution_id):
        if line.level == "NORMAL":
            lines.setdefault(line.node or "", []).append(line.text)
    return lines


def exec_(command: str) -> str:
    return f"<command><exec>{command}</exec></command>"


def filtered(steps: str, node_filter: str, *, dispatch: str = "", **kwargs: str) -> str:
    extra = f"<dispatch>{dispatch}</dispatch><nodefilters><filter>{node_filter}</filter></nodefilters>"
    return job_xml(steps, extra=extra + kwargs.pop("extra", ""), **kwargs)


def remote_processes(command: str) -> list[str]:
    """The pids of the processes whose whole command line matches ``command`` (a regex; the sshd servers run on
    this machine)."""
    found = subprocess.run(["pgrep", "-f", f"^{command}$"], capture_output=True, text=True)
    return found.stdout.split()


def test_every_step_kind_runs_on_every_node_and_leaves_no_script(
    ssh_lab: SshLab, harness: Harness, dest: Path, tmp_path: Path
) -> None:
    write_project(harness.root, lab_nodes(ssh_lab), {"project.file-copy-destination-dir": str(dest)})
    script_file = tmp_path / "check.sh"
    script_file.write_text('echo "scriptfile $1 on $RD_NODE_NAME"\n')
    script_file.chmod(0o755)

    class Script(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'echo "scripturl $1 as $(id -un) exit" ; exit 0\n'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serve_http(Script) as base:
        steps = (
            exec_("echo exec ${node.name} ${option.word} $RD_OPTION_WORD")
            + '<command><script><![CDATA[echo "inline @node.name@ $1"\necho RUNDECK:DATA:seen=@node.name@\n]]>'
            "</script><scriptargs>${option.word}</scriptargs></command>"
            + f"<command><scriptfile>{script_file}</scriptfile><scriptargs>one</scriptargs>"
            "<scriptinterpreter argsquoted='true'>/bin/sh -c</scriptinterpreter></command>"
            + f"<command><scripturl>{base}/s.sh</scripturl><scriptargs>two</scriptargs>"
            "<scriptinterpreter>/bin/sh</scriptinterpreter></command>" + exec_("echo data ${data.seen}")
        )
        options = "<option name='word' value='hello'/>"
        execution = harness.run(filtered(steps, ".*", dispatch=ALL_AT_ONCE, options=options))
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    user = ssh_lab.user
    assert by_node(harness, execution.id) == {
        node: [
            f"exec {node} hello hello",
            f"inline {node} hello",
            f"RUNDECK:DATA:seen={node}",
            f"scriptfile one on {node}",
            f"scripturl two as {user} exit",
            f"data {node}",
        ]
        for node in (*KEY_NODES, SERVER)
    }
    assert list(dest.iterdir()) == []


def test_exit_codes_and_stderr_are_per_node(ssh_lab: SshLab, harness: Harness) -> None:
    write_project(harness.root, lab_nodes(ssh_lab))
    command = "echo out $RD_NODE_NAME; echo err $RD_NODE_NAME &gt;&amp;2; test $RD_NODE_NAME != n2 || exit 3"
    execution = harness.run(filtered(exec_(command), "tags: ssh", dispatch=KEEPGOING))
    assert (execution.status, execution.failed_nodes, sorted(execution.succeeded_nodes)) == (
        ExecutionStatus.FAILED,
        ["n2"],
        ["n1", "n3"],
    )
    errors = [(line.node, line.text) for line in harness.store.executions.log(execution.id) if line.level == "ERROR"]
    assert ("n2", "err n2") in errors and ("n1", "err n1") in errors
    assert ("n2", "Step 1 failed: NonZeroResultCode: Result: 3") in errors


def test_one_connection_per_node_is_reused_by_every_step(ssh_lab: SshLab, harness: Harness) -> None:
    write_project(harness.root, lab_nodes(ssh_lab))
    steps = "".join(exec_("echo $SSH_CONNECTION") for _ in range(3))
    execution = harness.run(filtered(steps, "tags: ssh", dispatch=ALL_AT_ONCE))
    assert execution.status == ExecutionStatus.SUCCEEDED
    lines = by_node(harness, execution.id)
    assert {node: len(set(lines[node])) for node in KEY_NODES} == dict.fromkeys(KEY_NODES, 1), lines
    assert len({lines[node][0] for node in KEY_NODES}) == 3


def test_rd_variables_reach_servers_that_accept_env_and_those_that_do_not(ssh_lab: SshLab, harness: Harness) -> None:
    target_of = {
        name: resolve_target(Node(name, key_node(ssh_lab, name), source="t"), ProjectProperties(), str)
        for name in ("n1", "n2")
    }
    accepts = {}
    for name, target in target_of.items():
        session = connect(target, load_credentials(target, keys=harness.service.keys, secure={}))
        accepts[name] = session.accepts_env
        session.close()
    assert accepts == {"n1": True, "n2": False}
    write_project(harness.root, lab_nodes(ssh_lab))
    command = 'echo "$RD_JOB_NAME $RD_OPTION_QUOTE"'
    options = "<option name='quote' value=\"it's a \\$HOME\"/>"
    execution = harness.run(filtered(exec_(command), "name: n1,n2", dispatch=ALL_AT_ONCE, options=options))
    assert by_node(harness, execution.id) == {n: ["job it's a \\$HOME"] for n in ("n1", "n2")}


def test_threadcount_three_runs_the_nodes_at_the_same_time(ssh_lab: SshLab, harness: Harness, tmp_path: Path) -> None:
    write_project(harness.root, lab_nodes(ssh_lab))
    started = tmp_path / "started"
    started.touch()
    # each node records its start, then waits (up to 60 s) until all three have started: only overlap passes
    command = (
        f"echo ${{node.name}} &gt;&gt; {started}; i=0; "
        f"while [ $(wc -l &lt; {started}) -lt 3 ] &amp;&amp; [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; "
        f"echo saw $(wc -l &lt; {started})"
    )
    execution = harness.run(filtered(exec_(command), "tags: ssh", dispatch="<threadcount>3</threadcount>"))
    assert by_node(harness, execution.id) == {n: ["saw 3"] for n in KEY_NODES}
    assert sorted(started.read_text().split()) == list(KEY_NODES)


def test_keepgoing_goes_on_past_unreachable_nodes_with_one_line_each(ssh_lab: SshLab, harness: Harness) -> None:
    closed = free_port()
    with silent_port() as hanging:
        nodes = {
            **lab_nodes(ssh_lab),
            "down": key_node(ssh_lab, "n1", hostname=f"127.0.0.1:{closed}"),
            "hang": key_node(ssh_lab, "n1", hostname=f"127.0.0.1:{hanging}", **{"ssh-connect-timeout": "1000"}),
        }
        write_project(harness.root, nodes)
        execution = harness.run(filtered(exec_("echo up ${node.name}"), "tags: ssh", dispatch=KEEPGOING))
    assert (execution.status, sorted(execution.failed_nodes)) == (ExecutionStatus.FAILED, ["down", "hang"])
    assert by_node(harness, execution.id) == {n: [f"up {n}"] for n in KEY_NODES}
    errors = harness.output(execution.id, levels=("ERROR",))
    assert f"Step 1 failed: ConnectionFailure: node 'down' (127.0.0.1:{closed}): connection refused" in errors
    assert (
        f"Step 1 failed: ConnectionTimeout: node 'hang' (127.0.0.1:{hanging}): "
        "the server did not answer the SSH handshake within 1 s"
    ) in errors


def test_wrong_key_and_host_key_mismatch_fail_their_node_clearly(
    ssh_lab: SshLab, harness: Harness, tmp_path: Path
) -> None:
    stranger = keygen(tmp_path / "stranger")
    n1, n2 = ssh_lab.server("n1"), ssh_lab.server("n2")
    known = tmp_path / "known_hosts"
    known.write_text(n2.host_key_line.replace(f"]:{n2.port} ", f"]:{n1.port} ") + "\n" + n2.host_key_line + "\n")
    strict = {"ssh-config-StrictHostKeyChecking": "yes", "ssh-known-hosts-file": str(known)}
    nodes = {
        "wrongkey": key_node(ssh_lab, "n1", **{"ssh-keypath": str(stranger)}),
        "mismatch": key_node(ssh_lab, "n1", **strict),
        "unknown": key_node(ssh_lab, "n3", **strict),
        "trusted": key_node(ssh_lab, "n2", **strict),
    }
    write_project(harness.root, nodes)
    execution = harness.run(filtered(exec_("echo ok"), "tags: ssh", dispatch=KEEPGOING))
    assert (sorted(execution.failed_nodes), execution.succeeded_nodes) == (
        ["mismatch", "unknown", "wrongkey"],
        ["trusted"],
    )
    errors = harness.output(execution.id, levels=("ERROR",))
    user = ssh_lab.user
    assert (
        f"Step 1 failed: AuthenticationFailure: node 'wrongkey' (127.0.0.1:{n1.port}): "
        f"authentication failed for user '{user}' (private key)"
    ) in errors
    assert (
        f"Step 1 failed: HostKeyFailure: node 'mismatch' (127.0.0.1:{n1.port}): host key mismatch: "
        f"the server's ssh-ed25519 key is not the one in {known}"
    ) in errors
    n3 = ssh_lab.server("n3").port
    assert (
        f"Step 1 failed: HostKeyFailure: node 'unknown' (127.0.0.1:{n3}): host key not found in {known} "
        "(strict host key checking)"
    ) in errors


def test_command_timeout_fails_the_node_and_kills_its_processes(ssh_lab: SshLab, harness: Harness) -> None:
    write_project(harness.root, {"n1": key_node(ssh_lab, "n1", **{"ssh-command-timeout": "500"})})
    sleeper = f"sleep 47{secrets.randbelow(10**6)}"  # this test's own process
    execution = harness.run(filtered(exec_(f"echo started; {sleeper}; echo never"), "name: n1"))
    port = ssh_lab.server("n1").port
    assert (execution.status, execution.failure) == (
        ExecutionStatus.FAILED,
        f"Step 1 failed: node 'n1' (127.0.0.1:{port}): command timed out after 0.5 s",
    )
    assert harness.output(execution.id) == ["started"]
    wait_until(lambda: not remote_processes(sleeper), "the remote sleep is gone")


def test_abort_mid_command_kills_the_remote_process_group(ssh_lab: SshLab, harness: Harness) -> None:
    write_project(harness.root, lab_nodes(ssh_lab))
    child, parent = (f"sleep 47{secrets.randbelow(10**6)}.{n}" for n in (1, 2))  # this test's own processes
    job = harness.add(filtered(exec_(f"echo started; ({child}; echo child) &amp; {parent}"), "name: n1"))
    started = harness.service.start("P", job)
    runner = threading.Thread(target=harness.finish, args=(started.id,))
    runner.start()
    wait_until(lambda: harness.output(started.id) == ["started"], "the remote command started")
    wait_until(lambda: remote_processes(child) and remote_processes(parent), "both remote sleeps run")
    harness.service.abort(started.id)
    runner.join(60)
    assert harness.service.final_of_chain(started.id).status == ExecutionStatus.ABORTED
    wait_until(lambda: not remote_processes(child) and not remote_processes(parent), "the remote sleeps are gone")


def test_no_password_or_passphrase_in_logs_executions_or_exports(
    ssh_lab: SshLab, harness: Harness, tmp_path: Path
) -> None:
    passphrase = "canary-passphrase-7f3e"
    locked = keygen(tmp_path / "locked", passphrase=passphrase)
    authorized = ssh_lab.server("n3").folder / "authorized_keys"
    original = authorized.read_text()
    authorized.write_text(original + locked.with_suffix(".pub").read_text())
    try:
        nodes = {"n3": key_node(ssh_lab, "n3", **{"ssh-keypath": str(locked)})}
        secret_values = {"sshKeyPassphrase": passphrase}
        if ssh_lab.password:
            nodes["pw"] = {
                "hostname": f"127.0.0.1:{ssh_lab.server('pw').port}",
                "username": "${option.remoteUser}",
                "ssh-authentication": "password",
                "file-copy-destination-dir": "/tmp",
                "tags": "ssh",
            }
            secret_values["sshPassword"] = ssh_lab.password
        write_project(harness.root, nodes)
        options = (
            "<option name='sshKeyPassphrase' secure='true'/><option name='sshPassword' secure='true'/>"
            f"<option name='remoteUser' value='{PASSWORD_USER}'/>"
        )
        script = "<command><script>echo script as $(id -un)</script></command>"
        steps = exec_("id -un; echo ${option.sshPassword}") + script
        execution = harness.run(filtered(steps, "tags: ssh", dispatch=ALL_AT_ONCE, options=options), secret_values)
    finally:
        authorized.write_text(original)
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    expected = {"n3": [ssh_lab.user, "", f"script as {ssh_lab.user}"]}
    if ssh_lab.password:
        expected["pw"] = [PASSWORD_USER, "", f"script as {PASSWORD_USER}"]
    assert by_node(harness, execution.id) == expected
    stored = stored_bytes(harness.root)
    export = dump_jobs_xml([harness.jobs.find("P", name="job")])
    for secret in secret_values.values():
        assert secret.encode() not in stored and secret not in export


def test_a_project_default_executor_that_is_not_run_here_is_refused(ssh_lab: SshLab, harness: Harness) -> None:
    nodes = {**lab_nodes(ssh_lab), "here": {"hostname": "localhost", "node-executor": "local", "tags": "ssh"}}
    write_project(harness.root, nodes, {"service.NodeExecutor.default.provider": "ssh-exec"})
    execution = harness.run(filtered(exec_("echo on ${node.name}"), "tags: ssh", dispatch=KEEPGOING))
    assert (sorted(execution.failed_nodes), execution.succeeded_nodes) == (list(KEY_NODES), ["here"])
    assert (
        "Step 1 failed: UnsupportedNodeExecutor: node 'n1': node executor 'ssh-exec' is not supported "
        "(use local, jsch-ssh, sshj-ssh)"
    ) in harness.output(execution.id, levels=("ERROR",))


@pytest.mark.parametrize("strategy", ["step-first", "parallel"])
def test_strategies_run_on_remote_nodes_as_on_local_ones(ssh_lab: SshLab, harness: Harness, strategy: str) -> None:
    write_project(harness.root, lab_nodes(ssh_lab))
    steps = exec_("echo one ${node.name}") + exec_("echo two ${node.name}")
    xml = filtered(steps, "name: n1,n2").replace("strategy='node-first'", f"strategy='{strategy}'")
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.SUCCEEDED
    lines = by_node(harness, execution.id)
    if strategy == "parallel":  # both steps start at once: their order on a node is not defined
        lines = {node: sorted(texts) for node, texts in lines.items()}
    assert lines == {n: [f"one {n}", f"two {n}"] for n in ("n1", "n2")}


def test_keys_and_passwords_come_from_key_storage(ssh_lab: SshLab, harness: Harness) -> None:
    key_text = ssh_lab.client_key.read_text()
    harness.service.keys.put("keys/project/P/n1.key", key_text, "private")
    nodes = {"n1": key_node(ssh_lab, "n1", **{"ssh-key-storage-path": "keys/project/${job.project}/n1.key"})}
    nodes["n1"].pop("ssh-keypath")
    if ssh_lab.password:
        harness.service.keys.put("keys/project/P/pw.pass", ssh_lab.password, "password")
        nodes["pw"] = {
            "hostname": f"127.0.0.1:{ssh_lab.server('pw').port}",
            "username": PASSWORD_USER,
            "ssh-authentication": "password",
            "ssh-password-storage-path": "keys/project/P/pw.pass",
            "tags": "ssh",
        }
    write_project(harness.root, nodes)
    execution = harness.run(filtered(exec_("echo as $(id -un)"), "tags: ssh", dispatch=ALL_AT_ONCE))
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    expected = {"n1": [f"as {ssh_lab.user}"]}
    if ssh_lab.password:
        expected["pw"] = [f"as {PASSWORD_USER}"]
    assert by_node(harness, execution.id) == expected
    stored = stored_bytes(harness.root)
    body = "".join(key_text.splitlines()[1:-1])[:40]  # a piece of the key's base64 body
    assert body.encode() not in stored
    if ssh_lab.password:
        assert ssh_lab.password.encode() not in stored


SERVED_JOB = """<joblist><job><name>served</name><description/>
<dispatch><threadcount>2</threadcount></dispatch><nodefilters><filter>name: n1,n2</filter></nodefilters>
<sequence><command><exec>echo one</exec></command>
<command><exec>echo waiting; i=0; while [ ! -f {release} ] &amp;&amp; [ $i -lt 6000 ]; \
do sleep 0.01; i=$((i+1)); done; echo slept</exec></command>
<command><exec>echo done</exec></command>
</sequence></job></joblist>"""


@pytest.mark.slow
def test_serve_killed_during_a_remote_step_resumes_it_after_a_restart(ssh_lab: SshLab, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_project(home, {name: key_node(ssh_lab, name) for name in ("n1", "n2")})
    release = tmp_path / "release"  # the sshd servers run on this machine: the remote loop sees the file
    job = tmp_path / "served.xml"
    job.write_text(SERVED_JOB.replace("{release}", str(release)))
    loaded = subprocess.run([*XLR_COMMAND, "jobs", "load", "--home", str(home), "-p", "P", "-f", str(job)],
                            capture_output=True, text=True)  # fmt: skip
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    log = tmp_path / "serve.log"
    with Serve(home, log) as first:
        first.wait_ready()
        command = [*XLR_COMMAND, "jobs", "run", "--home", str(home), "-p", "P", "-j", "served", "--follow"]
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def waiting_on_both() -> bool:
            with Store.open(home / "xlr.db") as store:
                return sum(line.text == "waiting" for line in store.executions.log(1)) == 2

        wait_until(waiting_on_both, "both nodes run step 2")
        first.kill()
    with Serve(home, log) as second:
        second.wait_ready()
        release.touch()
        output, _ = run.communicate(timeout=120)
        second.stop()
    text = output.decode()
    assert run.returncode == 0, text
    assert "Resumed after a restart of the runtime" in text
    lines = text.splitlines()
    assert (lines.count("one"), lines.count("waiting"), lines.count("done")) == (2, 4, 2), text


def test_a_log_limit_halt_stops_the_remote_command(ssh_lab: SshLab, harness: Harness) -> None:
    write_project(harness.root, lab_nodes(ssh_lab))
    sleeper = f"sleep 47{secrets.randbelow(10**6)}"  # this test's own process
    limit = "<logging limit='2' limitAction='halt' status='failed'/>"
    command = f"echo a; echo b; echo c; {sleeper}"
    execution = harness.run(filtered(exec_(command), "name: n1", extra=limit))
    assert (execution.status, execution.failure, harness.output(execution.id)) == (
        ExecutionStatus.FAILED,
        "Log output limit exceeded",
        ["a", "b"],
    )
    wait_until(lambda: not remote_processes(sleeper), "the remote sleep is gone")

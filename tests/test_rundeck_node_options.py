"""A secure option whose ``storagePath`` refers to ``${node.*}`` reads its default per node, as a node step runs
there (Rundeck's node-deferred secure options): each node its own value, a given value wins, a required option
that cannot be read fails only that node's steps, an optional one warns and goes on. Real key storage, a real
store, local nodes, and real OpenSSH servers for a per-node key passphrase; canary values are searched for in
the database, the log, the execution's JSON and the exports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notification_helpers import World, running_smtp, running_webhooks
from tests.rundeck_helpers import Harness, job_xml, stored_bytes
from tests.ssh_helpers import SshLab, key_node, keygen, write_project
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.jobs.xml_export import dump_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml, load_jobs_yaml
from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.store.executions import ExecutionStatus

SECRETS = {"web1": "n0de-one-canary", "web2": "n0de-two-canary"}
#: Two local nodes; ``vault`` is a custom attribute the storage paths refer to.
NODES = """
web1: {hostname: h1, node-executor: local, tags: web, vault: alpha}
web2: {hostname: h2, node-executor: local, tags: web, vault: beta}
"""
ON_WEB = "<dispatch><keepgoing>true</keepgoing></dispatch><nodefilters><filter>tags: web</filter></nodefilters>"


def secure_option(path: str, *, required: bool = False, value: str = "", exposed: bool = True) -> str:
    extra = (" required='true'" if required else "") + (f" value='{value}'" if value else "")
    return f"<option name='pw' secure='true' valueExposed='{str(exposed).lower()}' storagePath='{path}'{extra}/>"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path, nodes=NODES)
    yield h
    h.close()


def by_node(harness: Harness, execution_id: int, levels: tuple[str, ...] = ("NORMAL",)) -> dict[str | None, list[str]]:
    lines: dict[str | None, list[str]] = {}
    for line in harness.store.executions.log(execution_id):
        if line.level in levels:
            lines.setdefault(line.node, []).append(line.text)
    return lines


def test_each_node_reads_its_own_value_and_it_never_shows(harness: Harness, tmp_path: Path) -> None:
    keys = KeyStore(harness.store)
    keys.put("keys/prod/alpha/web1/db", SECRETS["web1"], "password")
    keys.put("keys/prod/beta/web2/db", SECRETS["web2"], "password")
    harness.add(
        job_xml(
            "<command><exec>echo child ${option.pw}</exec></command>",
            name="child",
            options=secure_option("keys/prod/beta/${node.name}/db", required=True),
            extra="<nodefilters><filter>name: web2</filter></nodefilters>",
        )
    )
    seen = tmp_path / "seen"
    seen.mkdir()
    steps = (
        "<command><exec>echo got ${option.pw} on ${node.name}</exec></command>"
        f"<command><exec>echo -n $RD_OPTION_PW &gt; {seen}/${{node.name}}</exec></command>"
        "<command><script>echo script @option.pw@ @secureOption.pw@\necho RUNDECK:DATA:copy=$RD_OPTION_PW</script>"
        "</command><command><exec>echo data ${data.copy}</exec></command>"
        "<command><jobref name='child'/></command>"
    )
    options = "<option name='env' value='prod'/>" + secure_option(
        "keys/${option.env}/${node.vault}/${node.name}/db", required=True
    )
    job = harness.add(job_xml(steps, options=options, extra=ON_WEB))

    execution = harness.run(job)

    assert execution.status == ExecutionStatus.SUCCEEDED, by_node(harness, execution.id, ("ERROR", "WARN"))
    assert {path.name: path.read_text() for path in seen.iterdir()} == SECRETS
    masked = ["got ******** on {}", "script ******** ********", "RUNDECK:DATA:copy=********", "data ********"]
    expected = {n: [line.format(n) for line in masked] for n in ("web1", "web2")}
    expected["web2"].append("child ********")  # the child job runs on web2 after the parent's node steps
    assert by_node(harness, execution.id) == expected
    assert not by_node(harness, execution.id, ("WARN", "ERROR"))
    outputs = [
        json.dumps([e.to_json() for e in harness.store.executions.list()]),
        json.dumps([line.text for e in harness.store.executions.list() for line in harness.store.executions.log(e.id)]),
        dump_jobs_xml([job]),
        dump_jobs_yaml([job]),
    ]
    assert not [text for text in outputs for secret in SECRETS.values() if secret in text]
    harness.store.close()
    assert not [secret for secret in SECRETS.values() if secret.encode() in stored_bytes(harness.root)]


def test_a_workflow_step_runs_on_no_node_and_sees_no_value(harness: Harness) -> None:
    KeyStore(harness.store).put("keys/n/web1", SECRETS["web1"], "password")
    seen: list[dict[str, dict[str, str]]] = []
    harness.service.step_types["test.Look"] = lambda *, configuration, call: seen.append(call.context) and None
    steps = "<command><step-plugin type='test.Look'/></command><command><exec>echo [${option.pw}]</exec></command>"
    job = harness.add(
        job_xml(steps, options=secure_option("keys/n/${node.name}"), extra=ON_WEB.replace("tags: web", "web1"))
    )

    execution = harness.run(job)

    assert execution.status == ExecutionStatus.SUCCEEDED, by_node(harness, execution.id, ("ERROR", "WARN"))
    assert "pw" not in seen[0].get("option", {}) and "secureOption" not in seen[0]
    assert by_node(harness, execution.id) == {"web1": ["[********]"]}


def test_a_given_value_wins_over_every_node(harness: Harness) -> None:
    job = harness.add(
        job_xml(
            "<command><exec>echo ${node.name} $RD_OPTION_PW</exec></command>",
            options=secure_option("keys/none/${node.name}", required=True),
            extra=ON_WEB,
        )
    )

    execution = harness.run(job, {"pw": "given"})

    assert execution.status == ExecutionStatus.SUCCEEDED, by_node(harness, execution.id, ("ERROR", "WARN"))
    assert by_node(harness, execution.id) == {"web1": ["web1 ********"], "web2": ["web2 ********"]}
    assert harness.store.executions.get(execution.id).options == {"pw": "*****"}


def test_a_required_option_fails_only_the_steps_of_the_node_without_a_key(harness: Harness) -> None:
    KeyStore(harness.store).put("keys/nodes/h1/db", SECRETS["web1"], "password")
    steps = "<command><exec>echo one ${node.name}</exec></command><command><exec>echo two ${node.name}</exec></command>"
    job = harness.add(
        job_xml(steps, options=secure_option("keys/nodes/${node.hostname}/db", required=True), extra=ON_WEB)
    )

    execution = harness.run(job)

    assert execution.status == ExecutionStatus.FAILED
    assert (execution.succeeded_nodes, execution.failed_nodes) == (["web1"], ["web2"])
    reason = (
        "option 'pw' is required and its default for node web2 could not be read from key storage path "
        "keys/nodes/h2/db: no key is stored there"
    )
    assert execution.failure == f"Step 1 failed: {reason}"
    assert by_node(harness, execution.id, ("NORMAL", "WARN", "ERROR")) == {
        "web1": ["one web1", "two web1"],
        "web2": [f"Step 1 failed: StepFailure: {reason}"],
        None: ["Execution failed"],
    }


def test_an_optional_option_warns_once_per_node_and_takes_its_value_default(harness: Harness) -> None:
    KeyStore(harness.store).put("keys/nodes/web1/db", SECRETS["web1"], "password")
    steps = "<command><exec>echo one [$RD_OPTION_PW]</exec></command><command><exec>echo two</exec></command>"
    options = secure_option("keys/nodes/${node.name}/db", value="fallback")
    job = harness.add(job_xml(steps, options=options, extra=ON_WEB))

    execution = harness.run(job)

    assert execution.status == ExecutionStatus.SUCCEEDED, by_node(harness, execution.id, ("ERROR", "WARN"))
    assert by_node(harness, execution.id, ("NORMAL", "WARN")) == {
        "web1": ["one [********]", "two"],
        "web2": [
            "Option 'pw': its default for node web2 could not be read from key storage path keys/nodes/web2/db: "
            "no key is stored there",
            "one [********]",
            "two",
        ],
    }


def test_a_key_that_is_not_a_password_is_refused_naming_the_node(harness: Harness) -> None:
    KeyStore(harness.store).put("keys/nodes/web1/db", "ssh-ed25519 AAAA " + SECRETS["web1"], "public")
    job = harness.add(
        job_xml(
            "<command><exec>true</exec></command>",
            options=secure_option("keys/nodes/${node.name}/db", required=True),
            extra=ON_WEB.replace("tags: web", "web1"),
        )
    )

    execution = harness.run(job)

    assert execution.failure == (
        "Step 1 failed: option 'pw' is required and its default for node web1 could not be read from key storage "
        "path keys/nodes/web1/db: the entry is a public key, not a password"
    )


def test_notifications_never_carry_a_value_read_per_node(tmp_path: Path) -> None:
    with running_smtp() as (mailbox, port), running_webhooks() as (hooks, base):
        world = World(tmp_path, smtp_port=port)
        try:
            KeyStore(world.store).put("keys/nodes/srv", SECRETS["web1"], "password")
            notify = (
                f"<onfailure><webhook urls='{base}/failed' format='json'/>"
                "<email recipients='ops@example.com' attachLog='true' attachLogInline='true'/></onfailure>"
            )
            options = "<option name='token' secure='true'/>" + secure_option("keys/nodes/${node.name}")
            steps = "<command><exec>echo got ${option.pw}</exec></command><command><exec>exit 3</exec></command>"
            extra = f"<notification>{notify}</notification>"
            execution = world.run(job_xml(steps, options=options, extra=extra))
        finally:
            world.store.close()

    assert execution.status == ExecutionStatus.FAILED
    assert [len(hooks.requests), len(mailbox.raw)] == [1, 1]
    assert "got ********" in mailbox.messages[0].as_string()
    assert SECRETS["web1"].encode() not in hooks.requests[0]["body"] + mailbox.raw[0]


@pytest.mark.parametrize("fmt", ["xml", "yaml"])
def test_node_references_in_a_storage_path_round_trip_unchanged(harness: Harness, fmt: str) -> None:
    path = "keys/project/${job.project}/${node.name}/${node.ssh-user}/db"
    xml = job_xml("<command><exec>true</exec></command>", options=secure_option(path, required=True))
    (from_xml,) = load_jobs_xml(xml, path="job.xml")
    text = dump_jobs_xml([from_xml]) if fmt == "xml" else dump_jobs_yaml([from_xml])
    (job,) = load_jobs_xml(text, path="a.xml") if fmt == "xml" else load_jobs_yaml(text, path="a.yaml")
    jobs = JobStore(harness.store)

    jobs.load("P", [job], now=0.0)
    (stored,) = jobs.list("P")

    assert stored.options[0].storage_path == path
    exported = dump_jobs_xml([stored]) if fmt == "xml" else dump_jobs_yaml([stored])
    assert exported == text
    assert path in exported


def test_each_remote_node_unlocks_its_key_with_its_own_passphrase(
    ssh_lab: SshLab, harness: Harness, tmp_path: Path
) -> None:
    passphrases = {"n1": "pass-one-canary", "n2": "pass-two-canary"}
    nodes, originals = {}, {}
    for name, passphrase in passphrases.items():
        locked = keygen(tmp_path / f"locked-{name}", passphrase=passphrase)
        authorized = ssh_lab.server(name).folder / "authorized_keys"
        originals[authorized] = authorized.read_text()
        authorized.write_text(originals[authorized] + locked.with_suffix(".pub").read_text())
        nodes[name] = key_node(ssh_lab, name, **{"ssh-keypath": str(locked)})
        KeyStore(harness.store).put(f"keys/passphrases/{name}", passphrase, "password")
    write_project(harness.root, nodes)
    option = "<option name='sshKeyPassphrase' secure='true' storagePath='keys/passphrases/${node.name}'/>"
    extra = "<dispatch><threadcount>2</threadcount></dispatch><nodefilters><filter>tags: ssh</filter></nodefilters>"
    job = harness.add(job_xml("<command><exec>echo on ${node.name}</exec></command>", options=option, extra=extra))
    try:
        execution = harness.run(job)
    finally:
        for authorized, text in originals.items():
            authorized.write_text(text)

    assert execution.status == ExecutionStatus.SUCCEEDED, by_node(harness, execution.id, ("ERROR", "WARN"))
    assert by_node(harness, execution.id) == {"n1": ["on n1"], "n2": ["on n2"]}
    harness.store.close()
    assert not [p for p in passphrases.values() if p.encode() in stored_bytes(harness.root)]

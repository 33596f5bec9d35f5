"""Job notifications against a real SMTP server (aiosmtpd on 127.0.0.1) and a real local HTTP server: every
trigger, both webhook formats, GET, e-mail content, the secure-option canary, failures to deliver, plugin types
through the hook, and no second send after a restart."""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from lxml import etree

from tests.notification_helpers import (
    CANARY,
    Hooks,
    Mailbox,
    World,
    free_port,
    job_xml,
    running_smtp,
    running_webhooks,
    succeeded,
)
from tests.waiting import DEADLINE, wait_until
from xlr_runtime import hookimpl, hookspecs
from xlr_runtime.clock import VirtualClock
from xlr_runtime.rundeck.jobs.model import Trigger
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.notify.notifications import (
    average_duration,
    avg_duration_threshold,
    notification_types_from,
)
from xlr_runtime.store.executions import ExecutionStatus


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def webhooks() -> Iterator[tuple[Hooks, str]]:
    with running_webhooks() as server:
        yield server


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    yield made
    made.store.close()


# -- webhooks ------------------------------------------------------------------------------------------------------


def test_start_and_success_webhooks_in_json(world: World, webhooks: tuple[Hooks, str]) -> None:
    hooks, base = webhooks
    execution = world.run(job_xml(
        f"<onstart><webhook urls='{base}/start?id=${{execution.id}}&amp;t=${{notification.trigger}}' format='json'/>"
        f"</onstart><onsuccess><webhook urls='{base}/done' format='json' httpMethod='post'/></onsuccess>"
    ))  # fmt: skip
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert [r["path"] for r in hooks.requests] == [f"/start?id={execution.id}&t=start", "/done"]
    start, done = (json.loads(r["body"]) for r in hooks.requests)
    assert (start["trigger"], start["status"], start["executionId"]) == ("start", "running", execution.id)
    assert "date-ended" not in start["execution"]
    assert (done["trigger"], done["status"]) == ("success", "succeeded")
    data = done["execution"]
    assert data["job"] == {
        "id": "uuid-job", "averageDuration": None, "name": "job", "group": "", "project": "P",
        "description": "the job", "options": {"env": "dev", "token": "*****"}, "href": None, "permalink": None,
    }  # fmt: skip
    assert (data["user"], data["executionType"], data["successfulNodes"], data["failedNodes"]) == (
        "tester", "user", ["srv"], [],
    )  # fmt: skip
    assert data["date-started"]["unixtime"] == int(execution.started_at * 1000)
    assert data["date-ended"]["date"].endswith("Z")
    headers = hooks.requests[1]["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-RunDeck-Notification-Trigger"] == "success"
    assert headers["X-RunDeck-Notification-Execution-ID"] == str(execution.id)
    assert headers["X-RunDeck-Notification-Execution-Status"] == "succeeded"
    assert "X-RunDeck-Notification-SHA256-Digest" not in headers
    assert [d[:2] + d[3:] for d in world.deliveries(execution.id)] == [
        ("onstart", "webhook", "sent", None), ("onsuccess", "webhook", "sent", None),
    ]  # fmt: skip


def test_failure_webhook_in_xml_and_the_legacy_form(world: World, webhooks: tuple[Hooks, str]) -> None:
    hooks, base = webhooks
    execution = world.run(
        job_xml(f"<onfailure><webhook urls='{base}/a, {base}/b'/></onfailure><format>xml</format>", command="exit 3")
    )
    assert execution.status == ExecutionStatus.FAILED
    assert [r["path"] for r in hooks.requests] == ["/a", "/b"]
    assert hooks.requests[0]["headers"]["Content-Type"] == "text/xml"
    root = etree.fromstring(hooks.requests[0]["body"])
    assert (root.tag, root.get("trigger"), root.get("status"), root.get("executionId")) == (
        "notification", "failure", "failed", str(execution.id),
    )  # fmt: skip
    element = root.find("executions/execution")
    assert root.find("executions").get("count") == "1"
    assert (element.get("id"), element.get("status"), element.get("project")) == (str(execution.id), "failed", "P")
    assert element.findtext("user") == "tester"
    assert element.find("date-ended").get("unixtime") == str(int(execution.ended_at * 1000))
    assert element.findtext("job/name") == "job"
    assert {o.get("name"): o.get("value") for o in element.iterfind("job/options/option")} == {
        "env": "dev", "token": "*****",
    }  # fmt: skip
    assert [n.get("name") for n in element.iterfind("failedNodes/node")] == ["srv"]
    assert element.findtext("argstring") == "-env dev -token *****"


def test_get_webhook_expands_and_encodes_url_tokens_and_signs(tmp_path: Path, webhooks: tuple[Hooks, str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    hooks, base = webhooks
    monkeypatch.setenv("HOOK_KEY", "k3y")
    world = World(tmp_path, notifications_webhook_secret_env="HOOK_KEY")
    url = f"{base}/get?n=${{job.name}}&amp;s=${{execution.status}}&amp;o=${{option.env}}"
    try:
        execution = world.run(job_xml(f"<onsuccess><webhook urls='{url}' httpMethod='get'/></onsuccess>", name="a b"))
    finally:
        world.store.close()
    (request,) = hooks.requests
    expected_path = "/get?n=a%20b&s=succeeded&o=$%7Boption.env%7D"  # an unknown token stays; requests quotes braces
    assert (request["method"], request["path"], request["body"]) == ("GET", expected_path, b"")
    expanded = f"{base}/get?n=a%20b&s=succeeded&o=${{option.env}}"
    expected = hashlib.sha256(f"{expanded}success{execution.id}k3y".encode()).hexdigest()
    assert request["headers"]["X-RunDeck-Notification-SHA256-Digest"] == expected


def test_retryable_failure_then_failure(world: World, webhooks: tuple[Hooks, str]) -> None:
    hooks, base = webhooks
    notification = (
        f"<onretryablefailure><webhook urls='{base}/retry' format='json'/></onretryablefailure>"
        f"<onfailure><webhook urls='{base}/failed' format='json'/></onfailure>"
    )
    final = world.run(job_xml(notification, command="exit 1", extra="<retry>1</retry>"))
    world.notifier.dispatch_due()
    assert final.status == ExecutionStatus.FAILED and final.attempt == 1
    bodies = [json.loads(r["body"]) for r in hooks.requests]
    seen = [
        (r["path"], b["status"], b["execution"]["retryAttempt"]) for r, b in zip(hooks.requests, bodies, strict=True)
    ]
    assert seen == [("/retry", "failed-with-retry", 0), ("/failed", "failed", 1)]


# -- average duration ----------------------------------------------------------------------------------------------


def test_average_duration_is_rundecks_rolling_mean() -> None:
    assert average_duration([]) is None
    assert average_duration([10, 20, 30]) == 20
    assert average_duration([10] * 10 + [110]) == pytest.approx(20)


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(None, 100.0), ("20%", 120.0), ("+1m", 160.0), ("30s", 30.0), ("0", 100.0), ("${option.limit}", 45.0)],
)
def test_avg_duration_threshold(threshold: str | None, expected: float) -> None:
    extra = f"<notifyAvgDurationThreshold>{threshold}</notifyAvgDurationThreshold>" if threshold else ""
    xml = job_xml("<onstart><email recipients='x@example.com'/></onstart>", extra=extra)
    job = load_jobs_xml(xml, path="t.xml")[0]
    assert avg_duration_threshold(job, {"limit": "45"}, 100.0) == expected
    assert avg_duration_threshold(job, {"limit": "45"}, None) is None


def test_avg_duration_fires_once_while_running_and_not_after_the_end(
    tmp_path: Path, webhooks: tuple[Hooks, str]
) -> None:
    world = World(tmp_path, clock=VirtualClock(5000.0))
    hooks, base = webhooks
    succeeded(world, "uuid-job", 1000.0, 10.0)
    succeeded(world, "uuid-job", 2000.0, 20.0)  # average 15 s
    xml = job_xml(f"<onavgduration><webhook urls='{base}/slow' format='json'/></onavgduration>",
                  extra="<notifyAvgDurationThreshold>+5</notifyAvgDurationThreshold>")  # fmt: skip
    job = load_jobs_xml(xml, path="t.xml")[0]
    queued = world.service.start("P", job, {})
    with world.store.atomic():
        (running,) = world.store.executions.claim_due(5000.0, owner=world.store.owner, limit=1)
        world.notifier.record_started([running])
    assert world.store.notifications.next_due_at() == 5020.0
    assert world.notifier.dispatch_due(now=5019.0) == 0
    assert world.notifier.dispatch_due(now=5020.0) == 1
    assert world.notifier.dispatch_due(now=9999.0) == 0
    (request,) = hooks.requests
    body = json.loads(request["body"])
    assert (body["trigger"], body["status"], body["execution"]["job"]["averageDuration"]) == (
        "avgduration",
        "running",
        15000,
    )
    # An execution that ended before its threshold: the event is dropped.
    world.store.executions.finish(queued.id, status=ExecutionStatus.SUCCEEDED, now=5021.0)
    second = world.service.start("P", job, {})
    with world.store.atomic():
        (running,) = world.store.executions.claim_due(6000.0, owner=world.store.owner, limit=1)
        world.notifier.record_started([running])
    world.store.executions.finish(second.id, status=ExecutionStatus.SUCCEEDED, now=6001.0)
    assert world.notifier.dispatch_due(now=7000.0) == 1
    assert len(hooks.requests) == 1
    assert [e.state for e in world.store.notifications.events(second.id)] == ["skipped"]
    world.store.close()


# -- e-mail --------------------------------------------------------------------------------------------------------


def test_secure_option_values_never_appear_in_notifications(tmp_path: Path, smtp: tuple[Mailbox, int],
                                                            webhooks: tuple[Hooks, str]) -> None:  # fmt: skip
    mailbox, port = smtp
    hooks, base = webhooks
    received: list[dict[str, Any]] = []
    world = World(tmp_path, smtp_port=port, plugin_types={"spy": lambda **kw: received.append(kw)})
    notification = (
        "<onsuccess><email recipients='ops@example.com' subject='token ${option.token}' attachLog='true'/>"
        f"<webhook urls='{base}/json' format='json'/><plugin type='spy'><configuration>"
        "<entry key='t' value='${option.token}'/></configuration></plugin></onsuccess>"
        f"<onstart><webhook urls='{base}/xml'/></onstart>"
    )
    try:
        execution = world.run(job_xml(notification, command="echo token=${option.token}"))
        deliveries = world.deliveries(execution.id)
        log_text = "\n".join(line.text for line in world.store.executions.log(execution.id))
    finally:
        world.store.close()
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert "token=********" in log_text  # the step saw it; the log masks it
    everything = b"".join(mailbox.raw) + b"".join(r["body"] for r in hooks.requests)
    assert len(mailbox.raw) == 1 and len(hooks.requests) == 2 and len(received) == 1
    assert CANARY.encode() not in everything
    assert CANARY not in repr(received) and CANARY not in repr(deliveries)
    assert received[0]["configuration"] == {"t": "*****"}
    assert received[0]["execution"]["job"]["options"]["token"] == "*****"


# -- plugins -------------------------------------------------------------------------------------------------------


class PagerPlugin:
    calls: list[dict[str, Any]] = []

    @hookimpl
    def xlr_notification_types(self) -> dict[str, Any]:
        return {"pager": lambda **kw: self.calls.append(kw)}


def test_plugin_notification_types_come_from_the_hook(tmp_path: Path) -> None:
    pm = pluggy.PluginManager("xlr_runtime")
    pm.add_hookspecs(hookspecs)
    plugin = PagerPlugin()
    plugin.calls = []
    pm.register(plugin)
    world = World(tmp_path, plugin_types=notification_types_from(pm))
    notification = (
        "<onsuccess><plugin type='pager'><configuration><entry key='message' value='${job.name} #${execution.id}'/>"
        "</configuration></plugin><plugin type='missing'/></onsuccess>"
    )
    try:
        execution = world.run(job_xml(notification))
        deliveries = world.deliveries(execution.id)
    finally:
        world.store.close()
    (call,) = plugin.calls
    assert (call["trigger"], call["configuration"], call["execution"]["status"]) == (
        "success", {"message": f"job #{execution.id}"}, "succeeded",
    )  # fmt: skip
    assert deliveries == [
        ("onsuccess", "plugin", "missing", "failed",
         "RuntimeError: notification type 'missing' is not provided by any plugin"),
        ("onsuccess", "plugin", "pager", "sent", None),
    ]  # fmt: skip


# -- failures ------------------------------------------------------------------------------------------------------


def test_failures_to_notify_are_logged_and_never_fail_the_execution(world: World, webhooks: tuple[Hooks, str]) -> None:
    _, base = webhooks
    closed = f"http://127.0.0.1:{free_port()}/nobody"
    notification = (
        f"<onsuccess><email recipients='ops@example.com'/><webhook urls='{base}/fail,{closed}' format='json'/>"
        "</onsuccess>"
    )
    execution = world.run(job_xml(notification))
    assert world.store.executions.get(execution.id).status == ExecutionStatus.SUCCEEDED
    states = world.deliveries(execution.id)
    assert [(kind, target, state) for _, kind, target, state, _ in states] == [
        ("email", "ops@example.com", "failed"), ("webhook", f"{base}/fail", "failed"), ("webhook", closed, "failed"),
    ]  # fmt: skip
    assert states[0][4] == "RuntimeError: e-mail is not configured (set smtp.host in xlr.toml)"
    assert states[1][4] == "RuntimeError: HTTP 500 Internal Server Error"
    assert states[2][4].startswith("ConnectionError: ")
    warnings = [line.text for line in world.store.executions.log(execution.id) if line.level == "WARN"]
    assert warnings[:2] == [
        "Notification onsuccess email to ops@example.com failed: "
        "RuntimeError: e-mail is not configured (set smtp.host in xlr.toml)",
        f"Notification onsuccess webhook to {base}/fail failed: RuntimeError: HTTP 500 Internal Server Error",
    ]


def test_smtp_login_needs_the_password_from_the_environment(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    _, port = smtp
    world = World(tmp_path, smtp_port=port, smtp_username="mailer", smtp_password_env="XLR_TEST_SMTP_PASSWORD")
    try:
        execution = world.run(job_xml("<onsuccess><email recipients='ops@example.com'/></onsuccess>"))
        (delivery,) = world.deliveries(execution.id)
    finally:
        world.store.close()
    assert delivery[3:] == (
        "failed",
        "RuntimeError: smtp.username is set but $XLR_TEST_SMTP_PASSWORD gives no password",
    )


# -- restarts ------------------------------------------------------------------------------------------------------


def _dead_owner() -> str:
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:dead"


def test_a_restart_sends_what_was_not_attempted_and_never_repeats_a_send(
    tmp_path: Path, webhooks: tuple[Hooks, str]
) -> None:
    hooks, base = webhooks
    xml = job_xml(f"<onsuccess><webhook urls='{base}/one,{base}/two' format='json'/></onsuccess>")
    crashed = World(tmp_path, owner=_dead_owner())
    job = load_jobs_xml(xml, path="t.xml")[0]
    execution = crashed.service.start("P", job, {})
    with crashed.store.atomic():
        (running,) = crashed.store.executions.claim_due(crashed.service.clock.now(), owner="x", limit=1)
        ended = crashed.store.executions.finish(running.id, status=ExecutionStatus.SUCCEEDED, now=running.due_at + 1)
        crashed.notifier.record_ended(ended)
        crashed.notifier.record_ended(ended)  # recorded twice (a re-run of the same end): still one event
    (event,) = crashed.store.notifications.claim_due(ended.ended_at or 0, owner=crashed.store.owner)
    assert crashed.store.notifications.begin_delivery(event.id, 0, kind="webhook", target=f"{base}/one", now=1.0)
    crashed.store.close()  # killed while sending to /one: did it arrive? Nobody knows.

    restarted = World(tmp_path)
    try:
        assert restarted.notifier.recover() == 1
        assert restarted.notifier.dispatch_due() == 1
        assert restarted.notifier.recover() == 0
        assert restarted.notifier.dispatch_due() == 0
        deliveries = restarted.deliveries(execution.id)
    finally:
        restarted.store.close()
    assert [r["path"] for r in hooks.requests] == ["/two"]
    assert [(target, state, detail) for _, _, target, state, detail in deliveries] == [
        (f"{base}/one", "unknown", "the runtime stopped while sending; not sent again"),
        (f"{base}/two", "sent", None),
    ]


def test_a_resumed_execution_does_not_notify_its_start_again(world: World, webhooks: tuple[Hooks, str]) -> None:
    hooks, base = webhooks
    job = load_jobs_xml(job_xml(f"<onstart><webhook urls='{base}/start'/></onstart>"), path="t.xml")[0]
    execution = world.service.start("P", job, {})
    for _ in range(2):  # claimed, then (after a crash) re-queued and claimed again
        with world.store.atomic():
            (running,) = world.store.executions.claim_due(world.service.clock.now(), owner="dead", limit=1)
            world.notifier.record_started([running])
        world.store.executions.requeue_running(now=world.service.clock.now(), owners=["dead"])
    world.notifier.dispatch_due()
    assert len(hooks.requests) == 1
    assert [e.trigger for e in world.store.notifications.events(execution.id)] == [Trigger.ON_START.value]


# -- job references -----------------------------------------------------------------------------------------------


def parent_xml(jobref: str, notification: str = "", *, extra: str = "") -> str:
    """A parent job whose one step is ``jobref`` (a ``<jobref>`` element)."""
    options = "<context><options preserveOrder='true'><option name='token' secure='true' valueExposed='true' />"
    return (
        f"<joblist><job><name>parent</name><description/><uuid>uuid-parent</uuid>{options}</options></context>{extra}"
        f"{f'<notification>{notification}</notification>' if notification else ''}"
        f"<sequence keepgoing='false' strategy='node-first'><command>{jobref}</command></sequence></job></joblist>"
    )


def add_child(world: World, notification: str, *, command: str = "echo child") -> None:
    world.jobs.add("P", load_jobs_xml(job_xml(notification, name="child", command=command), path="c.xml")[0])


def test_a_referenced_job_fires_its_own_start_and_success(world: World, webhooks: tuple[Hooks, str]) -> None:
    hooks, base = webhooks
    add_child(world, f"<onstart><webhook urls='{base}/child-start' format='json'/></onstart>"
                     f"<onsuccess><webhook urls='{base}/child-done' format='json'/></onsuccess>")  # fmt: skip
    parent = world.run(parent_xml("<jobref name='child'/>", f"<onsuccess><webhook urls='{base}/parent'/></onsuccess>"))
    assert parent.status == ExecutionStatus.SUCCEEDED
    (child,) = [e for e in world.store.executions.list(project="P") if e.parent_id == parent.id]
    assert [r["path"] for r in hooks.requests] == ["/child-start", "/child-done", "/parent"]
    start, done = (json.loads(r["body"]) for r in hooks.requests[:2])
    assert (start["trigger"], start["status"], start["executionId"]) == ("start", "running", child.id)
    assert (done["trigger"], done["status"], done["executionId"]) == ("success", "succeeded", child.id)
    assert (done["execution"]["job"]["name"], done["execution"]["successfulNodes"]) == ("child", ["srv"])
    assert [d[:2] + d[3:] for d in world.deliveries(child.id)] == [
        ("onstart", "webhook", "sent", None), ("onsuccess", "webhook", "sent", None),
    ]  # fmt: skip


def test_a_node_step_reference_notifies_for_every_node(world: World, webhooks: tuple[Hooks, str]) -> None:
    hooks, base = webhooks
    resources = world.root / "projects" / "P" / "resources"
    resources.mkdir(parents=True)
    (resources / "nodes.yaml").write_text("n1: {node-executor: local}\nn2: {node-executor: local}\n")
    add_child(world, f"<onsuccess><webhook urls='{base}/child-done?job=${{job.name}}'/></onsuccess>")
    jobref = "<jobref name='child' nodeStep='true'><arg line='-env ${node.name}'/></jobref>"
    parent = world.run(parent_xml(jobref, extra="<nodefilters><filter>n1 n2</filter></nodefilters>"))
    assert parent.status == ExecutionStatus.SUCCEEDED
    children = [e for e in world.store.executions.list(project="P") if e.parent_id == parent.id]
    assert sorted(c.options["env"] for c in children) == ["n1", "n2"]
    assert [r["path"] for r in hooks.requests] == ["/child-done?job=child"] * 2


def test_ignore_notifications_keeps_the_referenced_job_quiet(world: World, webhooks: tuple[Hooks, str]) -> None:
    hooks, base = webhooks
    add_child(world, f"<onstart><webhook urls='{base}/child-start'/></onstart>"
                     f"<onsuccess><webhook urls='{base}/child-done'/></onsuccess>")  # fmt: skip
    jobref = "<jobref name='child'><ignoreNotifications>true</ignoreNotifications></jobref>"
    parent = world.run(parent_xml(jobref, f"<onsuccess><webhook urls='{base}/parent'/></onsuccess>"))
    assert parent.status == ExecutionStatus.SUCCEEDED
    assert [r["path"] for r in hooks.requests] == ["/parent"]


def test_a_failed_referenced_job_mails_its_failure(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    world = World(tmp_path, smtp_port=port)
    try:
        notification = (
            "<onfailure><email recipients='child@example.com'/></onfailure>"
            "<onsuccess><email recipients='never@example.com'/></onsuccess>"
        )
        add_child(world, notification, command="exit 5")
        parent = world.run(parent_xml("<jobref name='child'/>", "<onfailure><email recipients='p@example.com'/>"
                                                                "</onfailure>"))  # fmt: skip
        (child,) = [e for e in world.store.executions.list(project="P") if e.parent_id == parent.id]
    finally:
        world.store.close()
    assert parent.status == ExecutionStatus.FAILED
    assert [(m["To"], m["Subject"]) for m in mailbox.messages] == [
        ("child@example.com", "FAILURE [P] /child -env dev"),  # Rundeck's subject: no group, so "/child"
        ("p@example.com", "FAILURE [P] /parent -token *****"),
    ]
    assert f"#{child.id}" in mailbox.messages[0].get_body(("html",)).get_content()


@pytest.mark.parametrize(("average", "fired"), [(0.0625, True), (3600.0, False)])  # exact in binary
def test_a_referenced_job_fires_avgduration_at_its_end_when_slower_than_average(
    world: World, webhooks: tuple[Hooks, str], average: float, fired: bool
) -> None:
    hooks, base = webhooks
    succeeded(world, "uuid-child", 1000.0, average)
    add_child(world, f"<onavgduration><webhook urls='{base}/slow' format='json'/></onavgduration>",
              command="sleep 0.2")  # fmt: skip
    parent = world.run(parent_xml("<jobref name='child'/>"))
    assert parent.status == ExecutionStatus.SUCCEEDED
    bodies = [json.loads(r["body"]) for r in hooks.requests]
    assert [(b["trigger"], b["execution"]["job"]["averageDuration"]) for b in bodies] == (
        [("avgduration", int(average * 1000))] if fired else []
    )


# -- end to end: xlr serve -----------------------------------------------------------------------------------------


def test_xlr_serve_fires_a_schedule_and_notifies_its_success(tmp_path: Path, webhooks: tuple[Hooks, str]) -> None:
    hooks, base = webhooks
    home = tmp_path / "home"
    jobs = tmp_path / "jobs.xml"
    jobs.write_text(
        job_xml(f"<onsuccess><webhook urls='{base}/served' format='json'/></onsuccess>",
                extra="<schedule crontab='* * * * * ?'/>"),
        encoding="utf-8",
    )  # fmt: skip
    xlr = [sys.executable, "-c", "from xlr_runtime.cli import main; main()"]
    loaded = subprocess.run(
        [*xlr, "jobs", "load", "--home", str(home), "-p", "P", "-f", str(jobs)], capture_output=True
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([*xlr, "serve", "--home", str(home)], stdout=out, stderr=out, start_new_session=True)
    try:
        wait_until(lambda: hooks.requests, lambda: log.read_text(errors="replace"), interval=0.05)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=DEADLINE)
    body = json.loads(hooks.requests[0]["body"])
    assert (body["trigger"], body["status"], body["execution"]["executionType"]) == (
        "success",
        "succeeded",
        "scheduled",
    )
    assert body["execution"]["job"]["options"] == {"env": "dev"}


def test_xlr_jobs_run_sends_the_notifications_before_it_exits(tmp_path: Path, webhooks: tuple[Hooks, str]) -> None:
    from click.testing import CliRunner

    from xlr_runtime.cli import main

    hooks, base = webhooks
    jobs = tmp_path / "jobs.xml"
    notification = (
        f"<onstart><webhook urls='{base}/start'/></onstart><onsuccess><webhook urls='{base}/done'/></onsuccess>"
    )
    jobs.write_text(job_xml(notification), encoding="utf-8")
    env = {"XLR_HOME": str(tmp_path / "home")}
    assert CliRunner().invoke(main, ["jobs", "load", "-p", "P", "-f", str(jobs)], env=env).exit_code == 0
    result = CliRunner().invoke(main, ["jobs", "run", "-p", "P", "-j", "job", "--follow"], env=env)
    assert result.exit_code == 0, result.output
    assert sorted(r["path"] for r in hooks.requests) == ["/done", "/start"]

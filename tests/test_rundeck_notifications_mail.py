"""Notification e-mails received by a real SMTP server (aiosmtpd on 127.0.0.1) and parsed back: Rundeck's
subject, the HTML page and its text alternative, the log inline or attached (file name, content type, format),
the ``notifications.mail_*`` settings and template files, per-recipient messages, and no secure option value
in any part, decoded or not."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.notification_helpers import CANARY, Mailbox, World, job_xml, running_smtp
from xlr_runtime.rundeck.jobs.model import Trigger
from xlr_runtime.rundeck.notify.content import event_status
from xlr_runtime.store.executions import Execution, ExecutionStatus


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with running_smtp() as server:
        yield server


def mail_world(tmp_path: Path, port: int, **overrides: Any) -> World:
    return World(tmp_path, smtp_port=port, smtp_from="xlr@example.com", **overrides)


def parts(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content().replace("\r\n", "\n")


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def decoded(message: EmailMessage) -> str:
    """Every leaf part decoded, and the headers."""
    leaves = [p.get_content() for p in message.walk() if not p.is_multipart()]
    texts = [leaf if isinstance(leaf, str) else leaf.decode() for leaf in leaves]
    return "\n".join([*(f"{k}: {v}" for k, v in message.items()), *texts])


# -- the default mail ----------------------------------------------------------------------------------------------


def test_a_success_mail_per_recipient_with_the_page_its_text_and_the_log_attached(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    world = mail_world(tmp_path, port)
    notification = "<onsuccess><email recipients='a@example.com, b@example.com' attachLog='true'/></onsuccess>"
    try:
        execution = world.run(job_xml(notification, command="echo hello"))
        deliveries = world.deliveries(execution.id)
    finally:
        world.store.close()
    assert [(d[1], d[2], d[3]) for d in deliveries] == [
        ("email", "a@example.com", "sent"), ("email", "b@example.com", "sent"),
    ]  # fmt: skip
    assert [m["To"] for m in mailbox.messages] == ["a@example.com", "b@example.com"]
    message = mailbox.messages[0]
    assert message["From"] == "xlr@example.com"
    assert message["Subject"] == "SUCCESS [P] /job -env dev -token *****"
    assert parts(message) == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/plain"]
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == f"job-{execution.id}.log"
    assert attachment.get_content() == "hello\n"
    page = html_of(message)
    for fragment in (
        "<h3>P</h3>", f"<h1>#{execution.id} job</h1>", "<h3>by tester</h3>", "Succeeded after ",
        "<td>Started</td>", "<td>Finished</td>", "<td>Duration</td>", "<td>Executions</td><td>1</td>",
        "<td>Success Rate</td><td>100%</td>", "<td>Option env</td><td>dev</td>", "<td>Option token</td><td>*****</td>",
        "<td>Trigger</td><td>success</td>", "<h4>Nodes</h4><p>1 ok</p>", "border-left:20px solid green",
    ):  # fmt: skip
        assert fragment in page, fragment
    assert "<a " not in page and "Log Output" not in page and "Average Duration" not in page
    text = text_of(message)
    assert text.splitlines()[:3] == [
        f"P: #{execution.id} job by tester: {re.search(r'Succeeded after [^<]+', page).group(0)}",  # type: ignore[union-attr]
        "Trigger: success",
        "Execution type: user",
    ]
    assert "Options: -env dev -token *****" in text and "Executions: 1" in text and "Success Rate: 100%" in text


def test_a_failure_mail_with_the_log_inline_and_a_custom_subject(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    world = mail_world(tmp_path, port)
    subject = "${job.name} ${execution.status} on ${option.env} (${option.token}) ${unknown.x}"
    email = f"<email recipients='ops@example.com' subject='{subject}' attachLog='true' attachLogInline='true'/>"
    try:
        execution = world.run(
            job_xml(f"<onfailure>{email}</onfailure>", command="echo ${option.env} ; exit 2"), {"env": "<b>oops"}
        )
    finally:
        world.store.close()
    (message,) = mailbox.messages
    assert message["Subject"] == "job failed on <b>oops (*****) ${unknown.x}"
    assert parts(message) == ["multipart/alternative", "text/plain", "text/html"]
    page = html_of(message)
    logged = "<b>oops\nStep 1 failed: NonZeroResultCode: Result: 2\nExecution failed\n"
    assert f"<h4>Log Output</h4><pre>{html.escape(logged)}</pre>" in page
    assert "Failed after " in page and "border-left:20px solid red" in page
    assert "<h4>Nodes</h4><p>1 failed:</p><div>srv</div>" in page
    assert "<td>Executions</td><td>1</td>" in page and "<td>Success Rate</td><td>0%</td>" in page
    text = text_of(message)
    assert text.endswith(f"\nLog Output:\n{logged}")
    assert "Failed nodes: srv" in text and f"#{execution.id} job by tester: Failed after" in text


@pytest.mark.parametrize(
    ("trigger", "attributes", "inline", "in_file"),
    [
        ("onsuccess", "attachLog='true' attachLogInFile='true' attachLogInline='true'", True, True),
        ("onsuccess", "attachLog='true' attachLogInFile='true'", False, True),
        ("onsuccess", "attachLog='true'", False, True),  # neither flag: a file, as Rundeck does for older jobs
        ("onsuccess", "attachLog='false' attachLogInline='true'", False, False),
        ("onstart", "attachLog='true' attachLogInFile='true' attachLogInline='true'", False, False),  # never at start
    ],
)
def test_attach_log_options(
    tmp_path: Path, smtp: tuple[Mailbox, int], trigger: str, attributes: str, inline: bool, in_file: bool
) -> None:
    mailbox, port = smtp
    world = mail_world(tmp_path, port)
    try:
        world.run(job_xml(f"<{trigger}><email recipients='x@example.com' {attributes}/></{trigger}>"))
    finally:
        world.store.close()
    (message,) = mailbox.messages
    assert ("Log Output" in html_of(message), "Log Output:" in text_of(message)) == (inline, inline)
    assert len(list(message.iter_attachments())) == int(in_file)


def test_average_duration_and_statistics_of_earlier_runs(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    world = mail_world(tmp_path, port)
    xml = job_xml("<onfailure><email recipients='x@example.com'/></onfailure>", command="${option.env}")
    try:
        world.run(xml, {"env": "true"})
        world.run(xml, {"env": "false"})
    finally:
        world.store.close()
    (message,) = mailbox.messages
    page = html_of(message)
    assert "<td>Average Duration</td><td>" in page
    assert "<td>Executions</td><td>2</td>" in page and "<td>Success Rate</td><td>50%</td>" in page


# -- settings and templates ----------------------------------------------------------------------------------------


def test_mail_settings_links_subject_and_formatted_attached_log(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    received: list[dict[str, Any]] = []
    world = mail_world(
        tmp_path, port, plugin_types={"spy": lambda **kw: received.append(kw)},
        notifications_link_url="https://rd.example.com/",
        notifications_mail_subject="[${execution.project}] ${notification.eventStatus} #${execution.id} ${job.href}",
        notifications_mail_log_format="formatted", notifications_mail_log_extension="txt",
        notifications_mail_log_content_type="text/x-log",
    )  # fmt: skip
    notification = "<onsuccess><email recipients='x@example.com' attachLog='true'/><plugin type='spy'/></onsuccess>"
    try:
        execution = world.run(job_xml(notification))
    finally:
        world.store.close()
    (message,) = mailbox.messages
    show = f"https://rd.example.com/project/P/execution/show/{execution.id}"
    download = f"https://rd.example.com/project/P/execution/downloadOutput/{execution.id}"
    assert message["Subject"] == f"[P] SUCCESS #{execution.id} https://rd.example.com/project/P/job/show/uuid-job"
    page = html_of(message)
    assert f'<h1><a href="{show}">#{execution.id}</a> job</h1>' in page
    assert f'<a href="{show}">View Output</a> | <a href="{download}">Download Output</a>' in page
    assert f"View Output: {show}\nDownload Output: {download}\n" in text_of(message)
    (attachment,) = message.iter_attachments()
    assert (attachment.get_filename(), attachment.get_content_type()) == (f"job-{execution.id}.txt", "text/x-log")
    assert re.fullmatch(r"\d\d:\d\d:\d\d \[tester@srv 1\]\[NORMAL\] hello\n", attachment.get_content())
    data = received[0]["execution"]
    assert (data["permalink"], data["job"]["permalink"]) == (show, "https://rd.example.com/project/P/job/show/uuid-job")


def test_a_template_file_from_the_home_with_the_log_and_tokens(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "job.html").write_text(
        "<p>${job.name} ${execution.status} ${notification.eventStatus} ${option.token} ${nope.x}</p>"
        "<pre>${logoutput.data}</pre>",
        encoding="utf-8",
    )
    world = mail_world(tmp_path, port, notifications_mail_template_file="mail/${job.name}.html")
    email = "<email recipients='x@example.com' attachLog='true' attachLogInline='true'/>"
    try:
        world.run(job_xml(f"<onsuccess>{email}</onsuccess>", command="echo ${option.env}"), {"env": "a<b"})
    finally:
        world.store.close()
    (message,) = mailbox.messages
    assert html_of(message) == "<p>job succeeded SUCCESS ***** ${nope.x}</p><pre>a&lt;b\n</pre>\n"
    assert "Log Output:\na<b\n" in text_of(message)


def test_a_markdown_template_is_sent_as_text_and_a_missing_file_falls_back_to_the_body_setting(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    (tmp_path / "success.md").write_text("# ${job.name}: ${notification.eventStatus}\n", encoding="utf-8")
    template = "${notification.trigger}.md"
    world = mail_world(tmp_path, port, notifications_mail_template_file=template,
                       notifications_mail_body="<b>${job.name} ${execution.status}</b>")  # fmt: skip
    notification = (
        "<onsuccess><email recipients='x@example.com'/></onsuccess><onstart><email recipients='x@example.com'/>"
        "</onstart>"
    )
    try:
        world.run(job_xml(notification))
    finally:
        world.store.close()
    start, success = mailbox.messages
    assert parts(start) == ["multipart/alternative", "text/plain", "text/html"]
    assert html_of(start) == "<b>job running</b>\n"  # start.md does not exist: the body setting
    assert parts(success) == ["text/plain"] and text_of(success) == "# job: SUCCESS\n"


# -- recipients, statuses, secrets ---------------------------------------------------------------------------------


def test_recipients_expand_tokens_and_an_unresolved_one_fails_alone(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    world = mail_world(tmp_path, port)
    try:
        execution = world.run(
            job_xml("<onsuccess><email recipients='${option.env}@example.com,${job.user.email}'/></onsuccess>")
        )
        deliveries = world.deliveries(execution.id)
    finally:
        world.store.close()
    assert [m["To"] for m in mailbox.messages] == ["dev@example.com"]
    assert [(d[2], d[3], d[4]) for d in deliveries] == [
        ("dev@example.com", "sent", None),
        ("${job.user.email}", "failed", "RuntimeError: the recipient ${job.user.email} has a ${…} token with no value"),
    ]


def _execution(status: ExecutionStatus, custom: str | None = None) -> Execution:
    return Execution(
        id=1, project="P", job_id="u", job_name="j", job_group=None, job_xml="<x/>", status=status, options={},
        arg_string="", user="u", execution_type="user", attempt=0, created_at=0.0, due_at=0.0, custom_status=custom,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("trigger", "status", "custom", "expected"),
    [
        (Trigger.ON_START, ExecutionStatus.RUNNING, None, "STARTING"),
        (Trigger.ON_SUCCESS, ExecutionStatus.SUCCEEDED, None, "SUCCESS"),
        (Trigger.ON_FAILURE, ExecutionStatus.FAILED, None, "FAILURE"),
        (Trigger.ON_FAILURE, ExecutionStatus.ABORTED, None, "KILLED"),
        (Trigger.ON_FAILURE, ExecutionStatus.TIMEDOUT, None, "TIMEDOUT"),
        (Trigger.ON_FAILURE, ExecutionStatus.OTHER, "log-limit", "log-limit"),
        (Trigger.ON_RETRYABLE_FAILURE, ExecutionStatus.FAILED_WITH_RETRY, None, "FAILED WITH RETRY"),
        (Trigger.ON_AVG_DURATION, ExecutionStatus.SUCCEEDED, None, "AVERAGE DURATION EXCEEDED"),
    ],
)
def test_event_status_words_are_rundecks(
    trigger: Trigger, status: ExecutionStatus, custom: str | None, expected: str
) -> None:
    assert event_status(trigger, _execution(status, custom)) == expected


def test_no_secure_option_value_in_any_part_of_any_mail(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    (tmp_path / "t.html").write_text("<p>${option.token}</p><pre>${logoutput.data}</pre>", encoding="utf-8")
    world = mail_world(tmp_path, port, notifications_mail_log_format="formatted")
    emails = (
        "<email recipients='a@example.com' subject='t=${option.token}' attachLog='true' attachLogInFile='true' "
        "attachLogInline='true'/>"
    )
    try:
        world.run(job_xml(f"<onsuccess>{emails}</onsuccess>", command="echo token=${option.token}"))
    finally:
        world.store.close()
    templated = mail_world(tmp_path / "second", port, notifications_mail_template_file=str(tmp_path / "t.html"))
    try:
        templated.run(job_xml(f"<onsuccess>{emails}</onsuccess>", command="echo ${option.token}"))
    finally:
        templated.store.close()
    assert len(mailbox.messages) == 2
    for raw, message in zip(mailbox.raw, mailbox.messages, strict=True):
        assert CANARY.encode() not in raw
        assert CANARY not in decoded(message)
        assert "*****" in message["Subject"]

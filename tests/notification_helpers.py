"""Shared pieces of the notification tests: a real SMTP server (aiosmtpd on 127.0.0.1), a real local webhook
server, one-job XML with notifications and a secure option, and a world of store, execution service and
notifier."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.rundeck_helpers import serve_http
from tests.waiting import DEADLINE
from xlr_runtime import settings
from xlr_runtime.clock import VirtualClock
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.nodes.resources import local_node
from xlr_runtime.rundeck.notify.notifications import Notifier
from xlr_runtime.rundeck.run.execution import ExecutionService, JobList
from xlr_runtime.store import Store
from xlr_runtime.store.executions import Execution, ExecutionStatus
from xlr_runtime.store.owners import LEASE_SECONDS

CANARY = "canary-s3cr3t-value"


# -- real servers --------------------------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1 and the mailbox it fills."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


class Hooks:
    """Requests received by the local webhook server; a path ending in ``/fail`` answers 500."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()


@contextmanager
def running_webhooks() -> Iterator[tuple[Hooks, str]]:
    """A real HTTP server on 127.0.0.1 recording every request, and its base URL."""
    hooks = Hooks()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            with hooks.lock:
                hooks.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers),
                     "body": self.rfile.read(length) if length else b""}
                )  # fmt: skip
            self.send_response(500 if self.path.split("?")[0].endswith("/fail") else 200)
            self.end_headers()

        do_POST = do_GET = _record

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Handler) as url:
        yield hooks, url


# -- a store, an execution service and a notifier ------------------------------------------------------------------


def job_xml(notification: str, *, name: str = "job", command: str = "echo hello", extra: str = "") -> str:
    """A one-job ``<joblist>`` (options ``env``=dev and secure ``token``) with ``notification``'s triggers."""
    options = (
        "<context><options preserveOrder='true'><option name='env' value='dev' />"
        "<option name='token' secure='true' valueExposed='true' /></options></context>"
    )
    return (
        f"<joblist><job><name>{name}</name><description>the job</description><uuid>uuid-{name}</uuid>{options}"
        f"{extra}<notification>{notification}</notification><sequence keepgoing='false' strategy='node-first'>"
        f"<command><exec>{command}</exec></command></sequence></job></joblist>"
    )


class World:
    """A store, an execution service and its notifier (SMTP on ``smtp_port``; ``overrides`` are settings)."""

    def __init__(self, root: Path, *, smtp_port: int = 0, plugin_types: dict[str, Any] | None = None,
                 owner: str | None = None, clock: VirtualClock | None = None, **overrides: Any) -> None:  # fmt: skip
        self.root = root
        self.store = Store.open(root / "xlr.db", owner=owner)
        values = {"smtp_host": "127.0.0.1" if smtp_port else "", "smtp_port": smtp_port, **overrides}
        self.notifier = Notifier(
            self.store, settings=settings.defaults().with_overrides(**values), plugin_types=plugin_types,
            home_root=root, clock=clock,
        )  # fmt: skip
        self.jobs = JobList()
        self.service = ExecutionService(
            self.store, home_root=root, jobs=self.jobs, server_node=local_node(name="srv"), user="tester",
            notifier=self.notifier, clock=clock, lease=LEASE_SECONDS,
        )  # fmt: skip

    def run(self, xml: str, options: dict[str, str] | None = None) -> Execution:
        job = load_jobs_xml(xml, path="t.xml")[0]
        self.jobs.add("P", job)
        started = self.service.start("P", job, {"token": CANARY, **(options or {})})
        self.service.run(until=lambda: self.service.final_of_chain(started.id).status.is_final, max_wait=0.02)
        self.service.join(DEADLINE)  # its threads end as soon as the chain's end is committed
        self.notifier.dispatch_due()
        return self.service.final_of_chain(started.id)

    def deliveries(self, execution_id: int) -> list[tuple[str, str, str, str, str | None]]:
        return [
            (d.trigger, d.kind, d.target, d.state, d.detail) for d in self.store.notifications.deliveries(execution_id)
        ]


def succeeded(world: World, job_id: str, started: float, seconds: float) -> None:
    """A succeeded execution of ``job_id`` that ran ``seconds`` from ``started`` (claimed by another owner)."""
    made = world.store.executions.create(project="P", job_id=job_id, job_name="job", job_group=None, job_xml="<x/>",
                                         options={}, arg_string="", user="u", now=started)  # fmt: skip
    world.store.executions.claim_due(started, owner="other", limit=10)
    world.store.executions.finish(made.id, status=ExecutionStatus.SUCCEEDED, now=started + seconds)

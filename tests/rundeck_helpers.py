"""Helpers for tests that run Rundeck jobs through the execution service (real processes, a real store)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.nodes.resources import local_node
from xlr_runtime.rundeck.run.execution import ExecutionService, JobList, StepFunction
from xlr_runtime.store import Store
from xlr_runtime.store.executions import Execution
from xlr_runtime.store.owners import LEASE_SECONDS

SERVER = "srv"


def job_xml(steps: str, *, name: str = "job", extra: str = "", options: str = "", sequence: str = "") -> str:
    """A one-job ``<joblist>`` with the given ``<command>`` elements."""
    context = f"<context><options preserveOrder='true'>{options}</options></context>" if options else ""
    return (
        f"<joblist><job><name>{name}</name><description/><uuid>uuid-{name}</uuid>{context}{extra}"
        f"<sequence keepgoing='false' strategy='node-first' {sequence}>{steps}</sequence></job></joblist>"
    )


#: The JSON answers of :class:`ValuesHandler`, by path: each form of Rundeck's remote option values, and a bad one.
VALUES_PAYLOADS = {
    "/list": ["dev", "prod"],
    "/objects": [{"name": "Development", "value": "dev"}, {"name": "Production", "value": "prod"}],
    "/map": {"Development": "dev", "Production": "prod"},
    "/scalar": 3,
}


class ValuesHandler(BaseHTTPRequestHandler):
    """What a ``valuesUrl`` serves: :data:`VALUES_PAYLOADS` by path as JSON, 404 for any other path."""

    def do_GET(self) -> None:
        if self.path not in VALUES_PAYLOADS:
            self.send_error(404)
            return
        body = json.dumps(VALUES_PAYLOADS[self.path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port) in a daemon thread; yield the base URL, then stop."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def load(xml: str) -> Job:
    return load_jobs_xml(xml, path="test.xml")[0]


class Harness:
    """A store, a job list and an execution service over a temporary home; with ``nodes``, project P's
    resource-model file holds them (:func:`write_nodes`)."""

    def __init__(
        self, root: Path, *, step_types: Mapping[str, StepFunction] | None = None, nodes: str | None = None
    ) -> None:
        self.root = root
        if nodes is not None:
            write_nodes(root, nodes)
        self.store = Store.open(root / "xlr.db")
        self.jobs = JobList()
        self.service = ExecutionService(
            self.store,
            home_root=root,
            jobs=self.jobs,
            server_node=local_node(name=SERVER),
            step_types=step_types,
            lease=LEASE_SECONDS,
        )

    def add(self, xml: str, project: str = "P") -> Job:
        job = load(xml)
        self.jobs.add(project, job)
        return job

    def run(self, xml_or_job: str | Job, options: Mapping[str, str | list[str]] | None = None) -> Execution:
        job = self.add(xml_or_job) if isinstance(xml_or_job, str) else xml_or_job
        started = self.service.start("P", job, options or {})
        return self.finish(started.id)

    def finish(self, execution_id: int) -> Execution:
        def done() -> bool:
            return self.service.final_of_chain(execution_id).status.is_final

        self.service.run(until=done, max_wait=0.02)
        return self.service.final_of_chain(execution_id)

    def output(self, execution_id: int, *, levels: tuple[str, ...] = ("NORMAL",)) -> list[str]:
        return [line.text for line in self.store.executions.log(execution_id) if line.level in levels]

    def close(self) -> None:
        self.service.join(5)
        self.store.close()


def write_nodes(root: Path, text: str, project: str = "P") -> None:
    """The resource-model file ``nodes.yaml`` of ``project`` in the home ``root``, holding ``text``."""
    folder = root / "projects" / project / "resources"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nodes.yaml").write_text(text)


def stored_bytes(root: Path) -> bytes:
    """The database in ``root`` with its WAL and -shm files, as they are on disk (to search for a canary)."""
    return b"".join(path.read_bytes() for path in sorted(root.glob("xlr.db*")))

"""A small, real Jenkins remote-access API server for tests (ours and plugin authors').

It speaks the parts of Jenkins' JSON API that build-triggering clients use, with Jenkins' own status codes,
fields and ``_class`` names:

- ``GET /api/json`` (``hudson.model.Hudson``), ``GET /crumbIssuer/api/json`` (404 when crumbs are off);
- jobs and folders: ``GET /job/a/job/b/api/json`` (``hudson.model.FreeStyleProject`` with parameter
  definitions in ``property[]``, or ``com.cloudbees.hudson.plugins.folder.Folder`` with ``jobs[]``);
- ``POST /job/…/build`` and ``POST /job/…/buildWithParameters`` → ``201 Created`` with ``Location:
  <root>/queue/item/N/`` (``build`` on a parameterised job is ``400 Nothing is submitted``;
  ``buildWithParameters`` on a plain job is ``500 This build is not parameterized!``; a disabled job ``409``);
- ``GET /queue/api/json`` and ``GET /queue/item/N/api/json`` (``hudson.model.Queue$BuildableItem`` while
  waiting, ``hudson.model.Queue$LeftItem`` with ``executable`` or ``cancelled: true`` once left);
- ``POST /queue/cancelItem?id=N`` → ``204``; ``404 Provided id (N) not found``; ``500`` when it already left;
- ``GET /job/…/N/api/json`` (``hudson.model.FreeStyleBuild``: ``number``, ``url``, ``building``, ``result``,
  ``duration``, ``timestamp``, ``queueId``, parameters in ``actions``), ``/job/…/lastBuild/api/json``,
  ``/job/…/N/console`` and ``/job/…/N/consoleText``;
- Basic authentication (``401`` + ``WWW-Authenticate: Basic realm="Jenkins"`` for a wrong password,
  ``403`` for anonymous requests that lack permission) and CSRF crumbs (``403 No valid crumb was included in
  the request`` for a POST without the crumb, sent as the header named by ``crumbRequestField``).

Time comes from an injectable clock, and a job can also be told to stay queued or building for a number of
polls, so tests need no real waiting. Everything the server knows is in memory and inspectable: the jobs, the
queue, the builds, every trigger with its parameters, and every request. ``stop()`` and ``start()`` take the
server down and bring it back on the same port, with its state, to simulate an outage mid-build.

Simplifications, on purpose: the crumb depends on the user only (as with Jenkins' "exclude session id"
option, so no session cookie is needed); API tokens are not distinguished from passwords; ``tree=`` and
``depth=`` are accepted and ignored (the full object is returned).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from xlr_runtime.errors import NotFoundError, StateError
from xlr_runtime.mask import MASK
from xlr_runtime.testing.jenkins_model import (
    RESULTS,
    Build,
    JenkinsViews,
    Job,
    QueueItem,
    RecordedRequest,
    Trigger,
)

__all__ = ["RESULTS", "Build", "JenkinsServer", "Job", "QueueItem", "RecordedRequest", "Trigger"]

#: The version the server claims in its ``X-Jenkins`` header.
JENKINS_VERSION = "2.440.3"


Clock = Callable[[], float]


class _HttpError(Exception):
    """An HTTP error answer inside the server (never leaves this module)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class JenkinsServer(JenkinsViews):
    """A Jenkins API server on ``127.0.0.1`` (a free port unless ``port`` is given), started on creation.

    ``users`` maps user names to passwords; with none, security is off and every request is allowed. With
    users, ``anonymous_read`` lets unauthenticated clients read (never build). ``crumbs`` turns CSRF
    protection on: every POST then needs the crumb from ``/crumbIssuer/api/json`` in the header (or form
    field) named ``crumb_request_field``. ``clock`` gives the time in epoch seconds (default
    :func:`time.time`). ``path_prefix`` serves Jenkins under a context path such as ``/jenkins``. Set
    :attr:`starting` to answer every request with 503, as Jenkins does while it restarts.

    Use it as a context manager, or call :meth:`close`. All public methods are thread-safe.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        anonymous_read: bool = True,
        crumbs: bool = False,
        crumb_request_field: str = "Jenkins-Crumb",
        clock: Clock = time.time,
        path_prefix: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.users = dict(users or {})
        self.anonymous_read = anonymous_read
        self.crumbs = crumbs
        self.crumb_request_field = crumb_request_field
        self.clock = clock
        self.path_prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
        #: While True every request is answered ``503 Jenkins is getting ready to work`` (a restarting Jenkins).
        self.starting = False
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._folders: set[str] = set()
        self._queue: dict[int, QueueItem] = {}
        self._next_queue_id = 1
        self._triggers: list[Trigger] = []
        self._requests: list[RecordedRequest] = []
        self._salt = hashlib.sha256(f"{id(self)}{time.time_ns()}".encode()).hexdigest()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.start()

    # -- lifecycle ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The root URL clients use, without a trailing slash (``http://127.0.0.1:PORT[/prefix]``)."""
        return f"http://{self._host}:{self._port}{self.path_prefix}"

    @property
    def port(self) -> int:
        """The TCP port (fixed after the first start, so a restarted server keeps its URL)."""
        return self._port

    @property
    def running(self) -> bool:
        """True while the server accepts connections."""
        return self._httpd is not None

    def start(self) -> None:
        """Accept connections (again, on the same port, keeping all state). No-op when already running."""
        if self._httpd is not None:
            return
        handler = type("BoundHandler", (_Handler,), {"server_model": self})
        httpd = ThreadingHTTPServer((self._host, self._port), handler)
        httpd.daemon_threads = True
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name=f"jenkins-test-{self._port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Refuse connections (the server is "down") but keep every job, queue item and build. Builds keep
        running by the clock meanwhile, as they would on a real Jenkins whose web front end is unreachable."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join()

    def close(self) -> None:
        """Stop the server for good."""
        self.stop()

    def __enter__(self) -> JenkinsServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- configuration -----------------------------------------------------------------------------------

    def add_job(
        self,
        name: str,
        *,
        parameters: Mapping[str, str] | None = None,
        result: str = "SUCCESS",
        duration: float = 0.0,
        build_polls: int = 0,
        queue_delay: float = 0.0,
        queue_polls: int = 0,
        disabled: bool = False,
        next_build_number: int = 1,
    ) -> Job:
        """Define a job; ``name`` may be a folder path (``team/app/deploy``) and its folders are created.

        See :class:`Job` for the meaning of the options. Returns the job, whose fields may be changed later.
        """
        _check_result(result)
        full_name = _normalise(name)
        with self._lock:
            if full_name in self._jobs or full_name in self._folders:
                raise StateError(f"Jenkins test server: {full_name!r} already exists")
            self._add_parent_folders(full_name)
            job = Job(
                full_name,
                dict(parameters) if parameters is not None else None,
                result,
                duration,
                build_polls,
                queue_delay,
                queue_polls,
                disabled,
                next_build_number,
            )
            self._jobs[full_name] = job
            return job

    def add_folder(self, name: str) -> None:
        """Define a (possibly empty) folder and its parent folders."""
        full_name = _normalise(name)
        with self._lock:
            if full_name in self._jobs:
                raise StateError(f"Jenkins test server: {full_name!r} is a job, not a folder")
            self._add_parent_folders(full_name)
            self._folders.add(full_name)

    def _add_parent_folders(self, full_name: str) -> None:
        parts = full_name.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in self._jobs:
                raise StateError(f"Jenkins test server: {folder!r} is a job, not a folder")
            self._folders.add(folder)

    # -- inspection and control --------------------------------------------------------------------------

    def job(self, name: str) -> Job:
        """The job named ``name`` (folder path allowed)."""
        with self._lock:
            return self._job_or_raise(_normalise(name))

    def queue_item(self, item_id: int) -> QueueItem:
        """The queue item with this id (also after it left the queue)."""
        with self._lock:
            self._advance()
            if item_id not in self._queue:
                raise NotFoundError(f"Jenkins test server: no queue item {item_id}")
            return self._queue[item_id]

    def build(self, job: str, number: int) -> Build:
        """Build ``number`` of ``job``."""
        with self._lock:
            self._advance()
            builds = self._job_or_raise(_normalise(job)).builds
            if number not in builds:
                raise NotFoundError(f"Jenkins test server: job {job!r} has no build #{number}")
            return builds[number]

    @property
    def triggers(self) -> list[Trigger]:
        """Every accepted build request, oldest first."""
        with self._lock:
            return list(self._triggers)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request received, oldest first."""
        with self._lock:
            return list(self._requests)

    def cancel_queue_item(self, item_id: int) -> None:
        """Cancel a waiting queue item, as a Jenkins user clicking "cancel" in the build queue would."""
        with self._lock:
            item = self.queue_item(item_id)
            if not item.waiting:
                raise StateError(f"Jenkins test server: queue item {item_id} already left the queue")
            item.cancelled = True

    def finish_build(self, job: str, number: int, result: str | None = None) -> Build:
        """End a running build now, with ``result`` (default: its planned result)."""
        with self._lock:
            build = self.build(job, number)
            if not build.building:
                raise StateError(f"Jenkins test server: {job} #{number} already finished ({build.result})")
            if result is not None:
                _check_result(result)
                build.planned_result = result
            build.ends_at = self.clock()
            self._finish(build)
            return build

    def crumb_for(self, user: str | None) -> str:
        """The crumb this server issues to ``user`` (``None``: anonymous)."""
        return hashlib.sha256(f"{self._salt}:{user or 'anonymous'}".encode()).hexdigest()

    # -- state machine -----------------------------------------------------------------------------------

    def _job_or_raise(self, full_name: str) -> Job:
        if full_name not in self._jobs:
            raise NotFoundError(f"Jenkins test server: no job {full_name!r}")
        return self._jobs[full_name]

    def _advance(self) -> None:
        """Move every item and build whose time has come (and whose polls are used up) to its next state."""
        now = self.clock()
        for item in self._queue.values():
            if item.waiting and item.polls_left <= 0 and now >= item.ready_at:
                self._start_build(item)
        for job in self._jobs.values():
            for build in job.builds.values():
                if build.building and build.polls_left <= 0 and now >= build.ends_at:
                    self._finish(build)

    def _start_build(self, item: QueueItem) -> None:
        """Start the item's build at the moment it could leave the queue (``ready_at``)."""
        job = item.job
        start = item.ready_at
        number = job.next_build_number
        job.next_build_number += 1
        parameters = {**(job.parameters or {}), **item.parameters}
        build = Build(
            job, number, item.id, parameters, item.user, start, start + job.duration, job.result, _gate(job.build_polls)
        )
        job.builds[number] = build
        item.build = build

    def _finish(self, build: Build) -> None:
        """End the build at the moment it could end (``ends_at``)."""
        build.finished_at = build.ends_at
        build.result = build.planned_result

    def _enqueue(self, job: Job, endpoint: str, parameters: dict[str, str], user: str | None) -> QueueItem:
        accepted = {k: v for k, v in parameters.items() if job.parameters is not None and k in job.parameters}
        for item in self._queue.values():  # Jenkins folds an identical pending request into the queued item
            if item.waiting and item.job is job and item.parameters == accepted:
                self._triggers.append(Trigger(job.full_name, endpoint, parameters, user, item.id))
                return item
        now = self.clock()
        item = QueueItem(self._next_queue_id, job, accepted, user, now, now + job.queue_delay, _gate(job.queue_polls))
        self._next_queue_id += 1
        self._queue[item.id] = item
        self._triggers.append(Trigger(job.full_name, endpoint, parameters, user, item.id))
        return item

    def _poll_item(self, item: QueueItem) -> None:
        if item.waiting and item.polls_left > 0:
            item.polls_left -= 1
            if item.polls_left == 0:  # the gate opens now: the item leaves the queue no earlier than this
                item.ready_at = max(item.ready_at, self.clock())
            self._advance()

    def _poll_build(self, build: Build) -> None:
        if build.building and build.polls_left > 0:
            build.polls_left -= 1
            if build.polls_left == 0:
                build.ends_at = max(build.ends_at, self.clock())
            self._advance()

    # -- request handling (called by the handler, under the lock) ----------------------------------------

    def _handle(self, method: str, path: str, query: dict[str, list[str]], headers: Mapping[str, str]) -> _Answer:
        if self.starting:
            raise _HttpError(503, "Jenkins is getting ready to work")
        user = self._authenticate(method, headers)
        if method == "POST" and self.crumbs:
            sent = headers.get(self.crumb_request_field) or _first(query, self.crumb_request_field)
            if sent != self.crumb_for(user):
                raise _HttpError(403, "No valid crumb was included in the request")
        if self.path_prefix:
            if path != self.path_prefix and not path.startswith(self.path_prefix + "/"):
                raise _HttpError(404, "Not Found")
            path = path[len(self.path_prefix) :]
        self._advance()
        segments = [unquote(s) for s in path.split("/") if s]
        return self._route(method, segments, query, user)

    def _authenticate(self, method: str, headers: Mapping[str, str]) -> str | None:
        header = headers.get("Authorization")
        if header:
            user, password = _basic_credentials(header)
            if self.users and self.users.get(user) != password:
                raise _HttpError(
                    401, f"Invalid password/token for user: {user}", {"WWW-Authenticate": 'Basic realm="Jenkins"'}
                )
            return user
        if self.users and (method != "GET" or not self.anonymous_read):
            permission = "hudson.model.Hudson.Read" if method == "GET" else "hudson.model.Item.Build"
            raise _HttpError(
                403,
                "Authentication required" if method == "GET" else "anonymous is missing the Job/Build permission",
                {"X-You-Are-Authenticated-As": "anonymous", "X-Required-Permission": permission},
            )
        return None

    def _route(self, method: str, seg: list[str], query: dict[str, list[str]], user: str | None) -> _Answer:
        if seg in ([], ["api", "json"]):
            return _get_only(method, lambda: _Answer.json(self._root_json()))
        if seg == ["crumbIssuer", "api", "json"] and self.crumbs:
            return _get_only(method, lambda: _Answer.json(self._crumb_json(user)))
        if seg == ["queue", "api", "json"]:
            items = [self._item_json(i) for i in self._queue.values() if i.waiting]
            return _get_only(
                method, lambda: _Answer.json({"_class": "hudson.model.Queue", "discoverableItems": [], "items": items})
            )
        if seg == ["queue", "cancelItem"]:
            return self._cancel_item(method, query)
        if len(seg) >= 3 and seg[:2] == ["queue", "item"]:
            return self._queue_route(method, seg[2:])
        if seg and seg[0] == "job":
            return self._job_route(method, seg, query, user)
        raise _HttpError(404, "Not Found")

    def _crumb_json(self, user: str | None) -> dict[str, Any]:
        return {
            "_class": "hudson.security.csrf.DefaultCrumbIssuer",
            "crumb": self.crumb_for(user),
            "crumbRequestField": self.crumb_request_field,
        }

    def _cancel_item(self, method: str, query: dict[str, list[str]]) -> _Answer:
        if method != "POST":
            raise _HttpError(405, "This URL requires POST")
        raw = _first(query, "id") or ""
        if not raw.isdigit():
            raise _HttpError(400, f"Can't convert '{raw}' into long")
        item = self._queue.get(int(raw))
        if item is None:
            raise _HttpError(404, f"Provided id ({raw}) not found")
        if not item.waiting:
            raise _HttpError(500, f"Could not cancel run for id {raw}")
        item.cancelled = True
        return _Answer(204)

    def _queue_route(self, method: str, rest: list[str]) -> _Answer:
        item = self._queue.get(int(rest[0])) if rest[0].isdigit() else None
        if item is None or rest[1:] not in ([], ["api", "json"]):
            raise _HttpError(404, "Not Found")
        if method != "GET":
            raise _HttpError(405, "Method Not Allowed")
        self._poll_item(item)
        return _Answer.json(self._item_json(item))

    def _job_route(self, method: str, seg: list[str], query: dict[str, list[str]], user: str | None) -> _Answer:
        names: list[str] = []
        while len(seg) >= 2 and seg[0] == "job":
            names.append(seg[1])
            seg = seg[2:]
            full_name = "/".join(names)
            if full_name not in self._folders and full_name not in self._jobs:
                raise _HttpError(404, "Not Found")
            if full_name in self._jobs and seg[:1] == ["job"]:
                raise _HttpError(404, "Not Found")
        full_name = "/".join(names)
        if full_name in self._folders:
            if seg in ([], ["api", "json"]):
                return _get_only(method, lambda: _Answer.json(self._folder_json(full_name)))
            raise _HttpError(404, "Not Found")
        job = self._jobs[full_name]
        if seg in (["build"], ["buildWithParameters"]):
            return self._trigger(method, job, seg[0], query, user)
        if seg in ([], ["api", "json"]):
            return _get_only(method, lambda: _Answer.json(self._job_json(job)))
        if seg and (seg[0].isdigit() or seg[0] == "lastBuild"):
            return self._build_route(method, job, seg)
        raise _HttpError(404, "Not Found")

    def _trigger(self, method: str, job: Job, endpoint: str, query: dict[str, list[str]], user: str | None) -> _Answer:
        if method != "POST":
            raise _HttpError(405, "This URL requires POST")
        if job.disabled:
            raise _HttpError(409, f"{job.full_name} is not buildable")
        parameters = {k: v[-1] for k, v in query.items() if k not in ("delay", "token", self.crumb_request_field)}
        if endpoint == "build" and job.parameters is not None:
            raise _HttpError(400, "Nothing is submitted")
        if endpoint == "buildWithParameters" and job.parameters is None:
            raise _HttpError(500, "This build is not parameterized!")
        item = self._enqueue(job, endpoint, parameters, user)
        return _Answer(201, headers={"Location": f"{self.url}/queue/item/{item.id}/"})

    def _build_route(self, method: str, job: Job, seg: list[str]) -> _Answer:
        if seg[0] == "lastBuild":
            build = job.builds[max(job.builds)] if job.builds else None
        else:
            build = job.builds.get(int(seg[0]))
        if build is None:
            raise _HttpError(404, "Not Found")
        rest = seg[1:]
        if method != "GET":
            raise _HttpError(405, "Method Not Allowed")
        if rest in ([], ["api", "json"]):
            if rest:
                self._poll_build(build)
            return _Answer.json(self._build_json(build))
        if rest == ["consoleText"]:
            return _Answer(200, self._console_text(build).encode(), "text/plain;charset=utf-8")
        if rest == ["console"]:
            body = f"<html><body><pre>{self._console_text(build)}</pre></body></html>"
            return _Answer(200, body.encode(), "text/html;charset=utf-8")
        raise _HttpError(404, "Not Found")

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: dict[str, Any]) -> _Answer:
        return cls(200, json.dumps(payload).encode(), "application/json;charset=utf-8")


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into calls on the bound :class:`JenkinsServer`."""

    server_model: JenkinsServer
    server_version = "Jetty(10.0.20)"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests assert on recorded requests instead
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        model = self.server_model
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if body and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            for key, values in parse_qs(body.decode(), keep_blank_values=True).items():
                query.setdefault(key, []).extend(values)
        headers = {k: v for k, v in self.headers.items()}
        user = None
        try:
            with model._lock:
                user = _user_of(headers)
                answer = model._handle(method, parts.path, query, _CaseInsensitive(headers))
        except _HttpError as error:
            page = f"<html><body><h2>HTTP ERROR {error.status} {error.message}</h2></body></html>"
            answer = _Answer(error.status, page.encode(), "text/html;charset=utf-8", error.headers)
        model._record(RecordedRequest(method, parts.path, query, _masked(headers), user, answer.status))
        self.send_response(answer.status)
        self.send_header("X-Jenkins", JENKINS_VERSION)
        self.send_header("X-Hudson", "1.395")
        for key, value in answer.headers.items():
            self.send_header(key, value)
        if answer.content_type:
            self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)


class _CaseInsensitive(dict[str, str]):
    """Header lookup ignoring case, as HTTP requires."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in headers.items()})

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


def _get_only(method: str, answer: Callable[[], _Answer]) -> _Answer:
    if method != "GET":
        raise _HttpError(405, "Method Not Allowed")
    return answer()


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if scheme.lower() != "basic" or ":" not in decoded:
        raise _HttpError(
            401, "Malformed HTTP basic Authorization header", {"WWW-Authenticate": 'Basic realm="Jenkins"'}
        )
    user, _, password = decoded.partition(":")
    return user, password


def _user_of(headers: Mapping[str, str]) -> str | None:
    header = _CaseInsensitive(headers).get("Authorization")
    if not header:
        return None
    try:
        return _basic_credentials(header)[0]
    except _HttpError:
        return None


def _masked(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as recorded: the Authorization value never kept in clear."""
    return {k: (f"Basic {MASK}" if k.lower() == "authorization" else v) for k, v in headers.items()}


def _first(query: Mapping[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _normalise(name: str) -> str:
    parts = [p for p in name.strip("/").split("/") if p]
    if not parts:
        raise StateError("Jenkins test server: a job or folder needs a name")
    return "/".join(parts)


def _gate(polls: int) -> int:
    """Polls to count down before a change may happen: the first ``polls`` polls answer "not yet", the next
    one sees the change (other requests never move it on)."""
    return polls + 1 if polls > 0 else 0


def _check_result(result: str) -> None:
    if result not in RESULTS:
        raise StateError(f"Jenkins test server: unknown build result {result!r} (one of {', '.join(RESULTS)})")

"""The Jenkins test server's model (jobs, queue items, builds, what it recorded) and its JSON views.

The views render the objects as Jenkins' remote-access API does: the same field names, ``_class`` values,
absolute ``url`` fields ending in ``/`` and epoch-millisecond times. :class:`JenkinsViews` is mixed into
:class:`xlr_runtime.testing.jenkins.JenkinsServer`, which owns the state and the locking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

#: The results a Jenkins build can end with.
RESULTS = ("SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED")

PROJECT_CLASS = "hudson.model.FreeStyleProject"
BUILD_CLASS = "hudson.model.FreeStyleBuild"
FOLDER_CLASS = "com.cloudbees.hudson.plugins.folder.Folder"
_COLORS = {"SUCCESS": "blue", "UNSTABLE": "yellow", "FAILURE": "red", "NOT_BUILT": "notbuilt", "ABORTED": "aborted"}


@dataclass
class Build:
    """One build of a job. ``result`` is ``None`` while it is building; ``planned_result`` is what it will end
    with (the job's ``result`` when the build started)."""

    job: Job
    number: int
    queue_id: int
    parameters: dict[str, str]
    user: str | None
    started_at: float
    ends_at: float
    planned_result: str
    polls_left: int
    result: str | None = None
    finished_at: float | None = None

    @property
    def building(self) -> bool:
        """True until the build has a result."""
        return self.result is None


@dataclass
class QueueItem:
    """One queue item. It waits until ``ready_at`` and until its polls are counted down (``polls_left``;
    see the job's ``queue_polls``), then leaves the queue with a :class:`Build`, unless it was cancelled first."""

    id: int
    job: Job
    parameters: dict[str, str]
    user: str | None
    queued_at: float
    ready_at: float
    polls_left: int
    cancelled: bool = False
    build: Build | None = None

    @property
    def waiting(self) -> bool:
        """True while the item is still in the queue (neither started nor cancelled)."""
        return self.build is None and not self.cancelled


@dataclass
class Job:
    """A freestyle job. ``parameters`` maps each string parameter to its default (``None``: not
    parameterised). ``queue_delay``/``queue_polls`` keep a triggered build queued for that many seconds /
    queue-item polls; ``duration``/``build_polls`` keep it building for that many seconds / build polls.
    Change ``result`` between triggers to vary the outcome of later builds."""

    full_name: str
    parameters: dict[str, str] | None = None
    result: str = "SUCCESS"
    duration: float = 0.0
    build_polls: int = 0
    queue_delay: float = 0.0
    queue_polls: int = 0
    disabled: bool = False
    next_build_number: int = 1
    builds: dict[int, Build] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The job's own name (the last segment of ``full_name``)."""
        return self.full_name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Trigger:
    """A build request the server accepted: which job, through which endpoint, with which parameters (as
    received, before defaults), by whom, and the queue item it got."""

    job: str
    endpoint: str
    parameters: dict[str, str]
    user: str | None
    queue_id: int


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the server saw it, with the status it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    user: str | None
    status: int


class JenkinsViews:
    """Renders the server's state as Jenkins' JSON. The host class provides the attributes below."""

    url: str
    users: dict[str, str]
    crumbs: bool
    crumb_request_field: str
    _jobs: dict[str, Job]
    _folders: set[str]
    _queue: dict[int, QueueItem]

    def _job_url(self, full_name: str) -> str:
        return self.url + "/" + "".join(f"job/{quote(part, safe='')}/" for part in full_name.split("/"))

    def _build_url(self, build: Build) -> str:
        return f"{self._job_url(build.job.full_name)}{build.number}/"

    def _color(self, job: Job) -> str:
        if job.disabled:
            return "disabled"
        finished = [b for b in job.builds.values() if not b.building]
        color = _COLORS[max(finished, key=lambda b: b.number).result or "NOT_BUILT"] if finished else "notbuilt"
        return color + "_anime" if any(b.building for b in job.builds.values()) else color

    def _child_ref(self, full_name: str) -> dict[str, Any]:
        name = full_name.rsplit("/", 1)[-1]
        if full_name in self._folders:
            return {"_class": FOLDER_CLASS, "name": name, "url": self._job_url(full_name)}
        job = self._jobs[full_name]
        return {"_class": PROJECT_CLASS, "name": name, "url": self._job_url(full_name), "color": self._color(job)}

    def _children(self, folder: str) -> list[dict[str, Any]]:
        prefix = folder + "/" if folder else ""
        names = [n for n in [*self._folders, *self._jobs] if n.startswith(prefix) and "/" not in n[len(prefix) :]]
        return [self._child_ref(n) for n in sorted(names, key=str.lower)]

    def _root_json(self) -> dict[str, Any]:
        return {
            "_class": "hudson.model.Hudson",
            "assignedLabels": [{"name": "built-in"}],
            "mode": "NORMAL",
            "nodeDescription": "the Jenkins controller's built-in node",
            "nodeName": "",
            "numExecutors": 2,
            "description": None,
            "jobs": self._children(""),
            "quietingDown": False,
            "slaveAgentPort": -1,
            "url": self.url + "/",
            "useCrumbs": self.crumbs,
            "useSecurity": bool(self.users),
            "views": [{"_class": "hudson.model.AllView", "name": "all", "url": self.url + "/"}],
        }

    def _folder_json(self, full_name: str) -> dict[str, Any]:
        return {
            "_class": FOLDER_CLASS,
            "actions": [],
            "description": None,
            "displayName": full_name.rsplit("/", 1)[-1],
            "displayNameOrNull": None,
            "fullDisplayName": full_name.replace("/", " » "),
            "fullName": full_name,
            "name": full_name.rsplit("/", 1)[-1],
            "url": self._job_url(full_name),
            "healthReport": [],
            "jobs": self._children(full_name),
        }

    def _build_ref(self, build: Build | None) -> dict[str, Any] | None:
        return None if build is None else {"_class": BUILD_CLASS, "number": build.number, "url": self._build_url(build)}

    def _job_json(self, job: Job) -> dict[str, Any]:
        builds = sorted(job.builds.values(), key=lambda b: b.number, reverse=True)
        done = [b for b in builds if not b.building]

        def last(pred: Callable[[Build], bool]) -> dict[str, Any] | None:
            return self._build_ref(next((b for b in done if pred(b)), None))

        queued = next((i for i in self._queue.values() if i.waiting and i.job is job), None)
        return {
            "_class": PROJECT_CLASS,
            "actions": [],
            "description": "",
            "displayName": job.name,
            "displayNameOrNull": None,
            "fullDisplayName": job.full_name.replace("/", " » "),
            "fullName": job.full_name,
            "name": job.name,
            "url": self._job_url(job.full_name),
            "buildable": not job.disabled,
            "builds": [self._build_ref(b) for b in builds],
            "color": self._color(job),
            "firstBuild": self._build_ref(builds[-1] if builds else None),
            "healthReport": [],
            "inQueue": queued is not None,
            "keepDependencies": False,
            "lastBuild": self._build_ref(builds[0] if builds else None),
            "lastCompletedBuild": last(lambda b: True),
            "lastFailedBuild": last(lambda b: b.result == "FAILURE"),
            "lastStableBuild": last(lambda b: b.result == "SUCCESS"),
            "lastSuccessfulBuild": last(lambda b: b.result in ("SUCCESS", "UNSTABLE")),
            "lastUnstableBuild": last(lambda b: b.result == "UNSTABLE"),
            "lastUnsuccessfulBuild": last(lambda b: b.result != "SUCCESS"),
            "nextBuildNumber": job.next_build_number,
            "property": self._job_properties(job),
            "queueItem": self._item_json(queued) if queued else None,
            "concurrentBuild": False,
            "disabled": job.disabled,
            "downstreamProjects": [],
            "labelExpression": None,
            "scm": {"_class": "hudson.scm.NullSCM"},
            "upstreamProjects": [],
        }

    def _job_properties(self, job: Job) -> list[dict[str, Any]]:
        if job.parameters is None:
            return []
        definitions = [
            {
                "_class": "hudson.model.StringParameterDefinition",
                "defaultParameterValue": {
                    "_class": "hudson.model.StringParameterValue",
                    "name": name,
                    "value": default,
                },
                "description": "",
                "name": name,
                "type": "StringParameterDefinition",
            }
            for name, default in job.parameters.items()
        ]
        return [{"_class": "hudson.model.ParametersDefinitionProperty", "parameterDefinitions": definitions}]

    def _actions(self, parameters: dict[str, str], user: str | None, parameterised: bool) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        if parameterised:
            values = [
                {"_class": "hudson.model.StringParameterValue", "name": k, "value": v} for k, v in parameters.items()
            ]
            actions.append({"_class": "hudson.model.ParametersAction", "parameters": values})
        cause = (
            {
                "_class": "hudson.model.Cause$UserIdCause",
                "shortDescription": f"Started by user {user}",
                "userId": user,
                "userName": user,
            }
            if user
            else {
                "_class": "hudson.model.Cause$UserIdCause",
                "shortDescription": "Started by user anonymous",
                "userId": None,
                "userName": "anonymous",
            }
        )
        actions.append({"_class": "hudson.model.CauseAction", "causes": [cause]})
        return actions

    def _item_json(self, item: QueueItem) -> dict[str, Any]:
        job = item.job
        common: dict[str, Any] = {
            "actions": self._actions(item.parameters, item.user, job.parameters is not None),
            "blocked": False,
            "id": item.id,
            "inQueueSince": ms(item.queued_at),
            "params": "".join(f"\n{k}={v}" for k, v in item.parameters.items()),
            "stuck": False,
            "task": {
                "_class": PROJECT_CLASS,
                "name": job.name,
                "url": self._job_url(job.full_name),
                "color": self._color(job),
            },
            "url": f"queue/item/{item.id}/",
        }
        if item.waiting:
            return {
                "_class": "hudson.model.Queue$BuildableItem",
                **common,
                "buildable": True,
                "why": "Waiting for next available executor",
                "buildableStartMilliseconds": ms(item.queued_at),
                "pending": False,
            }
        executable = None
        if item.build is not None:
            executable = {"_class": BUILD_CLASS, "number": item.build.number, "url": self._build_url(item.build)}
        return {
            "_class": "hudson.model.Queue$LeftItem",
            **common,
            "buildable": False,
            "why": None,
            "cancelled": item.cancelled,
            "executable": executable,
        }

    def _build_json(self, build: Build) -> dict[str, Any]:
        job = build.job
        finished = build.finished_at
        duration = 0 if finished is None else max(1, ms(finished) - ms(build.started_at))
        return {
            "_class": BUILD_CLASS,
            "actions": self._actions(build.parameters, build.user, job.parameters is not None),
            "artifacts": [],
            "building": build.building,
            "description": None,
            "displayName": f"#{build.number}",
            "duration": duration,
            "estimatedDuration": max(1, int(job.duration * 1000)),
            "executor": {"_class": "hudson.model.Executor"} if build.building else None,
            "fullDisplayName": f"{job.full_name.replace('/', ' » ')} #{build.number}",
            "id": str(build.number),
            "keepLog": False,
            "number": build.number,
            "queueId": build.queue_id,
            "result": build.result,
            "timestamp": ms(build.started_at),
            "url": self._build_url(build),
            "builtOn": "",
            "changeSet": {"_class": "hudson.scm.EmptyChangeLogSet", "items": [], "kind": None},
            "culprits": [],
        }

    def _console_text(self, build: Build) -> str:
        who = build.user or "anonymous"
        lines = [f"Started by user {who}", "Running as SYSTEM", f"Building in workspace /var/jenkins/{build.job.name}"]
        if not build.building:
            lines.append(f"Finished: {build.result}")
        return "\n".join(lines) + "\n"


def ms(seconds: float) -> int:
    """Epoch seconds as Jenkins' epoch milliseconds."""
    return round(seconds * 1000)

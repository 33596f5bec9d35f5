"""A Rundeck API client, as Rundeck's users write them with ``requests``: the tests of Rundeck's API served by
``xlr serve`` drive it against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from tests.http_helpers import TIMEOUT, Api, served_api
from tests.waiting import wait_until


class Rundeck:
    """A Rundeck API client, as its users write them: a base URL with the API version and a token header."""

    def __init__(self, server: str, token: str | None, version: int = 47) -> None:
        self.base = f"{server}/api/{version}"
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token is not None:
            self.session.headers["X-Rundeck-Auth-Token"] = token
        self.seen: list[str] = []  # every response body, for the secrets canary

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, self.base + path, timeout=TIMEOUT, **kwargs)
        self.seen.append(response.text)
        return response

    def get(self, path: str, **params: Any) -> Any:
        response = self.call("GET", path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def import_jobs(self, project: str, text: str, fmt: str = "yaml", **params: str) -> requests.Response:
        return self.call(
            "POST",
            f"/project/{project}/jobs/import",
            params={"fileformat": fmt, **params},
            data=text.encode(),
            headers={"Content-Type": f"application/{fmt}"},
        )

    def run(self, job_id: str, **body: Any) -> requests.Response:
        return self.call("POST", f"/job/{job_id}/run", json=body)

    def wait_done(self, execution_id: int) -> dict[str, Any]:
        state: dict[str, Any] = {}

        def ended() -> bool:
            state.update(self.get(f"/execution/{execution_id}"))
            return state["status"] not in ("running", "scheduled")

        wait_until(ended, lambda: f"execution {execution_id} still {state.get('status')}", timeout=TIMEOUT)
        return state

    def output(self, execution_id: int, **params: Any) -> Any:
        return self.get(f"/execution/{execution_id}/output", **params)


def served_rundeck(home: Path, project: str, jobs_yaml: str | None = None) -> Iterator[tuple[Api, Rundeck]]:
    """A real ``xlr serve`` in ``home`` and a client of its Rundeck API, with ``jobs_yaml`` imported into
    ``project`` (or, without jobs, the project created empty)."""
    for api in served_api(home):
        client = Rundeck(api.url.removesuffix("/api/v1"), api.token)
        if jobs_yaml is None:
            response = client.call("POST", "/projects", json={"name": project})
        else:
            response = client.import_jobs(project, jobs_yaml)
        assert response.status_code in (200, 201), response.text
        yield api, client

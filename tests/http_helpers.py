"""The HTTP API's tests share these: a real ``xlr serve`` with the demo plugin on a free loopback port, its
token, a client with ``requests``, and a reader of server-sent events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from tests.serve_helpers import Serve
from xlr_runtime.cli import main
from xlr_runtime.testing.jenkins import JenkinsServer

DEMO_PLUGIN = Path(__file__).parent / "data" / "plugins" / "demo"
#: Secret values that must never appear in any response: a password input, two CI passwords from the environment.
CANARIES = {
    "input": "canary-input-7c1f0e",
    "XLR_TEST_JENKINS_PASSWORD": "canary-jenkins-4b9d2a",
    "XLR_TEST_DEMO_PASSWORD": "canary-demo-e83a51",
}
TIMEOUT = 60


@dataclass
class Api:
    """The served API: its base URL, a valid token, the home and the Jenkins test server behind the CI."""

    url: str
    token: str
    home: Path
    jenkins: JenkinsServer
    serve: Serve

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", self.auth())
        return requests.post(self.url + path, json=body, timeout=TIMEOUT, **kwargs)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self.url + path, headers=self.auth(), timeout=TIMEOUT)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post("/tasks", body)
        assert response.status_code == 201, response.text
        return response.json()


def token_command(home: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["token", *args, "--home", str(home)])
    assert result.exit_code == 0, result.output
    return result.stdout


def write_config(home: Path, jenkins_url: str, extra_settings: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "xlr.toml").write_text(
        f'[settings]\n"workers.size" = 2\n"schedule.default_interval" = 1\n{extra_settings}\n'
        f'[ci.jenkins]\ntype = "jenkins.Server"\nurl = "{jenkins_url}"\nusername = "admin"\n'
        'password = { env = "XLR_TEST_JENKINS_PASSWORD" }\n'
        f'[ci.demo]\ntype = "demo.Server"\nurl = "{jenkins_url}"\nusername = "u"\n'
        'password = { env = "XLR_TEST_DEMO_PASSWORD" }\n',
        encoding="utf-8",
    )


def start_serve(home: Path, log: Path) -> Serve:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XLR_LOAD_PLUGINS", "")
        for name, value in CANARIES.items():
            if name.startswith("XLR_"):
                env.setenv(name, value)
        return Serve(home, log, DEMO_PLUGIN, args=("--http", "127.0.0.1:0")).wait_ready()


def events(response: requests.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of a server-sent event stream, as they arrive."""
    name, data = "message", ""
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and data:
            yield name, json.loads(data)
            name, data = "message", ""


def follow(api: Api, task_id: int) -> list[tuple[str, dict[str, Any]]]:
    with api.get(f"/tasks/{task_id}/log", params={"follow": "true"}, stream=True) as response:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(events(response))


def served_api(folder: Path) -> Iterator[Api]:
    """A served home in ``folder`` (CIs ``jenkins`` on a Jenkins test server and ``demo``, a token ``tests``),
    stopped with SIGTERM (which must end it cleanly) after the tests that use it; for module fixtures."""
    home = folder / "home"
    with JenkinsServer(users={"admin": CANARIES["XLR_TEST_JENKINS_PASSWORD"]}, anonymous_read=False) as jenkins:
        write_config(home, jenkins.url)
        token = token_command(home, "create", "tests").strip()
        with start_serve(home, folder / "serve.log") as serve:  # killed if it does not stop
            yield Api(serve.api_url(), token, home, jenkins, serve)
            assert serve.stop() == 0, serve.output()
            assert "Stopped." in serve.output()

"""The dashboard's tests share these: a browser-like client (``requests.Session`` with its cookies) that logs in
with a token through the login form and posts forms with the page's CSRF token, and the Rundeck job they run."""

from __future__ import annotations

import re
from typing import Any

import requests

from tests.http_helpers import TIMEOUT

SECURE_CANARY = "canary-web-secure-91c4d0"
#: A job whose options cover every control of the run form.
OPTIONS_JOB_ID = "7e1d0c2a-0001-4000-8000-00000000a001"
OPTIONS_JOB = f"""\
- name: release
  group: web
  uuid: {OPTIONS_JOB_ID}
  description: Release with every kind of option
  options:
  - name: env
    required: true
    enforced: true
    values: [dev, prod]
  - name: version
    regex: '[0-9]+[.][0-9]+'
    value: '1.0'
    description: The version to release
  - name: password
    secure: true
    valueExposed: true
    value: {SECURE_CANARY}-default
  - name: regions
    multivalued: true
    delimiter: '+'
    enforced: true
    values: [eu, us, ap]
  sequence:
    commands:
    - exec: echo releasing ${{option.version}} to ${{option.env}} in ${{option.regions}}
    - exec: echo "the password is $RD_OPTION_PASSWORD"
- name: nightly
  uuid: 7e1d0c2a-0002-4000-8000-00000000a002
  description: Scheduled far ahead, so it never fires in a test
  schedule:
    crontab: '0 0 3 1 1 ? 2099'
  timeZone: UTC
  sequence:
    commands:
    - exec: echo nightly
"""
#: A resource model of the project ``ops``: one remote node beside the server node.
NODES = """\
web1:
  nodename: web1
  hostname: web1.example.internal
  tags: web, prod
  node-executor: ssh-exec
"""


def field(html: str, name: str) -> str:
    """The value of the hidden input ``name`` of a page."""
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert found, html
    return found.group(1)


class Browser:
    """What a browser does with the dashboard without JavaScript: GET pages, post forms, keep cookies."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.session = requests.Session()
        self.pages: list[str] = []  # every body received, for the secrets canary

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.get(self.server + path, timeout=TIMEOUT, **kwargs)
        self.pages.append(response.text)
        return response

    def post(self, path: str, data: dict[str, Any] | bytes, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        response = self.session.post(self.server + path, data=data, timeout=TIMEOUT, **kwargs)
        self.pages.append(response.text)
        return response

    def login(self, token: str) -> requests.Response:
        form = self.get("/login").text
        return self.post("/login", {"nonce": field(form, "nonce"), "next": "/tasks", "token": token})

    def csrf(self, path: str = "/tasks") -> str:
        return field(self.get(path).text, "csrf")

    def submit(self, page: str, action: str, data: dict[str, Any]) -> requests.Response:
        """Post ``data`` to ``action`` with the CSRF token of ``page``, as its form does."""
        return self.post(action, {"csrf": self.csrf(page), **data})


def page_paths(values: dict[str, list[str]]) -> list[str]:
    """Every GET page of the dashboard, each path parameter replaced by each of its ``values`` (a page whose
    parameter has no values fails the test, so a new page cannot escape the canary)."""
    from starlette.routing import Route

    from xlr_runtime.http.web import routes

    paths = []
    for route in routes():
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        expanded = [route.path]
        for name in re.findall(r"{(\w+)}", route.path):
            assert values.get(name), f"no value for {{{name}}} of {route.path}"
            expanded = [path.replace(f"{{{name}}}", value) for path in expanded for value in values[name]]
        paths += expanded
    return paths

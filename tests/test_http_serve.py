"""How ``xlr serve`` runs its HTTP API: closed reads (``http.open_reads = "off"``), a busy port as a one-line error,
SIGTERM ending live streams and the server cleanly, and the catch-all that answers a bug with a bare 500."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import requests
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.http_helpers import DEMO_PLUGIN, TIMEOUT, events, start_serve, token_command
from tests.serve_helpers import Serve
from tests.task_helpers import XLR_COMMAND
from xlr_runtime.cli import main
from xlr_runtime.http.errors import EXCEPTION_HANDLERS
from xlr_runtime.http.server import reads_are_open


@pytest.fixture
def closed_api(tmp_path: Path) -> Iterator[Serve]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "xlr.toml").write_text('[settings]\n"http.open_reads" = "off"\n', encoding="utf-8")
    with start_serve(home, tmp_path / "serve.log") as serve:
        yield serve


def test_closed_reads_need_a_token_and_sigterm_ends_live_streams_and_the_server(closed_api: Serve) -> None:
    url = closed_api.api_url()
    token = token_command(closed_api.home, "create", "reader").strip()
    headers = {"Authorization": f"Bearer {token}"}
    refused = requests.get(f"{url}/tasks", timeout=TIMEOUT)
    assert (refused.status_code, refused.json()["field"]) == (401, "Authorization"), refused.text
    assert "reads need a token" in closed_api.output()
    created = requests.post(
        f"{url}/tasks",
        json={"type": "demo.Counter", "inputs": {"polls": 3, "interval": "3600"}},
        headers=headers,
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    stream = requests.get(
        f"{url}/tasks/{created.json()['id']}/log",
        params={"follow": "true"},
        headers=headers,
        stream=True,
        timeout=TIMEOUT,
    )
    received: list[tuple[str, dict[str, Any]]] = []
    first = threading.Event()

    def read() -> None:
        for event in events(stream):
            received.append(event)
            first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(TIMEOUT), closed_api.output()
    assert closed_api.stop() == 0, closed_api.output()
    reader.join(TIMEOUT)
    assert not reader.is_alive()
    assert received[0][0] == "status"
    assert "Stopped." in closed_api.output()
    assert "Traceback" not in closed_api.output()


def test_a_port_in_use_stops_serve_with_one_line(tmp_path: Path, closed_api: Serve) -> None:
    busy = closed_api.api_url().removeprefix("http://").removesuffix("/api/v1")
    done = subprocess.run(
        [*XLR_COMMAND, "serve", "--home", str(tmp_path / "other"), "--http", busy, "--plugins", str(DEMO_PLUGIN)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert f"Error: the HTTP API cannot listen on {busy}: the address is in use\n" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Serving " not in done.stderr


@pytest.mark.parametrize("value", ["5516", "localhost:", "host:port", "127.0.0.1:70000"])
def test_a_bad_http_option_is_a_usage_error(tmp_path: Path, value: str) -> None:
    done = subprocess.run(
        [*XLR_COMMAND, "serve", "--home", str(tmp_path / "home"), "--http", value],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--http'" in done.stderr


def test_a_bad_xlr_http_stops_serve_with_one_line_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--home", str(tmp_path / "home")], env={"XLR_HTTP": "host:port"})
    assert result.exit_code == 1, result.output
    assert result.output == (
        "Error: environment variable XLR_HTTP: setting 'http.listen': 'host:port' is not HOST:PORT or off "
        "(e.g. 127.0.0.1:5516, [::1]:5516)\n"
    )


def test_xlr_config_shows_the_http_address_from_xlr_http(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = CliRunner().invoke(main, ["config", "--home", str(home), "--json"], env={"XLR_HTTP": "127.0.0.1:0"})
    assert result.exit_code == 0, result.output
    rows = {row["name"]: (row["value"], row["source"]) for row in json.loads(result.output)}
    assert rows["http.listen"] == ("127.0.0.1:0", "environment variable XLR_HTTP")


@pytest.mark.parametrize(
    ("setting", "host", "open_reads"),
    [
        ("auto", "127.0.0.1", True),
        ("auto", "::1", True),
        ("auto", "localhost", True),
        ("auto", "0.0.0.0", False),
        ("auto", "192.168.1.10", False),
        ("on", "0.0.0.0", True),
        ("off", "127.0.0.1", False),
    ],
)
def test_open_reads_auto_means_loopback_only(setting: str, host: str, open_reads: bool) -> None:
    assert reads_are_open(setting, host) is open_reads


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/api/v1/x", b'"error":"internal error: the server log has the details"'),
        ("/x", b'<p class="error" role="alert">internal error: the server log has the details</p>'),  # a page
    ],
)
def test_a_bug_is_a_500_without_internals(caplog: pytest.LogCaptureFixture, path: str, shown: bytes) -> None:
    def broken(_request: Request) -> Response:
        raise RuntimeError("internal detail /secret/path")

    app = Starlette(routes=[Route(path, broken)], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": [],
        "query_string": b"",
        "asgi": {"version": "3.0"},
    }
    scope.update(http_version="1.1", scheme="http", server=("127.0.0.1", 1), client=("127.0.0.1", 2), root_path="")
    with pytest.raises(RuntimeError):  # Starlette re-raises after answering, so the server logs it too
        anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 500
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert b"internal detail" not in body and b"Traceback" not in body
    assert shown in body
    assert "internal detail /secret/path" in caplog.text

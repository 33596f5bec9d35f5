"""The ``java-imports`` test plugin (``tests/data/plugins/java-imports``): a Jython task using the Java classes
public plugin scripts import most, run through ``xlr run`` from an unrelated folder and through the pytest
harness against an HTTP server on loopback; and its task importing Overthere, which fails at the script's line,
as ``xlr check`` says beforehand."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xlr_runtime.cli import main
from xlr_runtime.testing.harness import TaskHarness

PLUGIN = Path(__file__).parent / "data" / "plugins" / "java-imports"
REPO = Path(__file__).resolve().parent.parent
XLR = [sys.executable, "-c", "from xlr_runtime.cli import main; main()"]
REMOTE_FAILURE = (
    f"{PLUGIN / 'javaimports' / 'Remote.py'}:2: import of 'com.xebialabs.overthere' is not supported by xlr-runtime"
)


class _Text(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Text)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_xlr_run_from_an_unrelated_folder(tmp_path: Path, server: str) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    home.mkdir()
    (home / "xlr.toml").write_text(f'[ci.local]\ntype = "javaimports.Server"\nurl = "{server}"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def xlr(*args: str) -> subprocess.CompletedProcess[str]:
        command = [*XLR, *args, "--home", str(home), "--plugins", str(PLUGIN)]
        return subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)

    fetched = xlr("run", "javaimports.Fetch", "--ci", "server=local", "-i", "path=/status")
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout == (
        "status = 200\nbody = 'hello from /status'\nday = 'Thu 1 Jan 1970'\n"
        "problem = \"ValueError: invalid literal for int() with base 10: 'hello from /status'\"\n"
    )
    assert "INFO fetched /status with status 200\nclock after the epoch: True\n" in fetched.stderr
    remote = xlr("run", "javaimports.Remote")
    assert remote.returncode == 1 and f"Task 2 failed: UnsupportedImportError: {REMOTE_FAILURE}\n" in remote.stderr


def test_the_harness_runs_it(tmp_path: Path, server: str) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[PLUGIN]) as harness:
        harness.ci("local", "javaimports.Server", url=server)
        fetched = harness.run("javaimports.Fetch", {"server": "local", "path": "/x"})
        remote = harness.run("javaimports.Remote")
    assert fetched.status == "completed", fetched.log_text
    assert (fetched.outputs["status"], fetched.outputs["body"], fetched.outputs["day"]) == (
        200,
        "hello from /x",
        "Thu 1 Jan 1970",
    )
    assert fetched.log == ["INFO fetched /x with status 200", "clock after the epoch: True"]
    assert (remote.status, remote.failure) == ("failed", f"UnsupportedImportError: {REMOTE_FAILURE}")


def test_xlr_check_reports_the_unsupported_import_beforehand(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(PLUGIN), "--home", str(tmp_path / "home")])
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        f"{PLUGIN / 'javaimports' / 'Fetch.py'}: ok (translated from Python 2)",
        f"{PLUGIN / 'javaimports' / 'Remote.py'}: compiles (Python 3), 1 unsupported import",
        REMOTE_FAILURE,
        "1 problem in 1 plugin, 2 scripts checked",
    ]

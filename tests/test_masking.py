"""Secrets never leave a script run: a canary password is searched for in everything a run produces."""

from __future__ import annotations

import base64
import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from secret_forms import leaked_forms

from tests.waiting import STREAMER_PASSES
from xlr_runtime.mask import hide, masking
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import CiValue, RunOutcome, ScriptRunResult
from xlr_runtime.scripting.execution import run_script
from xlr_runtime.scripting.masking import MASK, Masker, masker_for
from xlr_runtime.scripting.pool import WorkerPool

CANARY = "c4n4ry/Pa$$ w0rd'é"
CI_CANARY = "ci-s3cret+token"
PROPERTIES = [
    prop("username"),
    prop("password", password=True),
    prop("server", "ci"),
    prop("note", "string", "output"),
    prop("notes", "list_of_string", "output"),
    prop("extra", "map_string_string", "script"),
]
CIS = {
    "server": CiValue("S", "x.Server", {"url": "http://s", "username": "ci-user", "password": CI_CANARY}, ("password",))
}


def assert_nothing_leaks(result: ScriptRunResult) -> None:
    everything = repr(result)  # log, failure message and traceback, properties, status line, schedule
    for form in leaked_forms(CANARY, "me") + leaked_forms(CI_CANARY, "ci-user"):
        assert form not in everything, f"{form!r} leaked: {everything}"
    assert MASK in everything


def request(source: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return script_request(
        source, properties=PROPERTIES, values={"username": "me", "password": CANARY}, cis=CIS, **kwargs
    )  # type: ignore[arg-type]


LEAKY = """
import base64, json, urllib.parse
print(password)
print('url: https://me:%s@host/' % urllib.parse.quote(password, safe=''))
print(urllib.parse.quote_plus(password))
print({'password': password})
print(json.dumps({'p': password}))
print(base64.b64encode(('me:' + password).encode()).decode())
print(base64.b64encode(('ci-user:' + server['password']).encode()).decode())
print(server.getPassword(), server.password)
sys.stderr.write('err ' + password + '\\n')
task.setStatusLine('logged in with ' + password)
note = 'token=' + server['password']
notes = [password]
extra = {password: password}
"""


def test_masker_replaces_every_form() -> None:
    masker = Masker([CANARY], ["me"])

    for form in leaked_forms(CANARY, "me"):
        assert masker.mask(f"<{form}>") == f"<{MASK}>"
    assert masker.longest >= len(CANARY)
    assert masker.mask_value({"k": [CANARY, (CANARY, 1)], CANARY: None}) == {"k": [MASK, (MASK, 1)], MASK: None}


def test_a_username_learned_later_pairs_with_every_known_secret_in_utf8_and_latin1() -> None:
    masker = Masker([CANARY])
    heard: list[tuple[list[str], list[str]]] = []
    masker.listen(lambda secrets, usernames: heard.append((secrets, usernames)))

    masker.add([CANARY], ["later"])
    masker.add([CANARY], ["later"])  # nothing new: not heard again

    for encoding in ("utf-8", "latin-1"):
        assert masker.mask(base64.b64encode(f"later:{CANARY}".encode(encoding)).decode()) == MASK
    assert heard == [([], ["later"])]


def test_hide_outside_a_run_masks_nothing_and_inside_one_tells_the_listener() -> None:
    masker = Masker([])
    heard: list[list[str]] = []
    masker.listen(lambda secrets, usernames: heard.append(secrets))

    hide("too-early")
    with masking(masker):
        hide("token-1")
    hide("too-late")

    assert heard == [["token-1"]]
    assert masker.mask("too-early token-1 too-late") == f"too-early {MASK} too-late"


def test_no_secrets_means_no_masking() -> None:
    masker = Masker(["", None])  # type: ignore[list-item]

    assert not masker
    assert masker.mask("text") == "text"
    assert masker.longest == 0


def test_masker_for_a_request_collects_task_and_ci_passwords() -> None:
    masker = masker_for(request(""))

    assert masker.mask(f"{CANARY} {CI_CANARY} {base64.b64encode(b'ci-user:' + CI_CANARY.encode()).decode()}") == (
        f"{MASK} {MASK} {MASK}"
    )


def test_log_status_line_and_properties_are_masked() -> None:
    result = run_script(request(LEAKY))

    assert result.outcome is RunOutcome.SUCCEEDED
    assert_nothing_leaks(result)
    assert result.log[0].text == MASK
    assert result.status_line == f"logged in with {MASK}"
    assert result.properties["note"] == f"token={MASK}"
    assert result.properties["notes"] == [MASK]
    assert result.properties["extra"] == {MASK: MASK}


@pytest.mark.parametrize(
    "ending",
    [
        "raise Exception('cannot log in as me/' + password)",
        "sys.exit('bad password ' + password)",
        "def login(secret=password):\n    raise ValueError(repr(locals()))\nlogin()",
        "import urllib.parse\nraise ValueError(urllib.parse.quote(server['password'], safe=''))",
    ],
)
def test_failure_message_and_traceback_are_masked(ending: str) -> None:
    result = run_script(request(LEAKY + ending))

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert MASK in result.failure.message
    assert_nothing_leaks(result)


@pytest.mark.parametrize(
    "source",
    [
        "print('x' * 990 + password * 3)",
        "sys.stdout.write(password * 40 + password[:12])\nsys.stdout.write(password[12:] + '\\n')",
        "print(password * 40 + 'y' * 2000)",
    ],
)
def test_a_cut_log_does_not_expose_part_of_a_secret(source: str) -> None:
    for limit in range(100, 1000, 7):
        result = run_script(request(source), max_log_bytes=limit + 32)
        assert CANARY[:4] not in repr(result.log), limit


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"auth": self.headers.get("Authorization"), "path": self.path}).encode()
        self.send_response(401)
        self.send_header("X-Seen-Auth", self.headers.get("Authorization") or "")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _LoopbackServer(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 without HTTPServer's reverse DNS lookup of its address (``socket.getfqdn``
    in ``server_bind``), which a machine without a resolver answers with "Name or service not known"."""

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = _LoopbackServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(1, max_log_bytes=100_000) as workers:
        yield workers


def test_error_dump_of_an_echoed_authorization_is_masked_in_a_worker(pool: WorkerPool, echo_url: str) -> None:
    source = (
        f"r = HttpRequest({{'url': '{echo_url}'}}, username, password).get('/x?p=' + password)\n"
        "r.errorDump()\n"
        f"r2 = HttpRequest({{'url': '{echo_url}', 'username': server.username, 'password': server.getPassword()}})"
        ".get('/y')\n"
        "r2.errorDump()\n"
        "sys.exit(r.status)"
    )
    result = pool.run_sync(request(source))

    assert result.outcome is RunOutcome.FAILED
    assert any(line.text.startswith("Response: ") for line in result.log)
    assert_nothing_leaks(result)


def test_lines_streamed_before_a_timeout_are_masked(pool: WorkerPool) -> None:
    # the lines have left the worker before the timeout (the script waits for the streamer, well inside the 2 s)
    result = pool.run_sync(
        request(STREAMER_PASSES + LEAKY + "streamer_passes(2)\nimport time\ntime.sleep(30)", timeout=2.0)
    )

    assert result.outcome is RunOutcome.TIMED_OUT
    assert len(result.log) > 5
    assert_nothing_leaks(result)


def test_a_crashed_worker_stderr_is_masked(pool: WorkerPool) -> None:
    source = "import os\nos.write(2, ('dying with ' + password + ' ' + server.password).encode())\nos._exit(4)"
    result = pool.run_sync(request(source))

    assert result.outcome is RunOutcome.CRASHED
    assert result.failure is not None
    assert result.failure.traceback == f"worker stderr:\ndying with {MASK} {MASK}"
    assert CANARY not in repr(result)

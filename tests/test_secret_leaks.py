"""Canaries for secrets a run learns or meets on its way (OAuth2 tokens, credentials given to HttpRequest, the
lines of a multi-line secret), run in real worker processes against a real HTTP server on 127.0.0.1: none may
show in the log, at the log's cut, in a dead worker's stderr, or in another run's failure."""

from __future__ import annotations

import base64
import itertools
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from secret_forms import leaked_forms

from tests.waiting import STREAMER_PASSES
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import CiValue, RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.masking import MASK
from xlr_runtime.scripting.pool import WorkerPool

CLIENT_SECRET = "cs-1"  # short: the only secret known when a run starts
PASSWORD = "pässwörd-7"  # not Latin-1 safe as UTF-8: requests sends Basic credentials in Latin-1
KEY = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nBKcwggSjAgEAAoIBAQC7\n-----END KEY-----\n"


class TokenServer(ThreadingHTTPServer):
    """``POST /token`` issues a new long OAuth2 access token (``ZZZZ<n>-KKK…``, valid an hour); any ``GET`` answers
    with the ``Authorization`` and ``Proxy-Authorization`` headers it got (a proxied request comes here too)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tokens: list[str] = []
        self.counter = itertools.count(1)

    def server_bind(self) -> None:  # no reverse DNS lookup of 127.0.0.1 (a machine without a resolver fails it)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _Handler(BaseHTTPRequestHandler):
    server: TokenServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = f"ZZZZ{next(self.server.counter)}-" + "K" * 90
        self.server.tokens.append(token)
        self._reply(json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))

    def do_GET(self) -> None:
        seen = (self.headers.get("Authorization"), self.headers.get("Proxy-Authorization"))
        self._reply(" | ".join(value for value in seen if value))

    def _reply(self, body: str) -> None:
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[TokenServer]:
    """A new server per test: a new token URL, so no token cached by a worker for another test is reused."""
    token_server = TokenServer()
    threading.Thread(target=token_server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield token_server
    token_server.shutdown()
    token_server.server_close()


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(1, max_log_bytes=100_000) as workers:
        yield workers


def oauth2_request(server: TokenServer, source: str, **kwargs: object) -> ScriptRunRequest:
    values = {
        "url": server.url,
        "authenticationMethod": "OAuth2",
        "accessTokenUrl": server.url + "/token",
        "clientId": "release",
        "clientSecret": CLIENT_SECRET,
    }
    return script_request(
        source,
        properties=[prop("server", "ci")],
        cis={"server": CiValue("S", "x.Server", values, ("clientSecret",))},
        **kwargs,  # type: ignore[arg-type]
    )


def texts(result: ScriptRunResult) -> list[str]:
    return [line.text for line in result.log]


def assert_no_token(server: TokenServer, result: ScriptRunResult) -> None:
    everything = repr(result)
    for token in server.tokens:
        assert token[:5] not in everything and token[-20:] not in everything, everything


# 1. The log's cut margin follows the secrets learned during the run.


def test_a_cut_never_shows_part_of_a_token_longer_than_every_secret_known_at_the_start(server: TokenServer) -> None:
    source = "token = HttpRequest(server).get('/echo').response\nprint('x' * {pad} + token * 3)"
    with WorkerPool(1, max_log_bytes=300) as small_logs:
        futures = small_logs.submit_many([oauth2_request(server, source.format(pad=pad)) for pad in range(0, 280, 3)])
        results = [future.result() for future in futures]

    assert len(server.tokens) == 1  # one token, fetched by the first run, reused by the others
    for result in results:
        assert result.outcome is RunOutcome.SUCCEEDED
        assert texts(result)[-1].startswith("[output truncated: the task log keeps 300 bytes per script run")
        assert not any("Z" in text or "K" in text for text in texts(result)), texts(result)


# 2. A dead worker's stderr is masked with the secrets the worker reported while the script ran.


@pytest.mark.parametrize(
    ("death", "cause"),
    [
        ("os.write(2, ('dying with ' + auth).encode())\nos._exit(3)", "exit code 3"),
        ("os.write(2, ('dying with ' + auth).encode())\nos.kill(os.getpid(), 9)", "signal SIGKILL"),
        (
            "import subprocess\nsubprocess.run(['sh', '-c', 'echo \"dying with $AUTH\" >&2'], env={'AUTH': auth})\n"
            "os._exit(3)",
            "exit code 3",
        ),
    ],
    ids=["exit", "signal", "subprocess"],
)
def test_a_dead_workers_stderr_masks_the_token_it_fetched(
    pool: WorkerPool, server: TokenServer, death: str, cause: str
) -> None:
    source = "import os\nauth = HttpRequest(server).get('/echo').response\n" + death
    result = pool.run_sync(oauth2_request(server, source))

    assert result.outcome is RunOutcome.CRASHED
    assert result.failure is not None
    assert result.failure.message == f"the worker process {result.worker_pid} running the script died: {cause}" + (
        " (killed; possibly out of memory)" if cause == "signal SIGKILL" else ""
    )
    assert result.failure.traceback == f"worker stderr:\ndying with Bearer {MASK}"
    assert_no_token(server, result)


def test_a_crash_in_a_batch_shows_only_its_own_runs_stderr() -> None:
    def run(source: str, password: str, run_id: int) -> ScriptRunRequest:
        return script_request(
            source, run_id=run_id, properties=[prop("password", password=True)], values={"password": password}
        )

    with WorkerPool(1) as batching:
        for future in batching.submit_many([run("pass", "warm", 0) for _ in range(40)]):
            future.result()  # the pool has seen that runs are fast: the next two go in one batch
        first, second = (
            f.result()
            for f in batching.submit_many(
                [
                    run("import os\nos.write(2, ('my password is ' + password).encode())", "first-s3cret", 1),
                    run("import os\nos._exit(5)", "second-s3cret", 2),
                ]
            )
        )

    assert (first.outcome, second.outcome) == (RunOutcome.SUCCEEDED, RunOutcome.CRASHED)
    assert first.worker_pid == second.worker_pid  # one batch, one worker
    assert second.failure is not None
    assert second.failure.traceback == ""
    assert "first-s3cret" not in repr(second)


# 3. Tokens reused from the worker's cache, tokens fetched in a thread, credentials HttpRequest is given.


def test_a_cached_token_is_masked_in_every_run_that_uses_it(pool: WorkerPool, server: TokenServer) -> None:
    source = "print(HttpRequest(server).get('/echo').response)"
    first, second = pool.run_sync(oauth2_request(server, source)), pool.run_sync(oauth2_request(server, source))

    assert len(server.tokens) == 1
    assert texts(first) == texts(second) == [f"Bearer {MASK}"]
    assert first.worker_pid == second.worker_pid


def test_a_token_fetched_in_a_thread_the_script_started_is_masked(pool: WorkerPool, server: TokenServer) -> None:
    source = (
        "import threading\n"
        "seen = []\n"
        "worker = threading.Thread(target=lambda: seen.append(HttpRequest(server).get('/echo').response))\n"
        "worker.start()\n"
        "worker.join()\n"
        "print(seen[0])\n"
    )
    result = pool.run_sync(oauth2_request(server, source))

    assert texts(result) == [f"Bearer {MASK}"]
    assert_no_token(server, result)


@pytest.mark.parametrize(
    ("connection", "call"),
    [
        ("{'url': URL}", "'someone', password"),  # Basic, a username the task does not know, Latin-1 on the wire
        ("{'url': URL, 'authenticationMethod': 'PAT'}", "password='pat-literal-42'"),
        ("{'url': URL, 'proxyHost': '127.0.0.1', 'proxyPort': PORT, 'proxyUsername': 'px', 'proxyPassword': PX}", ""),
    ],
    ids=["basic", "pat", "proxy"],
)
def test_credentials_given_to_http_request_are_masked_when_a_server_echoes_them(
    pool: WorkerPool, server: TokenServer, connection: str, call: str
) -> None:
    source = (
        f"URL, PORT, PX = {server.url!r}, {server.server_port}, 'px-s3cret-9'\n"
        f"response = HttpRequest({connection}, {call}).get('/echo')\n"
        "print(response.response)\n"
        "response.errorDump()\n"
    )
    request = script_request(source, properties=[prop("password", password=True)], values={"password": PASSWORD})
    result = pool.run_sync(request)

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert texts(result)[0] in (f"Basic {MASK}", f"Bearer {MASK}")
    everything = repr(result)
    for secret, user in [(PASSWORD, "someone"), ("pat-literal-42", ""), ("px-s3cret-9", "px")]:
        for form in leaked_forms(secret, user):
            assert form not in everything, everything


def test_a_password_written_in_the_connection_url_is_masked(pool: WorkerPool, server: TokenServer) -> None:
    url = f"http://alice:url-s3cret@127.0.0.1:{server.server_port}"
    result = pool.run_sync(script_request(f"HttpRequest({{'url': {url!r}}}).get('/echo')"))

    # urllib3 refuses the URL; how it words that is its own (2.8 changed it): the failure names the script
    # line and shows the URL's password masked, and the password is nowhere in the result
    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert result.failure.message.startswith("/plugin/test/Script.py:1: "), result.failure.message
    assert MASK in result.failure.message, result.failure.message
    assert "url-s3cret" not in repr(result)


# 4. Secrets split across lines or writes.


def test_each_line_of_a_multi_line_secret_is_masked(pool: WorkerPool) -> None:
    source = "print(password)\ntask.setStatusLine(password)\nraise Exception('cannot use ' + password)"
    request = script_request(source, properties=[prop("password", password=True)], values={"password": KEY})
    result = pool.run_sync(request)

    assert texts(result) == [MASK, MASK, MASK, MASK, ""]  # the key's own last new line, then print's
    assert result.status_line == MASK  # the whole secret, in one piece
    assert result.failure is not None
    assert result.failure.message == f"/plugin/test/Script.py:3: Exception: cannot use {' '.join([MASK] * 4)}"
    everything = repr(result)
    for line in KEY.splitlines():
        assert line not in everything


def test_a_secret_written_in_two_halves_is_streamed_masked_and_a_half_line_never_leaves_the_worker(
    pool: WorkerPool,
) -> None:
    source = (
        "import os\n"
        f"{STREAMER_PASSES}"
        "sys.stdout.write(password[:5])\n"
        "streamer_passes(2)\n"  # the worker streamed lines meanwhile: only whole lines leave it
        "sys.stdout.write(password[5:] + ' done\\n')\n"
        "sys.stdout.write(password[:5])\n"
        "streamer_passes(2)\n"  # the whole line has left, the half line has not
        "os._exit(3)\n"
    )
    request = script_request(source, properties=[prop("password", password=True)], values={"password": PASSWORD})
    result = pool.run_sync(request)

    assert result.outcome is RunOutcome.CRASHED
    assert texts(result)[0] == f"{MASK} done"
    assert len(result.log) == 2  # and the pool's line saying the worker died
    assert PASSWORD[:5] not in repr(result)
    assert base64.b64encode(PASSWORD.encode()).decode() not in repr(result)


# 5. Text the runtime builds from a script's objects.


def test_an_output_whose_own_code_raises_fails_the_run_with_the_secret_masked(pool: WorkerPool) -> None:
    source = "class Sly:\n    def __str__(self):\n        raise RuntimeError('cannot show ' + password)\nnote = Sly()\n"
    properties = [prop("password", password=True), prop("note", "string", "output")]
    result = pool.run_sync(script_request(source, properties=properties, values={"password": PASSWORD}))

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert result.failure.message == f"output property 'note' (string): RuntimeError: cannot show {MASK}"
    assert PASSWORD not in repr(result)


def test_secrets_found_by_many_threads_at_once_are_all_masked(pool: WorkerPool, server: TokenServer) -> None:
    source = (
        "import sys, threading\n"
        "sys.setswitchinterval(1e-6)\n"
        "start = threading.Barrier(8)\n"
        "def use_tokens(t):\n"
        "    start.wait()\n"
        "    for i in range(30):\n"
        "        HttpRequest({'url': URL, 'authenticationMethod': 'PAT'}, password=f'pat-{t}-{i}-x').prepare(\n"
        "            'GET', '/', None, None, None)\n"
        "threads = [threading.Thread(target=use_tokens, args=(t,)) for t in range(8)]\n"
        "[thread.start() for thread in threads]\n"
        "[thread.join() for thread in threads]\n"
        "print(' '.join(f'pat-{t}-{i}-x' for t in range(8) for i in range(30)))\n"
    )
    result = pool.run_sync(script_request(f"URL = {server.url!r}\n" + source))

    assert result.outcome is RunOutcome.SUCCEEDED
    assert texts(result) == [" ".join([MASK] * 240)]


def test_a_variable_whose_own_code_raises_fails_the_run_with_the_secret_masked(pool: WorkerPool) -> None:
    source = (
        "class Sly(dict):\n"
        "    def items(self):\n"
        "        raise RuntimeError('cannot show ' + password)\n"
        "releaseVariables['x'] = Sly(a=1)\n"
    )
    properties = [prop("password", password=True)]
    result = pool.run_sync(script_request(source, properties=properties, values={"password": PASSWORD}))

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert result.failure.message == f"output: RuntimeError: cannot show {MASK}"
    assert PASSWORD not in repr(result)


@pytest.mark.parametrize(
    ("call", "shown"),
    [
        ("HttpRequest({'url': URL}).get('/x?p=' + password)", f"HttpConnectionError: GET {{url}}/x?p={MASK} failed"),
        ("import requests\nrequests.get(URL + '/x?p=' + password)", f"/x?p={MASK}"),  # the rest is urllib3's
    ],
    ids=["HttpRequest", "requests"],
)
def test_a_secret_quoted_into_a_url_is_masked_in_the_connection_error(pool: WorkerPool, call: str, shown: str) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
    password = "c4n4ry/Pa$$ w0rd'é"
    request = script_request(
        f"URL = {url!r}\n{call}", properties=[prop("password", password=True)], values={"password": password}
    )
    result = pool.run_sync(request)

    assert result.failure is not None
    line = 2 + call.count("\n")  # the call's last line: the failure names it
    assert result.failure.message.startswith(f"/plugin/test/Script.py:{line}: "), result.failure.message
    assert shown.format(url=url) in result.failure.message
    for form in leaked_forms(password, ""):
        assert form not in repr(result)

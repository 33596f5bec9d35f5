"""HttpRequest / HttpResponse against a real HTTP server (and a real forwarding proxy) on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from xlr_runtime.errors import ScriptError
from xlr_runtime.scripting.api import ConfigurationItem
from xlr_runtime.scripting.http import HttpConnectionError, HttpRequest, HttpResponse


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Recorder(ThreadingHTTPServer):
    """Answers every request by its path and records what it received.

    ``/status/N`` answers N; ``/redirect`` answers 302 to ``/target``; anything else answers 200 with a JSON body.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[Seen] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        path = self.path.split("://", 1)[-1]
        status, headers, reply = 200, {"Content-Type": "application/json", "X-Custom": "yes"}, b'{"ok": true}'
        if "/status/" in path:
            status = int(path.rsplit("/", 1)[1])
            reply = f"status {status}".encode()
        elif path.endswith("/redirect"):
            status, headers, reply = 302, {"Location": "/target"}, b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()
    thread = threading.Thread(target=recorder.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield recorder
    recorder.shutdown()
    recorder.server_close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_get_sets_content_type_and_accept_and_returns_every_attribute(server: Recorder) -> None:
    response = HttpRequest({"url": server.url}).get("/api/json", contentType="application/json")

    seen = server.seen[-1]
    assert (seen.method, seen.path, seen.body) == ("GET", "/api/json", b"")
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"
    assert "Authorization" not in seen.headers
    assert response.status == response.getStatus() == 200
    assert response.response == response.getResponse() == '{"ok": true}'
    assert response.headers is response.getHeaders()
    assert response.isSuccessful()


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_methods_with_a_body_send_it(server: Recorder, method: str) -> None:
    response = getattr(HttpRequest({"url": server.url}), method)("items", '{"name": "é"}', contentType="text/json")

    seen = server.seen[-1]
    assert (seen.method, seen.path) == (method.upper(), "/items")
    assert seen.body == '{"name": "é"}'.encode()
    assert seen.headers["Content-Type"] == "text/json"
    assert response.isSuccessful()


@pytest.mark.parametrize("method", ["get", "delete"])
def test_get_and_delete_ignore_a_body(server: Recorder, method: str) -> None:
    getattr(HttpRequest({"url": server.url}), method)("items/1", body="ignored")

    assert (server.seen[-1].method, server.seen[-1].body) == (method.upper(), b"")


def test_post_without_body_sends_an_empty_one(server: Recorder) -> None:
    HttpRequest({"url": server.url}).post("/job/x/build", "", contentType="application/json")

    assert server.seen[-1].body == b""
    assert server.seen[-1].headers["Content-Length"] == "0"


def test_do_request_takes_every_option_as_keyword(server: Recorder) -> None:
    response = HttpRequest({"url": server.url}).doRequest(
        method="put", context="/a", body="b", contentType="text/plain", headers={"X-Token": "t", "Accept": "*/*"}
    )

    seen = server.seen[-1]
    assert (seen.method, seen.path, seen.body) == ("PUT", "/a", b"b")
    assert seen.headers["X-Token"] == "t"
    assert seen.headers["Accept"] == "*/*"  # headers win over contentType
    assert seen.headers["Content-Type"] == "text/plain"
    assert response.status == 200


def test_head_is_supported_and_unknown_methods_are_a_clear_error(server: Recorder) -> None:
    assert HttpRequest({"url": server.url}).doRequest(method="HEAD", context="x").status == 200

    with pytest.raises(ScriptError) as caught:
        HttpRequest({"url": server.url}).doRequest(method="TRACE", context="x")
    assert str(caught.value) == (
        "HttpRequest: unsupported HTTP method 'TRACE' (use one of GET, POST, PUT, DELETE, PATCH, HEAD)"
    )


@pytest.mark.parametrize(
    ("base", "context", "path"),
    [
        ("/base///", "x", "/base/x"),
        ("/base", "/x", "/base/x"),
        ("", "job/my job/api/json", "/job/my%20job/api/json"),
        ("", "/a%2Fb/build?delay=0&token=a=b", "/a%2Fb/build?delay=0&token=a=b"),
        ("", "/q/x#y", "/q/x%23y"),
        ("", "/~me/a+b@c;d,e$f!g'h(i)j*k", "/~me/a%2Bb%40c%3Bd%2Ce%24f%21g%27h%28i%29j%2Ak"),
        ("", "/job/café", "/job/caf%C3%A9"),
    ],
)
def test_url_is_base_without_trailing_slash_plus_quoted_context(
    server: Recorder, base: str, context: str, path: str
) -> None:
    request = HttpRequest({"url": server.url + base})

    assert request.url(context) == server.url + path
    request.get(context)
    assert server.seen[-1].path == path


def test_no_context_requests_the_base_url(server: Recorder) -> None:
    assert HttpRequest({"url": server.url + "/only/"}).url(None) == server.url + "/only"


def test_a_connection_without_url_is_a_clear_error() -> None:
    with pytest.raises(ScriptError) as caught:
        HttpRequest({"url": None}).get("x")
    assert str(caught.value) == "HttpRequest: the connection has no url"


def test_preemptive_basic_auth_from_the_connection(server: Recorder) -> None:
    HttpRequest({"url": server.url, "username": "ci-user", "password": "ci-pw"}).get("x")

    assert server.seen[-1].headers["Authorization"] == basic("ci-user", "ci-pw")


def test_the_call_credentials_beat_the_connection_credentials(server: Recorder) -> None:
    ci = {"url": server.url, "username": "ci-user", "password": "ci-pw"}
    HttpRequest(ci, "override", "secret").get("x")

    assert server.seen[-1].headers["Authorization"] == basic("override", "secret")


def test_a_username_without_password_sends_an_empty_password(server: Recorder) -> None:
    HttpRequest({"url": server.url}, "token-user").get("x")

    assert server.seen[-1].headers["Authorization"] == basic("token-user", "")


def test_an_authorization_header_of_the_script_wins(server: Recorder) -> None:
    ci = {"url": server.url, "username": "u", "password": "p", "authenticationMethod": "None"}
    HttpRequest(ci).get("x", headers={"Authorization": "Bearer abc"})

    assert server.seen[-1].headers["Authorization"] == "Bearer abc"


@pytest.mark.parametrize("method", [None, "None", "Basic", "basic"])
def test_none_and_basic_authentication_methods_send_basic(server: Recorder, method: str | None) -> None:
    HttpRequest({"url": server.url, "username": "u", "password": "p", "authenticationMethod": method}).get("x")

    assert server.seen[-1].headers["Authorization"] == basic("u", "p")


@pytest.mark.parametrize("method", ["Kerberos", "Digest", "OAuth1"])
def test_unsupported_authentication_methods_are_a_clear_error(server: Recorder, method: str) -> None:
    request = HttpRequest({"url": server.url, "username": "u", "password": "p", "authenticationMethod": method})

    with pytest.raises(ScriptError) as caught:
        request.get("x")
    assert str(caught.value) == (
        f"HttpRequest: authentication method {method!r} is not supported by xlr-runtime "
        "(supported: None, Basic, Ntlm, PAT, OAuth2); send the credentials yourself with headers={'Authorization': ...}"
    )
    assert server.seen == []


def test_params_may_be_a_ci_object(server: Recorder) -> None:
    ci = ConfigurationItem.from_values(
        "Jenkins",
        "jenkins.Server",
        {"url": server.url + "/", "username": "u", "password": "p"},
        password_fields=("password",),
    )
    HttpRequest(ci).get("/job/a/api/json")

    assert server.seen[-1].path == "/job/a/api/json"
    assert server.seen[-1].headers["Authorization"] == basic("u", "p")


def test_proxy_settings_route_the_request_through_the_proxy(server: Recorder) -> None:
    target = "http://jenkins.example:8080"
    ci = {"url": target, "proxyHost": "127.0.0.1", "proxyPort": server.server_address[1]}
    response = HttpRequest(ci).get("/api/json")

    seen = server.seen[-1]
    assert seen.path == target + "/api/json"  # an absolute URI: the server acted as the proxy
    assert "Proxy-Authorization" not in seen.headers
    assert response.status == 200


def test_proxy_credentials_are_sent_to_the_proxy(server: Recorder) -> None:
    ci = {
        "url": "http://jenkins.example",
        "proxyHost": "127.0.0.1",
        "proxyPort": str(server.server_address[1]),
        "proxyUsername": "proxy user",
        "proxyPassword": "p@ss:word",
    }
    HttpRequest(ci).get("x")

    assert server.seen[-1].headers["Proxy-Authorization"] == basic("proxy user", "p@ss:word")


def test_without_proxy_settings_the_environment_proxy_is_ignored(
    server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")

    assert HttpRequest({"url": server.url}).get("x").status == 200


@pytest.mark.parametrize(("status", "successful"), [(200, True), (204, True), (399, True), (404, False), (500, False)])
def test_is_successful_means_200_to_399(server: Recorder, status: int, successful: bool) -> None:
    response = HttpRequest({"url": server.url}).get(f"/status/{status}")

    assert response.status == status
    assert response.isSuccessful() is successful


def test_get_follows_redirects_and_post_returns_them(server: Recorder) -> None:
    request = HttpRequest({"url": server.url})

    assert request.get("/redirect").status == 200
    assert server.seen[-1].path == "/target"
    posted = request.post("/redirect", "")
    assert posted.status == 302
    assert posted.isSuccessful()
    assert posted.getHeaders()["Location"] == "/target"


def test_headers_are_a_dict_with_case_insensitive_lookups(server: Recorder) -> None:
    headers = HttpRequest({"url": server.url}).post("/redirect", "").getHeaders()

    assert isinstance(headers, dict)
    assert "Location" in headers
    assert "location" in headers
    assert headers["LOCATION"] == headers.get("location") == "/target"
    assert headers.get("missing", "-") == "-"
    assert "Missing" not in headers


def test_error_dump_prints_status_body_and_headers(server: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    HttpRequest({"url": server.url}).get("/status/404").errorDump()

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Status: 404"
    assert lines[1] == "Response: status 404"
    assert lines[2].startswith("Response headers: {")
    assert "'Content-Length': '10'" in lines[2]


def test_response_built_by_a_script() -> None:
    response = HttpResponse(201, "made", {"Location": "/x"})

    assert (response.getStatus(), response.getResponse(), response.getHeaders()["location"]) == (201, "made", "/x")
    assert repr(response) == "<HttpResponse 201>"


def test_a_refused_connection_raises_an_ioerror_with_a_clear_message() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpConnectionError) as caught:
        HttpRequest({"url": f"http://127.0.0.1:{port}"}).get("/api/json")

    assert isinstance(caught.value, IOError)
    assert str(caught.value) == f"GET http://127.0.0.1:{port}/api/json failed: Connection refused"

"""HttpRequest's authentication methods against a real server on 127.0.0.1 that checks each scheme for real:
Basic credentials, an NTLM acceptor (pyspnego with an NTLM_USER_FILE), PAT bearer tokens, and an OAuth2 token
endpoint whose tokens the resource endpoints accept."""

from __future__ import annotations

import base64
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import pytest
import spnego
from spnego.exceptions import SpnegoError

from xlr_runtime.errors import HttpAuthenticationError
from xlr_runtime.scripting import httpauth
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import CiValue, RunOutcome
from xlr_runtime.scripting.execution import run_script
from xlr_runtime.scripting.http import HttpConnectionError, HttpRequest
from xlr_runtime.scripting.masking import MASK

NTLM_USERS = "TESTDOM:alice:Secret01\n:bob:Pw-02\n"
CLIENT_ID, CLIENT_SECRET = "release client", "s3cr3t+/="


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Settings:
    """What the server accepts; tests change it before sending."""

    pat: str = "pat-123"
    client_auth: str = "basic"  # how the token endpoint wants the client's credentials: basic or body
    expires_in: int | None = 3600
    owner: tuple[str, str] = ("carol", "owner-pw")  # the resource owner of the password grant
    tokens: list[str] = field(default_factory=list)


class AuthServer(ThreadingHTTPServer):
    """``/basic/*`` (alice:Secret01), ``/ntlm/*`` (NTLM, users of NTLM_USER_FILE), ``/pat/*`` (Bearer pat),
    ``/token`` (OAuth2 token endpoint) and ``/api/*`` (Bearer of an issued token; ``/api/echo`` returns the
    Authorization header it got). Every request is recorded in ``seen``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[Seen] = []
        self.settings = Settings()
        self.counter = itertools.count(1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def token_requests(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == "/token"]


class _Handler(BaseHTTPRequestHandler):
    server: AuthServer
    protocol_version = "HTTP/1.1"  # NTLM authenticates the connection: keep it open between the legs
    ntlm: Any = None

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length) if length else b"")
        self.server.seen.append(seen)
        route = {"basic": self._basic, "ntlm": self._ntlm, "pat": self._pat, "token": self._token, "api": self._api}
        route[self.path.split("/")[1]](seen)

    do_GET = do_POST = _answer

    def _reply(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _basic(self, seen: Seen) -> None:
        if seen.headers.get("Authorization") == "Basic " + base64.b64encode(b"alice:Secret01").decode():
            self._reply(200, "hello alice")
        else:
            self._reply(401, "who are you?", {"WWW-Authenticate": 'Basic realm="test"'})

    def _ntlm(self, seen: Seen) -> None:
        scheme, _, token = seen.headers.get("Authorization", "").partition(" ")
        if scheme != "NTLM" or not token:
            self._reply(401, "NTLM please", {"WWW-Authenticate": "NTLM"})
            return
        if self.ntlm is None or self.ntlm.complete:
            self.ntlm = spnego.server(protocol="ntlm")
        try:
            answer = self.ntlm.step(base64.b64decode(token))
        except SpnegoError:
            self.ntlm = None
            self._reply(401, "logon denied", {"WWW-Authenticate": "NTLM"})
            return
        if not self.ntlm.complete:
            self._reply(401, "challenge", {"WWW-Authenticate": "NTLM " + base64.b64encode(answer or b"").decode()})
            return
        self._reply(200, f"hello {self.ntlm.client_principal}; body={seen.body.decode()}")

    def _pat(self, seen: Seen) -> None:
        if seen.headers.get("Authorization") == f"Bearer {self.server.settings.pat}":
            self._reply(200, "token accepted")
        else:
            self._reply(401, "bad token", {"WWW-Authenticate": "Bearer"})

    def _token(self, seen: Seen) -> None:
        settings, form = self.server.settings, seen.form
        basic = seen.headers.get("Authorization", "").removeprefix("Basic ")
        if settings.client_auth == "basic" and basic:
            client = tuple(map(unquote_plus, base64.b64decode(basic).decode().split(":", 1)))
        else:
            client = (form.get("client_id"), form.get("client_secret"))
        if client != (CLIENT_ID, CLIENT_SECRET) or (basic and settings.client_auth == "body"):
            error = {"error": "invalid_client", "error_description": "bad client credentials"}
            self._reply(401, json.dumps(error), {"Content-Type": "application/json"})
            return
        if form["grant_type"] == "password" and (form.get("username"), form.get("password")) != settings.owner:
            self._reply(400, json.dumps({"error": "invalid_grant"}), {"Content-Type": "application/json"})
            return
        token = f"access-{next(self.server.counter)}-{form['grant_type']}"
        settings.tokens.append(token)
        reply: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if settings.expires_in is not None:
            reply["expires_in"] = settings.expires_in
        self._reply(200, json.dumps(reply), {"Content-Type": "application/json"})

    def _api(self, seen: Seen) -> None:
        authorization = seen.headers.get("Authorization", "")
        if authorization.removeprefix("Bearer ") not in self.server.settings.tokens:
            self._reply(401, "no valid token", {"WWW-Authenticate": "Bearer"})
        elif seen.path == "/api/echo":
            self._reply(200, f"you sent Authorization: {authorization}")
        else:
            self._reply(200, "resource")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuthServer]:
    users = tmp_path / "ntlm-users"
    users.write_text(NTLM_USERS)
    monkeypatch.setenv("NTLM_USER_FILE", str(users))  # read by the acceptor: spnego.server
    monkeypatch.setattr(httpauth, "_TOKENS", {})  # no token cached by another test
    auth_server = AuthServer()
    threading.Thread(target=auth_server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield auth_server
    auth_server.shutdown()
    auth_server.server_close()


def oauth2(server: AuthServer, **values: Any) -> dict[str, Any]:
    return {
        "url": server.url,
        "authenticationMethod": "OAuth2",
        "accessTokenUrl": server.url + "/token",
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        **values,
    }


# Basic


def test_basic_with_the_right_password_is_accepted_and_a_wrong_one_is_a_401_the_script_sees(
    server: AuthServer,
) -> None:
    ci = {"url": server.url, "authenticationMethod": "Basic", "username": "alice", "password": "Secret01"}
    assert HttpRequest(ci).get("/basic/x").getResponse() == "hello alice"

    denied = HttpRequest({**ci, "password": "wrong"}).get("/basic/x")
    assert (denied.status, denied.isSuccessful(), denied.response) == (401, False, "who are you?")


# NTLM


def test_ntlm_authenticates_the_connections_domain_user_through_the_handshake(server: AuthServer) -> None:
    ci = {
        "url": server.url,
        "authenticationMethod": "Ntlm",
        "username": "alice",
        "password": "Secret01",
        "domain": "TESTDOM",
    }
    response = HttpRequest(ci).post("/ntlm/job", "payload é", contentType="text/plain")

    assert (response.status, response.response) == (200, "hello TESTDOM\\alice; body=payload é")
    legs = [seen.headers.get("Authorization", "").split(" ")[0] for seen in server.seen]
    assert legs == ["", "NTLM", "NTLM"]  # the plain request, the negotiate message, the authenticate message
    assert "Secret01" not in repr(server.seen)


@pytest.mark.parametrize("method", ["Ntlm", "ntlm", "NTLM"])
def test_ntlm_call_credentials_and_their_domain_replace_the_connections(server: AuthServer, method: str) -> None:
    ci = {"url": server.url, "authenticationMethod": method, "username": "x", "password": "y", "domain": "OTHER"}

    assert HttpRequest(ci, "bob", "Pw-02").get("/ntlm/a").response == "hello bob; body="
    assert HttpRequest(ci, "alice", "Secret01", "TESTDOM").get("/ntlm/a").response == "hello TESTDOM\\alice; body="


def test_ntlm_with_a_wrong_password_is_a_401_the_script_sees(server: AuthServer) -> None:
    ci = {"url": server.url, "authenticationMethod": "Ntlm", "username": "bob", "password": "not-it"}
    response = HttpRequest(ci).get("/ntlm/a")

    assert (response.status, response.isSuccessful(), response.response) == (401, False, "logon denied")


def test_ntlm_without_a_username_is_a_clear_error_before_anything_is_sent(server: AuthServer) -> None:
    with pytest.raises(HttpAuthenticationError) as caught:
        HttpRequest({"url": server.url, "authenticationMethod": "Ntlm", "password": "p"}).get("/ntlm/a")

    assert (
        str(caught.value)
        == "HttpRequest: authentication method 'Ntlm' needs a username (the connection's or the call's)"
    )
    assert server.seen == []


# PAT


@pytest.mark.parametrize(
    ("values", "call", "token"),
    [
        ({"password": "from-password"}, (), "from-password"),
        ({"password": "from-password", "accessToken": "from-access-token"}, (), "from-access-token"),
        ({"password": "from-password", "accessToken": "from-access-token"}, (None, "from-call"), "from-call"),
        ({"username": "ignored", "password": "from-password"}, ("someone", None), "from-password"),
    ],
    ids=["password", "accessToken-beats-password", "call-password-beats-both", "call-username-alone"],
)
def test_pat_sends_the_token_as_a_bearer(
    server: AuthServer, values: dict[str, str], call: tuple[str | None, ...], token: str
) -> None:
    server.settings.pat = token
    response = HttpRequest({"url": server.url, "authenticationMethod": "PAT", **values}, *call).get("/pat/repos")

    assert server.seen[-1].headers["Authorization"] == f"Bearer {token}"
    assert (response.status, response.response) == (200, "token accepted")


def test_pat_with_a_wrong_token_is_a_401_the_script_sees(server: AuthServer) -> None:
    response = HttpRequest({"url": server.url, "authenticationMethod": "pat", "password": "stale"}).get("/pat/x")

    assert (response.status, response.isSuccessful()) == (401, False)


def test_pat_without_a_token_is_a_clear_error(server: AuthServer) -> None:
    with pytest.raises(HttpAuthenticationError) as caught:
        HttpRequest({"url": server.url, "authenticationMethod": "PAT", "username": "u"}).get("/pat/x")

    assert str(caught.value) == (
        "HttpRequest: authentication method 'PAT' needs a token: the call's password, "
        "or the connection's accessToken or password"
    )
    assert server.seen == []


# OAuth2


def test_oauth2_client_credentials_with_basic_client_authentication(server: AuthServer) -> None:
    response = HttpRequest(oauth2(server, scope="read write")).get("/api/items")

    assert (response.status, response.response) == (200, "resource")
    token_request, resource_request = server.seen
    assert (token_request.method, token_request.form) == (
        "POST",
        {"grant_type": "client_credentials", "scope": "read write"},
    )
    id_and_secret = base64.b64encode(b"release+client:s3cr3t%2B%2F%3D").decode()  # RFC 6749 2.3.1: form-encoded
    assert token_request.headers["Authorization"] == f"Basic {id_and_secret}"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert resource_request.headers["Authorization"] == "Bearer access-1-client_credentials"


def test_oauth2_sends_the_client_credentials_in_the_body_when_the_endpoint_rejects_basic(server: AuthServer) -> None:
    server.settings.client_auth = "body"
    response = HttpRequest(oauth2(server)).get("/api/items")

    assert response.status == 200
    first, second = server.token_requests()
    assert "Authorization" in first.headers
    assert "Authorization" not in second.headers
    assert second.form == {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


def test_a_token_with_a_lifetime_is_reused_by_every_request_of_the_worker(server: AuthServer) -> None:
    first = HttpRequest(oauth2(server))
    assert [first.get("/api/a").status, first.get("/api/b").status] == [200, 200]
    assert HttpRequest(oauth2(server)).get("/api/c").status == 200

    assert len(server.token_requests()) == 1
    assert HttpRequest(oauth2(server, scope="other")).get("/api/d").status == 200  # other settings, other token
    assert len(server.token_requests()) == 2


def test_a_refused_token_is_forgotten_and_the_next_request_fetches_a_new_one(server: AuthServer) -> None:
    request = HttpRequest(oauth2(server))
    assert request.get("/api/a").status == 200
    server.settings.tokens.clear()  # the identity provider revoked it

    refused = request.get("/api/b")
    assert (refused.status, refused.response) == (401, "no valid token")
    assert HttpRequest(oauth2(server)).get("/api/c").status == 200
    assert request.get("/api/d").status == 200
    assert server.seen[-1].headers["Authorization"] == "Bearer access-2-client_credentials"
    assert len(server.token_requests()) == 2


def test_a_token_about_to_expire_is_not_reused(server: AuthServer) -> None:
    server.settings.expires_in = 30  # within the 30 s margin: stale as soon as it arrives
    request = HttpRequest(oauth2(server))

    assert [request.get("/api/a").status, request.get("/api/b").status] == [200, 200]
    assert len(server.token_requests()) == 2


def test_a_token_without_a_lifetime_is_kept_by_its_http_request_only(server: AuthServer) -> None:
    server.settings.expires_in = None
    request = HttpRequest(oauth2(server))
    request.get("/api/a")
    request.get("/api/b")
    HttpRequest(oauth2(server)).get("/api/c")

    assert len(server.token_requests()) == 2


def test_oauth2_password_grant_sends_the_owner_credentials_and_the_call_ones_win(server: AuthServer) -> None:
    ci = oauth2(server, oauth2GrantType="password", username="carol", password="owner-pw")
    assert HttpRequest(ci).get("/api/a").status == 200
    assert server.token_requests()[-1].form == {"grant_type": "password", "username": "carol", "password": "owner-pw"}

    server.settings.owner = ("dave", "dave-pw")
    assert HttpRequest(ci, "dave", "dave-pw").get("/api/a").status == 200
    assert server.seen[-1].headers["Authorization"] == "Bearer access-2-password"


def test_a_rejected_client_is_one_clear_error_line_without_the_secret(server: AuthServer) -> None:
    with pytest.raises(HttpAuthenticationError) as caught:
        HttpRequest(oauth2(server, clientSecret="wrong-secret")).get("/api/a")

    message = str(caught.value)
    assert message == (
        f"HttpRequest: authentication method 'OAuth2' got no access token from {server.url}/token: "
        "HTTP 401 invalid_client (bad client credentials)"
    )
    assert "wrong-secret" not in message
    assert [seen.path for seen in server.seen] == ["/token", "/token"]  # Basic, then in the body: never the resource


def test_a_rejected_grant_is_a_clear_error(server: AuthServer) -> None:
    ci = oauth2(server, oauth2GrantType="password", username="carol", password="not-it")
    with pytest.raises(HttpAuthenticationError) as caught:
        HttpRequest(ci).get("/api/a")

    assert str(caught.value) == (
        f"HttpRequest: authentication method 'OAuth2' got no access token from {server.url}/token: "
        "HTTP 400 invalid_grant"
    )


@pytest.mark.parametrize(
    ("values", "detail"),
    [
        ({"accessTokenUrl": None}, "needs accessTokenUrl and clientId on the connection"),
        ({"clientId": ""}, "needs accessTokenUrl and clientId on the connection"),
        (
            {"oauth2GrantType": "authorization_code"},
            "does not support oauth2GrantType 'authorization_code' (supported: client_credentials, password)",
        ),
        ({"oauth2GrantType": "password"}, "with grant password needs a username (the connection's or the call's)"),
    ],
)
def test_an_incomplete_oauth2_connection_is_a_clear_error(
    server: AuthServer, values: dict[str, Any], detail: str
) -> None:
    with pytest.raises(HttpAuthenticationError) as caught:
        HttpRequest(oauth2(server, **values)).get("/api/a")

    assert str(caught.value) == f"HttpRequest: authentication method 'OAuth2' {detail}"
    assert server.seen == []


def test_the_scripts_own_authorization_header_wins_and_no_token_is_fetched(server: AuthServer) -> None:
    server.settings.tokens.append("mine")
    response = HttpRequest(oauth2(server)).get("/api/a", headers={"Authorization": "Bearer mine"})

    assert response.status == 200
    assert server.token_requests() == []


def test_an_unreachable_token_endpoint_is_an_ioerror(server: AuthServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpConnectionError) as caught:
        HttpRequest(oauth2(server, accessTokenUrl=f"http://127.0.0.1:{port}/token")).get("/api/a")

    assert str(caught.value) == f"POST http://127.0.0.1:{port}/token failed: Connection refused"


def test_the_access_token_and_the_client_secret_are_masked_in_the_run(server: AuthServer) -> None:
    values = oauth2(server)
    source = (
        "response = HttpRequest(server).get('/api/echo')\n"
        "print(response.response)\n"
        "response.errorDump()\n"
        "note = response.response\n"
        "raise Exception('failed with ' + response.response + ' and ' + server['clientSecret'])\n"
    )
    request = script_request(
        source,
        properties=[prop("server", "ci"), prop("note", "string", "output")],
        cis={"server": CiValue("S", "x.Server", values, ("clientSecret",))},
    )
    result = run_script(request)

    token = server.settings.tokens[0]
    assert result.outcome is RunOutcome.FAILED
    assert result.log[0].text == f"you sent Authorization: Bearer {MASK}"
    assert result.failure is not None
    assert result.failure.message == (
        f"/plugin/test/Script.py:5: Exception: failed with you sent Authorization: Bearer {MASK} and {MASK}"
    )
    everything = repr(result)
    assert token not in everything
    assert CLIENT_SECRET not in everything

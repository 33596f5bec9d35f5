"""The Java classes public plugin scripts import most, served with their Java meaning: Jython's
``import java.lang.System as System`` form, ``java.io.PrintWriter``/``StringWriter``, ``java.text.SimpleDateFormat``,
``java.util.TimeZone``, ``java.sql.Date``/``Timestamp``, ``org.slf4j.Logger``, XL Release's ``HttpConnection`` and
the Apache HttpClient subset plugins use for plain HTTP (against a real server on loopback); and what is not
served fails with the script's line, at run time and in ``xlr check``."""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from xlr_runtime.compat import imports, modules
from xlr_runtime.compat.script_globals import script_globals
from xlr_runtime.compat.translate import clear_memory_cache, to_python3
from xlr_runtime.errors import UnsupportedImportError
from xlr_runtime.scripting.build import script_request
from xlr_runtime.scripting.contract import RunOutcome
from xlr_runtime.scripting.execution import run_script
from xlr_runtime.typesystem.script_check import inspect_script


@pytest.fixture(autouse=True)
def shims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    clear_memory_cache()
    imports.install()
    yield
    modules.FINDER.use(())  # no plugin root of a test stays on this process's import path
    for name in [n for n in sys.modules if n.split(".")[0] in {"java", "com", "org", "xlrelease"}]:
        del sys.modules[name]
    monkeypatch.undo()
    time.tzset()


def run(source: str, path: str = "/plugins/p/script.py", **names: Any) -> tuple[dict[str, Any], str]:
    """Translate and run ``source`` as a worker would; its namespace and stdout."""
    namespace = {**script_globals(), "__name__": "__builtin__", **names}
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        exec(compile(to_python3(source, path), path, "exec"), namespace)
    return namespace, out.getvalue()


# -- import forms ---------------------------------------------------------------------------------------------------


def test_jythons_import_of_a_class_as_a_module_imports_the_class() -> None:
    ns, _ = run(
        "import java.lang.System as System\nimport java.lang.String as String\n"
        "import java.text.SimpleDateFormat as Sdf\nimport java.sql.Date as Date\n"
        "import org.slf4j.LoggerFactory as LoggerFactory\nimport java.util\n"
        "from org.slf4j import Logger, LoggerFactory as LF\n"
        "now = System.currentTimeMillis()\nday = Sdf('yyyy-MM-dd').format(Date(0))\n"
        "text = String('abc').toUpperCase()\nsame = LoggerFactory.getLogger is LF.getLogger\n"
        "root = Logger.ROOT_LOGGER_NAME\nlist_class = java.util.ArrayList\n"
    )
    from xlr_runtime.compat.shims.java_util import ArrayList

    assert ns["now"] > 1_600_000_000_000 and ns["day"] == "1970-01-01" and ns["text"] == "ABC"
    assert (ns["same"], ns["root"], ns["list_class"]) == (True, "ROOT", ArrayList)


def test_system_answers_as_in_java(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLR_SHIM_TEST", "here")
    ns, _ = run(
        "import java.lang.System as System\n"
        "values = [System.getenv('XLR_SHIM_TEST'), System.getenv('XLR_NOT_SET'), System.getProperty('line.separator'),"
        " System.getProperty('no.such', 'fallback'), System.lineSeparator(), System.nanoTime() > 0]\n"
    )
    assert ns["values"] == ["here", None, "\n", "fallback", "\n", True]


# -- java.io ------------------------------------------------------------------------------------------------------


def test_print_writer_over_a_string_writer_collects_text() -> None:
    ns, out = run(
        "from java.io import PrintWriter, StringWriter\nfrom java.lang import System\n"
        "sw = StringWriter()\npw = PrintWriter(sw, True)\npw.println('first')\npw.print(None)\npw.print(True)\n"
        "pw.printf('%s=%d%n', 'n', 3)\npw.write('abcdef', 1, 2)\npw.append('!').flush()\npw.close()\n"
        "text = sw.toString()\nbuffer = sw.getBuffer().toString()\n"
        "PrintWriter(System.out).println('to the task log')\n"
    )
    assert ns["text"] == ns["buffer"] == "first\nnulltruen=3\nbc!"
    assert out == "to the task log\n"


def test_print_stack_trace_into_a_string_writer_the_jython_idiom() -> None:
    # compiles as Python 3, yet is Jython's: printStackTrace marks it for translation
    source = (
        "from java.io import PrintWriter, StringWriter\nfrom java.lang import Exception\n"
        "def fail():\n    raise ValueError('bad value')\n"
        "try:\n    fail()\nexcept Exception as e:\n"
        "    stacktrace = StringWriter()\n    writer = PrintWriter(stacktrace, True)\n"
        "    e.printStackTrace(writer)\n    print(stacktrace.toString())\n    e.printStackTrace()\n"
    )
    result = run_script(script_request(source, script_file="/plugins/p/Trace.py"))
    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    trace = [
        "Traceback (most recent call last):",
        '  File "/plugins/p/Trace.py", line 6, in <module>',
        "    fail()",
        '  File "/plugins/p/Trace.py", line 4, in fail',
        "    raise ValueError('bad value')",
        "ValueError: bad value",
    ]
    assert [line.text for line in result.log if line.stream == "stdout"] == [*trace, ""]
    assert [line.text for line in result.log if line.stream == "stderr"] == trace


def test_print_writer_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    run("from java.io import PrintWriter\nw = PrintWriter(target)\nw.println('line')\nw.close()\n", target=str(target))
    assert target.read_text() == "line\n"


# -- java.text, java.util.TimeZone, java.sql ----------------------------------------------------------------------

MILLIS = 1_700_000_000_123  # 2023-11-14 22:13:20.123 UTC, a Tuesday


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2023-11-14T22:13:20.123+0000"),
        ("yyyy-MM-dd'T'HH:mm:ssXXX", "2023-11-14T22:13:20Z"),
        ("yyyyMMdd", "20231114"),
        ("dd/MM/yy h:mm a", "14/11/23 10:13 PM"),
        ("EEE, d MMM yyyy HH:mm:ss z", "Tue, 14 Nov 2023 22:13:20 UTC"),
        ("EEEE MMMM d, yyyy", "Tuesday November 14, 2023"),
        ("D w W F u k K S SSSS", "318 46 3 2 2 22 10 123 0123"),
        ("'at' HH 'o''clock' G", "at 22 o'clock AD"),
        ("M/d/yy h:mm a", "11/14/23 10:13 PM"),  # new SimpleDateFormat()'s pattern
    ],
)
def test_simple_date_format_formats_with_javas_pattern_letters(pattern: str, text: str) -> None:
    ns, _ = run(
        "from java.text import SimpleDateFormat\nfrom java.util import Date, TimeZone\n"
        "f = SimpleDateFormat(pattern)\nf.setTimeZone(TimeZone.getTimeZone('UTC'))\nout = f.format(Date(millis))\n",
        pattern=pattern,
        millis=MILLIS,
    )
    assert ns["out"] == text


def test_simple_date_format_parses_back_leniently_and_in_its_time_zone() -> None:
    ns, _ = run(
        "from java.text import SimpleDateFormat, ParseException\nfrom java.util import TimeZone\n"
        "iso = SimpleDateFormat(\"yyyy-MM-dd'T'HH:mm:ss.SSSZ\").parse('2023-11-14T23:13:20.123+0100').getTime()\n"
        "paris = SimpleDateFormat('yyyy-MM-dd HH:mm')\nparis.setTimeZone(TimeZone.getTimeZone('Europe/Paris'))\n"
        "local = paris.parse('2023-11-14 23:13').getTime()\nshown = paris.format(local)\n"
        "rolled = SimpleDateFormat('yyyy-MM-dd').parse('2024-01-32 and more').getTime()\n"
        "named = SimpleDateFormat('d MMMM yy').parse('14 november 23').getTime()\n"
        "strict = SimpleDateFormat('yyyy-MM-dd')\nstrict.setLenient(False)\n"
        "try:\n    strict.parse('2024-02-30')\nexcept ParseException, e:\n    refused = e.getMessage()\n"
        "try:\n    SimpleDateFormat('yyyy-MM-dd').parse('soon')\nexcept ValueError, e:\n    unparseable = str(e)\n"
        "try:\n    SimpleDateFormat('yyyy-qq')\nexcept ValueError, e:\n    illegal = str(e)\n"
    )
    assert ns["iso"] == MILLIS
    assert (ns["local"], ns["shown"]) == (1_699_999_980_000, "2023-11-14 23:13")
    assert ns["rolled"] == 1_706_745_600_000  # 1 February 2024, as Java's lenient calendar rolls 32 January over
    assert ns["named"] == 1_699_920_000_000
    assert ns["refused"] == 'Unparseable date: "2024-02-30"'
    assert ns["unparseable"] == 'Unparseable date: "soon"'
    assert ns["illegal"] == "Illegal pattern character 'q'"


def test_time_zones_and_sql_dates() -> None:
    ns, _ = run(
        "from java.util import TimeZone\nimport java.sql.Date as SqlDate\nfrom java.sql import Timestamp\n"
        "zones = [TimeZone.getTimeZone(z).getID() for z in ('UTC', 'GMT+5:30', 'Europe/Paris', 'Nowhere/Else')]\n"
        "offset = TimeZone.getTimeZone('GMT-08:00').getRawOffset()\n"
        "texts = [str(SqlDate(millis)), Timestamp(millis).toString(), str(Timestamp(millis - 123))]\n"
        "back = [SqlDate.valueOf('2023-11-14').getTime(), Timestamp.valueOf('2023-11-14 22:13:20.5').getTime()]\n",
        millis=MILLIS,
    )
    assert ns["zones"] == ["UTC", "GMT+05:30", "Europe/Paris", "GMT"]
    assert ns["offset"] == -8 * 3600 * 1000
    assert ns["texts"] == ["2023-11-14", "2023-11-14 22:13:20.123", "2023-11-14 22:13:20.0"]
    assert ns["back"] == [1_699_920_000_000, 1_700_000_000_500]


# -- XL Release's HttpConnection and the Apache HttpClient subset -------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        _Recorder.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        if self.path.startswith("/secure") and not self.headers.get("Authorization"):
            self._reply(401, b"who are you", [("WWW-Authenticate", 'Basic realm="x"')])
        elif self.path.startswith("/moved"):
            self._reply(302, b"", [("Location", "/json")])
        elif self.path.startswith("/json"):
            self._reply(200, json.dumps({"name": "caf\u00e9"}).encode(), [("Content-Type", "application/json")])
        elif self.path.startswith("/latin"):
            self._reply(200, "caf\u00e9".encode("latin-1"), [("Content-Type", "text/plain")])
        else:
            auth = self.headers.get("Authorization", "")
            text = f"{self.command} {self.path} {auth}".encode()
            self._reply(200, text, [("Content-Type", "text/plain; charset=UTF-8"), ("X-Twice", "1"), ("X-Twice", "2")])

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_httpclient_get_post_headers_and_entities(server: str) -> None:
    ns, _ = run(
        "from org.apache.http.impl.client import HttpClients\n"
        "from org.apache.http.client.methods import HttpGet, HttpPost, HttpHead\n"
        "from org.apache.http.entity import StringEntity, ContentType\n"
        "from org.apache.http.util import EntityUtils\nfrom org.apache.http import HttpStatus\n"
        "client = HttpClients.createDefault()\n"
        "get = HttpGet(url + '/plain?q=1')\nget.addHeader('Accept', 'text/plain')\n"
        "response = client.execute(get)\n"
        "status = response.getStatusLine().getStatusCode() == HttpStatus.SC_OK\n"
        "text = EntityUtils.toString(response.getEntity())\n"
        "twice = [h.getValue() for h in response.getHeaders('X-Twice')]\n"
        "kind = response.getFirstHeader('content-type').getValue()\nresponse.close()\n"
        "post = HttpPost(url + '/post')\n"
        'post.setEntity(StringEntity(\'{"a": "\\u00e9"}\', ContentType.APPLICATION_JSON))\n'
        "posted = EntityUtils.toString(client.execute(post).getEntity(), 'UTF-8')\n"
        "plain = HttpPost(url + '/plain')\nplain.addHeader('Content-Type', 'application/xml')\n"
        "plain.setEntity(StringEntity(u'caf\\u00e9 \\u20ac'))\nclient.execute(plain)\n"
        "head = client.execute(HttpHead(url + '/plain')).getEntity()\n"
        "json_text = EntityUtils.toString(client.execute(HttpGet(url + '/json')).getEntity())\n"
        "latin = EntityUtils.toString(client.execute(HttpGet(url + '/latin')).getEntity())\n"
        "client.close()\n",
        url=server,
    )
    assert (ns["status"], ns["text"], ns["twice"], ns["kind"]) == (
        True,
        "GET /plain?q=1 ",
        ["1", "2"],
        "text/plain; charset=UTF-8",
    )
    assert ns["posted"] == "POST /post "
    json_post, plain_post = _Recorder.seen[1], _Recorder.seen[2]
    assert json_post["headers"]["Content-Type"] == "application/json; charset=UTF-8"
    assert json_post["body"] == '{"a": "\u00e9"}'.encode()
    # the script's Content-Type wins over the entity's; StringEntity(text) is ISO-8859-1: the euro sign becomes ?
    assert (plain_post["headers"]["Content-Type"], plain_post["body"]) == ("application/xml", b"caf\xe9 ?")
    assert ns["head"] is None
    assert (json.loads(ns["json_text"]), ns["latin"]) == ({"name": "caf\u00e9"}, "caf\u00e9")


def test_httpclient_answers_a_basic_challenge_with_provider_credentials_and_masks_them(server: str) -> None:
    source = (
        "from org.apache.http.impl.client import HttpClientBuilder, BasicCredentialsProvider\n"
        "from org.apache.http.auth import AuthScope, UsernamePasswordCredentials\n"
        "from org.apache.http.client.methods import HttpGet, HttpPost\n"
        "from org.apache.http.util import EntityUtils\n"
        "provider = BasicCredentialsProvider()\n"
        "provider.setCredentials(AuthScope.ANY, UsernamePasswordCredentials('bot', 'pa55-word'))\n"
        "client = HttpClientBuilder.create().setDefaultCredentialsProvider(provider).build()\n"
        "answer = EntityUtils.toString(client.execute(HttpGet(url + '/secure')).getEntity())\n"
        "print(answer)\n"
        "moved = client.execute(HttpPost(url + '/moved')).getStatusLine().getStatusCode()\n"
        "followed = EntityUtils.toString(client.execute(HttpGet(url + '/moved')).getEntity())\n"
        "print(moved, followed)\n"
    )
    result = run_script(script_request(source, values={"url": server}))
    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    token = base64.b64encode(b"bot:pa55-word").decode()
    first, second = _Recorder.seen[0], _Recorder.seen[1]
    assert "Authorization" not in first["headers"]  # not preemptive: sent when the server asks
    assert second["headers"]["Authorization"] == f"Basic {token}"
    log = [line.text for line in result.log]
    assert log == ["GET /secure Basic ********", '302 {"name": "caf\\u00e9"}']  # POST keeps its 3xx; GET follows


def test_httpclient_timeouts_proxy_and_connection_failures(server: str) -> None:
    ns, _ = run(
        "from org.apache.http.client.config import RequestConfig\nfrom org.apache.http import HttpHost\n"
        "from org.apache.http.impl.client import HttpClients\nfrom org.apache.http.client.methods import HttpGet\n"
        "config = RequestConfig.custom().setConnectTimeout(1500).setSocketTimeout(2000).build()\n"
        "timeouts = config.getConnectTimeout(), config.getSocketTimeout()\n"
        "proxied = RequestConfig.copy(config).setProxy(HttpHost('127.0.0.1', port)).build()\n"
        "get = HttpGet('http://example.invalid/via-proxy')\nget.setConfig(proxied)\n"
        "via = HttpClients.createDefault().execute(get).getStatusLine().getStatusCode()\n"
        "try:\n    HttpClients.createDefault().execute(HttpGet('http://127.0.0.1:9/x'))\n"
        "except IOError, e:\n    failure = str(e)\n",
        port=int(server.rsplit(":", 1)[1]),
    )
    assert ns["timeouts"] == (1500, 2000)
    assert ns["via"] == 200 and _Recorder.seen[0]["path"] == "http://example.invalid/via-proxy"  # asked the proxy
    assert ns["failure"] == "GET http://127.0.0.1:9/x failed: Connection refused"


def test_a_plugins_copy_of_xl_releases_http_request_runs_on_the_shims(server: str, tmp_path: Path) -> None:
    # the shape of XL Release's own HttpRequest.py that plugins ship as httputil/HttpRequest.py (written here)
    module = (
        "import urllib\nfrom java.lang import String\n"
        "from org.apache.commons.codec.binary import Base64\n"
        "from org.apache.http.client.methods import HttpGet, HttpPost\n"
        "from org.apache.http.entity import StringEntity\nfrom org.apache.http.util import EntityUtils\n"
        "from org.apache.http.impl.client import HttpClients\n"
        "from com.xebialabs.xlrelease.domain.configuration import HttpConnection\n"
        "from xlrelease.HttpResponse import HttpResponse\n\n"
        "class PluginRequest:\n"
        "    def __init__(self, params):\n        self.params = HttpConnection(params)\n\n"
        "    def post(self, context, body, contentType):\n"
        "        request = HttpPost(urllib.quote(self.params.getUrl() + context, ':/?&=%'))\n"
        "        request.setEntity(StringEntity(body))\n"
        "        request.addHeader('Content-Type', contentType)\n"
        "        token = Base64.encodeBase64String(String(self.params.getUsername() + ':' + self.params.password)"
        ".getBytes('ISO-8859-1'))\n"
        "        request.addHeader('Authorization', 'Basic ' + token)\n"
        "        client = HttpClients.createDefault()\n"
        "        try:\n            response = client.execute(request)\n"
        "            text = EntityUtils.toString(response.getEntity(), 'UTF-8')\n"
        "            return HttpResponse(response.getStatusLine().getStatusCode(), text, response.getAllHeaders())\n"
        "        finally:\n            client.close()\n"
    )
    (tmp_path / "httputil").mkdir()
    (tmp_path / "httputil" / "__init__.py").write_text("")
    (tmp_path / "httputil" / "PluginRequest.py").write_text(module)
    source = (
        "from httputil.PluginRequest import PluginRequest\n"
        "response = PluginRequest(server).post('/a b', 'x=1', 'text/plain')\n"
        "print response.getStatus(), response.getResponse(), response.getHeaders()['x-twice']\n"
    )
    from xlr_runtime.scripting.contract import CiValue

    server_ci = CiValue("srv", "demo.Server", {"url": server, "username": "u", "password": "s3cret-pw"}, ("password",))
    request = script_request(source, cis={"server": server_ci}, module_path=((str(tmp_path), "auto"),))
    result = run_script(request)
    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert [line.text for line in result.log] == ["200 POST /a%20b Basic ******** 2"]
    assert _Recorder.seen[0]["headers"]["Content-Type"] == "text/plain"


# -- what is not served -----------------------------------------------------------------------------------------


def test_unserved_classes_fail_at_the_scripts_line_and_are_reported_by_check() -> None:
    source = (
        'print "x"\nimport java.lang.System as System\nfrom java.text import SimpleDateFormat, NumberFormat\n'
        "from org.apache.http.impl.client import HttpClients\n"
        "from org.apache.http.conn.ssl import NoopHostnameVerifier\n"
        "from org.slf4j import Logger\nimport java.sql.DriverManager as DriverManager\n"
        "from com.xebialabs.overthere.local import LocalConnection\n"
    )
    assert inspect_script(source, "/p/Run.py").unsupported_imports == [
        (3, "java.text.NumberFormat"),
        (5, "org.apache.http.conn.ssl"),
        (7, "java.sql.DriverManager"),
        (8, "com.xebialabs.overthere.local"),
    ]
    with pytest.raises(UnsupportedImportError) as caught:
        run(source, "/p/Run.py")
    assert str(caught.value) == "/p/Run.py:3: import of 'java.text.NumberFormat' is not supported by xlr-runtime"


def test_xl_releases_api_objects_fail_with_a_name_error_saying_so() -> None:
    result = run_script(script_request("print 'x'\nfolder = folderApi.getFolder('Folder1')\n"))
    assert result.failure is not None
    assert result.failure.message == (
        "/plugin/test/Script.py:2: NameError: name 'folderApi' is not defined (this XL Release API object is not "
        "available in xlr-runtime; releaseApi and taskApi are, in part)"
    )

"""Our corpus of Python 2 (Jython) scripts, one per group of constructs, each with a Python 3 twin: translated
and run with the shims, the Python 2 script prints the same and leaves the same ``result`` as its twin.

They run in this process (as ``to_python3`` + ``exec`` with the shims installed, the way a worker does) and
through the real worker pool. The ``jenkins-py2`` test plugin (the documentation's Jenkins scripts in their
Python 2 form) runs against the Jenkins test server to completion.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from script_chain import run_script_chain

from xlr_runtime.clock import VirtualClock
from xlr_runtime.compat import imports
from xlr_runtime.compat.script_globals import script_globals
from xlr_runtime.compat.translate import to_python3
from xlr_runtime.home import Home
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.runtime import Runtime
from xlr_runtime.scripting.api import ConfigurationItem
from xlr_runtime.scripting.contract import CiValue, RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.http import HttpRequest
from xlr_runtime.scripting.jsonpath import JsonPathResult
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.store import TaskStatus
from xlr_runtime.testing.jenkins import JenkinsServer, Trigger
from xlr_runtime.typesystem.model import SourceRef, TaskType
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

PY2 = Path(__file__).parent / "data" / "py2"
JENKINS_PY2 = Path(__file__).parent / "data" / "plugins" / "jenkins-py2"
CASES = sorted(path.stem for path in PY2.glob("*.py") if not path.stem.endswith("_py3"))
#: The CI every corpus script finds as the global ``server`` (beans.py reads it the Java-bean way).
SERVER = CiValue(
    "jenkins",
    "jenkins.Server",
    {
        "url": "http://jenkins.example",
        "username": "bot",
        "password": "not-in-any-output",
        "proxyPort": 8080,
        "authenticationMethod": "Basic",
    },
    ("password",),
)


class _QueueItemHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"executable": {"number": 7, "url": "http://x/job/a/7/"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _QueueItemHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def run_in_process(path: Path, server_url: str) -> tuple[str, str, Any]:
    """Translate (auto mode) and run ``path`` as a worker would; return its stdout, stderr and ``result``."""
    imports.install()
    code = compile(to_python3(path.read_text(encoding="utf-8"), str(path)), str(path), "exec", dont_inherit=True)
    namespace: dict[str, Any] = {
        **script_globals(),
        "__name__": "__builtin__",
        "HttpRequest": HttpRequest,
        "JsonPathResult": JsonPathResult,
        "serverUrl": server_url,
        "server": ConfigurationItem(SERVER),
    }
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        exec(code, namespace)
    return stdout.getvalue(), stderr.getvalue(), namespace["result"]


@pytest.mark.parametrize("case", CASES)
def test_python2_script_gives_the_same_results_as_its_python3_twin(case: str, server_url: str) -> None:
    python2 = run_in_process(PY2 / f"{case}.py", server_url)
    python3 = run_in_process(PY2 / f"{case}_py3.py", server_url)
    assert python2 == python3


def test_the_corpus_covers_every_construct_of_the_issue() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in PY2.glob("*.py") if "_py3" not in path.name)
    for construct in (
        "print ",
        "except KeyError, e",
        ".has_key(",
        ".iteritems()",
        "filter(None",
        "map(",
        "zip(",
        "urllib.quote",
        "urllib2",
        "httplib",
        "urlparse",
        "unicode",
        "basestring",
        "long(",
        "0755",
        "xrange",
        "import sets",
        "__builtin__",
        "JysonCodec",
        "LoggerFactory",
        "java.lang",
        "java.io",
        "java.util",
        "CredentialsFallback",
        "logger.",
        "base64.b64encode",
        "\t",
        "filters.from",
        "HttpRequest",
        "JsonPathResult",
        "Thread.sleep",
        "System.",
        "String(",
        "raise JavaException(",
        "BufferedReader(",
        "server.getUrl()",
        "response.getStatus()",
        "server.getAuthenticationMethod() <>",
    ):
        assert construct in text, construct


def test_the_corpus_has_mixed_indentation_and_a_missing_final_newline() -> None:
    layout = (PY2 / "layout.py").read_text(encoding="utf-8")
    indents = {line[: len(line) - len(line.lstrip())] for line in layout.splitlines()}
    assert any("\t" in indent for indent in indents) and any(indent.startswith("    ") for indent in indents)
    assert not layout.endswith("\n")


# --- through the worker pool --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2) as workers:
        yield workers


def _request(path: Path, server_url: str, run_id: int) -> ScriptRunRequest:
    task_type = TaskType(
        name="corpus.Script",
        parent="xlrelease.PythonScript",
        ancestors=("xlrelease.PythonScript",),
        virtual=False,
        properties={},
        plugin="corpus",
        source=SourceRef(str(path), 1),
    )
    return ScriptRunRequest(
        run_id=run_id,
        task_id="T1",
        task_type=task_type,
        title=path.stem,
        script_path=path.name,
        script_file=str(path),
        source=path.read_text(encoding="utf-8"),
        properties={"serverUrl": server_url},
        cis={"server": SERVER},
        timeout=30,
    )


def _stdout(result: ScriptRunResult) -> str:
    return "".join(line.text + "\n" for line in result.log if line.stream == "stdout")


@pytest.mark.parametrize("case", CASES)
def test_python2_script_prints_the_same_through_the_worker_pool(case: str, pool: WorkerPool, server_url: str) -> None:
    python2 = pool.run_sync(_request(PY2 / f"{case}.py", server_url, 1))
    python3 = pool.run_sync(_request(PY2 / f"{case}_py3.py", server_url, 2))
    assert python2.outcome is RunOutcome.SUCCEEDED, python2.failure
    assert python3.outcome is RunOutcome.SUCCEEDED, python3.failure
    assert _stdout(python2) == _stdout(python3)
    assert _stdout(python2) == run_in_process(PY2 / f"{case}.py", server_url)[0]


# --- the documentation's Jenkins scripts, in Python 2, against the Jenkins test server ----------------------


@pytest.fixture(scope="module")
def registry() -> TypeRegistry:
    return load_registry(plugin_paths=[JENKINS_PY2], pm=build_plugin_manager(load_installed=False))


def run_chain(
    pool: WorkerPool, registry: TypeRegistry, server: JenkinsServer, **inputs: Any
) -> list[tuple[str, ScriptRunResult]]:
    """Run a jenkinspy2.Build task to its end as the scheduler would: carry properties, follow schedule()."""
    ci = CiValue("jenkins", "jenkins.Server", {"url": server.url, "authenticationMethod": "Basic"}, ("password",))
    chain = run_script_chain(
        pool,
        registry,
        "jenkinspy2.Build",
        {"jenkinsServer": ci},
        {"jenkinsServer": "jenkins", **inputs},
        max_runs=29,
        script_root=JENKINS_PY2,
    )
    if not chain.ended:
        raise AssertionError("the chain did not end")
    return chain.results


def test_the_python2_jenkins_scripts_run_to_completion(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("hello", queue_polls=1, build_polls=1, next_build_number=7)
        chain = run_chain(pool, registry, jenkins, jobName="hello")
        triggers = jenkins.triggers
    log = "\n".join(line.text for _, result in chain for line in result.log)
    assert [path for path, _ in chain] == [
        "jenkins/Build.py",
        "jenkins/Build.wait-for-queue.py",
        "jenkins/Build.wait-for-queue.py",
        "jenkins/Build.wait-for-build.py",
        "jenkins/Build.wait-for-build.py",
    ], log
    final = chain[-1][1]
    assert final.outcome is RunOutcome.SUCCEEDED, (final.failure, log)
    assert [result.status_line for _, result in chain][:4] == [
        "Build queued",
        None,
        "Running build #7",
        None,
    ]
    assert final.properties["buildStatus"] == "SUCCESS"
    assert chain[2][1].properties["buildNumber"] == "7"
    assert "Finished: SUCCESS" in log
    assert triggers == [Trigger("hello", "build", {}, None, 1)]


def test_the_python2_jenkins_scripts_fail_a_failed_build(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("broken", parameters={"branch": "master"}, result="FAILURE")
        chain = run_chain(pool, registry, jenkins, jobName="broken", jobParameters="branch=main\n")
        triggers = jenkins.triggers
    final = chain[-1][1]
    assert triggers == [Trigger("broken", "buildWithParameters", {"branch": "main"}, None, 1)]
    assert final.outcome is RunOutcome.FAILED
    assert final.failure is not None and final.failure.message == "script exited with code 1"
    assert "Finished: FAILURE" in "\n".join(line.text for line in final.log)


def test_an_unsupported_import_fails_the_run_with_one_line_through_the_worker_pool(pool: WorkerPool) -> None:
    from xlr_runtime.scripting.build import script_request

    result = pool.run_sync(
        script_request('print "start"\nfrom com.xebialabs.overthere import CmdLine\n', script_file="/plugins/p/Run.py")
    )
    assert result.outcome is RunOutcome.FAILED and result.failure is not None
    assert result.failure.kind == "UnsupportedImportError"
    assert result.failure.message.endswith(
        "/plugins/p/Run.py:2: import of 'com.xebialabs.overthere' is not supported by xlr-runtime"
    )
    assert "\n" not in result.failure.message
    assert [line.text for line in result.log if line.stream == "stdout"] == ["start"]


def test_a_translated_script_fails_at_its_original_file_and_line_through_the_worker_pool(pool: WorkerPool) -> None:
    from xlr_runtime.scripting.build import script_request

    source = 'print "start"\nd = {}\nif not d.has_key("x"):\n    print >>sys.stderr, "no x"\nx = 1 / len(d)\n'
    result = pool.run_sync(script_request("import sys\n" + source, script_file="/plugins/p/Boom.py"))
    assert result.outcome is RunOutcome.FAILED and result.failure is not None
    # Python 2's integer division, kept by the translation, fails with Jython's own message
    assert result.failure.message == "/plugins/p/Boom.py:6: ZeroDivisionError: integer division or modulo by zero"
    # the author's line, without column markers (they would point into the translated text)
    assert '  File "/plugins/p/Boom.py", line 6, in <module>\n    x = 1 / len(d)\nZeroDivisionError' in (
        result.failure.traceback
    )
    assert [(line.stream, line.text) for line in result.log] == [("stdout", "start"), ("stderr", "no x")]


def test_the_python2_jenkins_task_completes_end_to_end_in_the_runtime(home: Home) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("hello", queue_polls=2, build_polls=2, next_build_number=3)
        home.config_file.write_text(f'[ci.jenkins]\ntype = "jenkins.Server"\nurl = "{jenkins.url}"\n', encoding="utf-8")
        with Runtime(home, plugin_paths=[JENKINS_PY2], clock=VirtualClock(1_700_000_000.0)) as runtime:
            task = runtime.create_task("jenkinspy2.Build", {"jenkinsServer": "jenkins", "jobName": "hello"})
            done = runtime.drive(task.id)
            scripts = [run.script_path for run in runtime.store.tasks.runs(task.id)]
    assert done.status is TaskStatus.COMPLETED, done.failure
    assert (done.properties["buildNumber"], done.properties["buildStatus"]) == ("3", "SUCCESS")
    assert (
        scripts
        == ["jenkins/Build.py"] + ["jenkins/Build.wait-for-queue.py"] * 3 + ["jenkins/Build.wait-for-build.py"] * 3
    )


def test_a_plugins_translate_mode_from_xlr_toml_applies_to_its_runs(home: Home) -> None:
    home.config_file.write_text(
        '[ci.jenkins]\ntype = "jenkins.Server"\nurl = "http://127.0.0.1:9"\n\n'
        '[plugins.jenkins-py2]\ntranslate = "off"\n',
        encoding="utf-8",
    )
    with Runtime(home, plugin_paths=[JENKINS_PY2], clock=VirtualClock(1_700_000_000.0)) as runtime:
        task = runtime.create_task("jenkinspy2.Build", {"jenkinsServer": "jenkins", "jobName": "hello"})
        done = runtime.drive(task.id)
    assert done.status is TaskStatus.FAILED
    assert done.failure == (
        f"{JENKINS_PY2 / 'jenkins' / 'Build.py'}:5: SyntaxError: Missing parentheses in call to 'print'. "
        "Did you mean print(...)?"
    )

"""``xml.etree.ElementTree`` in translated scripts: ``tostring`` returns text as in Python 2, every import form
real plugins use is served, ``cElementTree`` (removed in Python 3.9) works, and a script in the style of the
XL Deploy plugin's ``XLDeployClient.py`` runs through the worker pool against a local HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from xlr_runtime.compat import imports
from xlr_runtime.compat.detect import needs_translation
from xlr_runtime.compat.script_globals import script_globals
from xlr_runtime.compat.shims import py2_elementtree
from xlr_runtime.compat.translate import clear_memory_cache, to_python3
from xlr_runtime.scripting.build import script_request
from xlr_runtime.scripting.contract import RunOutcome
from xlr_runtime.scripting.pool import WorkerPool

DEPLOYMENT = '<deployment id="d1"><orchestrator/><application>Applications/app/1.0</application></deployment>'


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_memory_cache()


def run_translated(source: str) -> dict[str, Any]:
    imports.install()
    namespace: dict[str, Any] = {**script_globals(), "__name__": "__builtin__"}
    exec(compile(to_python3(source, "/plugins/p/xml.py"), "/plugins/p/xml.py", "exec"), namespace)
    return namespace


def test_tostring_returns_what_python_2_returned_as_text() -> None:
    element = py2_elementtree.fromstring("<a x='1'><b>\u00e9</b></a>")
    assert py2_elementtree.tostring(element) == '<a x="1"><b>&#233;</b></a>'
    assert py2_elementtree.tostring(element, "utf-8") == '<a x="1"><b>\u00e9</b></a>'
    assert py2_elementtree.tostring(element, encoding="iso-8859-1") == (
        "<?xml version='1.0' encoding='iso-8859-1'?>\n<a x=\"1\"><b>\u00e9</b></a>"
    )
    assert py2_elementtree.tostringlist(element) == ['<a x="1"><b>&#233;</b></a>']
    assert py2_elementtree.tostring(element, method="text") == "&#233;"


@pytest.mark.parametrize(
    ("python2", "python3"),
    [
        ("import xml.etree.ElementTree as ET\n", "import _xlr_py2_elementtree as ET\n"),
        ("import os, xml.etree.cElementTree as ET\n", "import os, _xlr_py2_elementtree as ET\n"),
        ("from xml.etree import ElementTree as ET\n", "import _xlr_py2_elementtree as ET\n"),
        ("if x:\n    from xml.etree import cElementTree\n", "if x:\n    import _xlr_py2_elementtree as cElementTree\n"),
        (
            "from xml.etree.ElementTree import tostring, Element\n",
            "from _xlr_py2_elementtree import tostring, Element\n",
        ),
        ("import xml.etree.ElementTree\n", "import xml.etree.ElementTree\n"),
        ("from xml.etree import ElementTree, ElementPath\n", "from xml.etree import ElementTree, ElementPath\n"),
    ],
)
def test_elementtree_imports_are_translated(python2: str, python3: str) -> None:
    assert to_python3(python2, "/p/s.py", "on") == python3


def test_celementtree_marks_a_script_as_python_2_and_python_3_scripts_keep_the_real_module() -> None:
    assert needs_translation("import xml.etree.cElementTree as ET\nprint(ET.tostring(ET.Element('a')))\n", "s")
    source = "import xml.etree.ElementTree as ET\nxml = ET.tostring(ET.Element('a'))\n"
    assert to_python3(source, "/p/s.py") is source
    assert run_translated(source)["xml"] == b"<a />"


def test_a_translated_script_can_concatenate_format_and_parse_its_xml() -> None:
    namespace = run_translated(
        "from xml.etree import cElementTree as ET\n"
        "root = ET.Element('udm.Environment', id='Environments/dev')\n"
        "ET.SubElement(root, 'members')\n"
        'print "Creating %s" % ET.tostring(root)\n'
        "xml = '<list>' + ET.tostring(root) + '</list>'\n"
        "again = ET.fromstring(xml).find('udm.Environment').get('id')\n"
    )
    assert namespace["xml"] == '<list><udm.Environment id="Environments/dev"><members /></udm.Environment></list>'
    assert namespace["again"] == "Environments/dev"


class _XLDeploy(BaseHTTPRequestHandler):
    """``GET /deployit/deployment/prepare/...`` answers a deployment; ``POST`` bodies are recorded."""

    posted: list[str] = []

    def do_GET(self) -> None:
        self._answer(DEPLOYMENT)

    def do_POST(self) -> None:
        self.posted.append(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
        self._answer("TASK-1")

    def _answer(self, text: str) -> None:
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def xl_deploy() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _XLDeploy)
    _XLDeploy.posted = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


#: In the style of xebialabs-community/xlr-xldeploy-plugin's XLDeployClient.py: prepare a deployment, set its
#: orchestrators with ElementTree, log the XML and post it.
DEPLOY_SCRIPT = """\
from xml.etree import ElementTree as ET
from xlrelease.HttpRequest import HttpRequest

def add_orchestrators(deployment_xml, orchestrators):
    root = ET.fromstring(deployment_xml)
    if orchestrators:
        params = root.find(".//orchestrator")
        params.clear()
        for orch in orchestrators.split(","):
            orchestrator = ET.SubElement(params, 'value')
            orchestrator.text = orch.strip()
    return ET.tostring(root)

request = HttpRequest({"url": serverUrl})
prepared = request.get("/deployit/deployment/prepare/initial?version=app", contentType='application/xml')
deployment_xml = add_orchestrators(prepared.getResponse(), "parallel-by-container, sequential-by-group")
print "Deployment XML: " + deployment_xml
task_id = request.post('/deployit/deployment', deployment_xml, contentType='application/xml').getResponse()
print 'Task [%s] created' % task_id
"""


def test_an_xl_deploy_style_script_logs_and_posts_its_xml_as_text_through_the_worker_pool(xl_deploy: str) -> None:
    expected_xml = (
        '<deployment id="d1"><orchestrator><value>parallel-by-container</value>'
        "<value>sequential-by-group</value></orchestrator><application>Applications/app/1.0</application></deployment>"
    )
    with WorkerPool(1) as pool:
        result = pool.run_sync(script_request(DEPLOY_SCRIPT, values={"serverUrl": xl_deploy}))
    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert [line.text for line in result.log if line.stream == "stdout"] == [
        f"Deployment XML: {expected_xml}",
        "Task [TASK-1] created",
    ]
    assert _XLDeploy.posted == [expected_xml]

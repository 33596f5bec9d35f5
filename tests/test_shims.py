"""The import shims, unsupported imports, the script globals, ``xlr check``'s script checker and the
per-plugin translation mode."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from synthetic_helpers import fresh_pm, write_plugin

from xlr_runtime.compat import imports
from xlr_runtime.compat.config import plugin_translate_modes, translate_mode
from xlr_runtime.compat.script_globals import script_globals
from xlr_runtime.compat.translate import clear_memory_cache, to_python3
from xlr_runtime.errors import ConfigError, UnsupportedImportError
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.settings import defaults
from xlr_runtime.typesystem.check import check_plugins
from xlr_runtime.typesystem.script_check import inspect_script


@pytest.fixture(autouse=True)
def shims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_memory_cache()
    imports.install()
    yield
    for name in [n for n in sys.modules if n.split(".")[0] in {"java", "com", "org", "xlrelease", "sets"}]:
        del sys.modules[name]


def run(source: str, path: str = "/plugins/p/script.py", **names: Any) -> tuple[dict[str, Any], str, str]:
    """Translate and run ``source`` as a worker would; return its namespace, stdout and stderr."""
    namespace = {**script_globals(), "__name__": "__builtin__", **names}
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        exec(compile(to_python3(source, path), path, "exec"), namespace)
    return namespace, out.getvalue(), err.getvalue()


def test_sets_and_builtin() -> None:
    ns, out, _ = run(
        "import sets, __builtin__\n"
        "s = sets.Set([1, 1, 2]); f = sets.ImmutableSet([3])\n"
        "if __name__ == '__builtin__':\n    print 'main', __builtin__.len(s), __builtin__.unicode is str\n"
    )
    assert (ns["s"], ns["f"], out) == ({1, 2}, frozenset({3}), "main 2 True\n")


def test_jyson_both_import_forms() -> None:
    ns, _, _ = run(
        "import com.xhaus.jyson.JysonCodec as json\nfrom com.xhaus.jyson import JysonCodec\n"
        "a = json.loads('{\"x\": [1, null]}')\nb = JysonCodec.dumps({'y': True})\n"
    )
    assert (ns["a"], ns["b"]) == ({"x": [1, None]}, '{"y": true}')


def test_slf4j_and_the_logger_global_write_to_the_task_log() -> None:
    _, out, err = run(
        "from org.slf4j import LoggerFactory\nlog = LoggerFactory.getLogger('my.plugin')\n"
        "log.info('build {} of {}', 7, 'job')\nlog.debug('details')\nlog.error('failed', 'extra')\n"
        "logger.warn('careful')\n"
    )
    assert out == "INFO build 7 of job\nDEBUG details\n"
    assert err == "ERROR failed extra\nWARN careful\n"


def test_java_lang() -> None:
    ns, out, _ = run(
        "from java.lang import String, System, Thread, Integer, Long, Boolean, StringBuilder, Exception\n"
        "s = String(String('  Héllo ').getBytes('utf-8')).trim()\n"
        "t = [s.length(), s.toUpperCase(), s.startsWith('H'), s.substring(1, 3), s.replaceAll('l+', '$0!')]\n"
        "n = Integer.parseInt('41') + Long.parseLong('1'), Boolean.parseBoolean('TRUE')\n"
        "Thread.sleep(1)\nnow = System.currentTimeMillis()\n"
        "sb = StringBuilder('a').append(1).append(True).toString()\n"
        "System.out.println('printed')\n"
        "try:\n    raise Exception('java')\nexcept Exception, e:\n    caught = str(e)\n"
    )
    assert ns["t"] == [5, "HÉLLO", True, "él", "Héll!o"]
    assert ns["n"] == (42, True)
    assert ns["now"] > 1_600_000_000_000
    assert (ns["sb"], ns["caught"], out) == ("a1true", "java", "printed\n")
    assert run("from java.lang import System\nv = System.getProperty('line.separator')\n")[0]["v"] == "\n"


def test_java_io_util_net(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    ns, _, _ = run(
        "from java.io import File, FileWriter, BufferedReader, FileReader, IOException\n"
        "from java.util import HashMap, ArrayList, Date, UUID, Base64\n"
        "from java.net import URLEncoder, URLDecoder\n"
        "w = FileWriter(target)\nw.write('one\\ntwo\\n')\nw.close()\n"
        "r = BufferedReader(FileReader(File(target)))\nlines = [r.readLine(), r.readLine(), r.readLine()]\n"
        "m = HashMap()\nold = m.put('k', 1)\nl = ArrayList([1])\nl.add(2)\n"
        "info = [File(target).getName(), File(target).exists(), m.containsKey('k'), l.size(), l.get(1), old]\n"
        "encoded = URLEncoder.encode('a b&c', 'UTF-8'), URLDecoder.decode('a+b%26c', 'UTF-8')\n"
        "b = Base64.getEncoder().encodeToString(b'u:p')\nu = len(UUID.randomUUID().toString())\n"
        "try:\n    open(target + '.missing')\nexcept IOException, e:\n    missing = 'caught'\n",
        target=str(target),
    )
    assert ns["lines"] == ["one", "two", None]
    assert ns["info"] == ["out.txt", True, True, 2, 2, None]
    assert (ns["encoded"], ns["b"], ns["u"], ns["missing"]) == (("a+b%26c", "a b&c"), "dTpw", 36, "caught")


def test_commons_codec_base64_and_python2_base64_on_text() -> None:
    ns, _, _ = run(
        "from org.apache.commons.codec.binary import Base64\nimport base64\n"
        "a = Base64.encodeBase64String('u:p')\nb = Base64.decodeBase64(a)\n"
        "c = 'Basic ' + base64.b64encode('u:p')\nd = base64.b64decode('dTpw')\ne = base64.b64encode(b'u:p')\n"
        "f = base64.encodestring('u:p')\n"
    )
    assert (ns["a"], ns["b"], ns["c"], ns["d"], ns["e"], ns["f"]) == (
        "dTpw",
        b"u:p",
        "Basic dTpw",
        "u:p",
        b"dTpw",
        "dTpw\n",
    )


def test_python3_scripts_keep_the_real_base64() -> None:
    ns, _, _ = run("import base64\nx = base64.b64encode(b'u:p')\nmodule = base64.__name__\n")
    assert (ns["x"], ns["module"]) == (b"dTpw", "base64")


def test_credentials_fallback_global_and_import() -> None:
    server = {"username": "srv", "password": "srv-pw"}
    ns, _, _ = run(
        "from xlrelease.CredentialsFallback import CredentialsFallback as CF\n"
        "own = CredentialsFallback(server, 'me', 'pw').getCredentials()\n"
        "fallback = CF(server, '', None).getCredentials()\n",
        server=server,
    )
    assert ns["own"] == {"username": "me", "password": "pw"}
    assert ns["fallback"] == {"username": "srv", "password": "srv-pw"}


def test_http_request_and_json_path_result_imports_reexport_the_worker_classes() -> None:
    from xlr_runtime.scripting.http import HttpRequest
    from xlr_runtime.scripting.jsonpath import JsonPathResult

    ns, _, _ = run(
        "from xlrelease.HttpRequest import HttpRequest as H\n"
        "from com.xebialabs.xlrelease.plugin.webhook import JsonPathResult as J\n"
        "n = J('{\"executable\": {\"number\": 3}}', 'executable.number').get()\n"
    )
    assert (ns["H"], ns["J"], ns["n"]) == (HttpRequest, JsonPathResult, 3)
    assert sys.modules["xlr_runtime.scripting.http"].__spec__.name == "xlr_runtime.scripting.http"


@pytest.mark.parametrize(
    ("statement", "module"),
    [
        ("import com.xebialabs.overthere.OverthereConnection", "com.xebialabs.overthere.OverthereConnection"),
        ("from com.xebialabs.overthere import CmdLine", "com.xebialabs.overthere"),
        ("from org.apache.http.client import HttpClient", "org.apache.http.client.HttpClient"),
        ("from org.apache.http.util import HttpGet", "org.apache.http.util.HttpGet"),  # not in that Java package
        ("import java.lang.Runtime as Runtime", "java.lang.Runtime"),
        ("from org.slf4j import Marker", "org.slf4j.Marker"),
        ("from com.xhaus.jyson import JysonDecoder", "com.xhaus.jyson.JysonDecoder"),  # was located in importlib
        ("from java.lang import Runtime", "java.lang.Runtime"),
        ("import javax.net.ssl", "javax.net.ssl"),
        (
            "from com.xebialabs.xlrelease.plugin.webhook import XmlPathResult",
            "com.xebialabs.xlrelease.plugin.webhook.XmlPathResult",
        ),
    ],
)
def test_an_unsupported_import_fails_with_one_line_naming_the_import_the_script_and_the_line(
    statement: str, module: str
) -> None:
    with pytest.raises(UnsupportedImportError) as caught:
        run(f'print "first"\n\n{statement}\n', "/plugins/p/Deploy.py")
    assert str(caught.value) == f"/plugins/p/Deploy.py:3: import of {module!r} is not supported by xlr-runtime"
    assert (caught.value.module, caught.value.path, caught.value.line) == (module, "/plugins/p/Deploy.py", 3)


def test_a_script_can_catch_an_unsupported_import_as_import_error() -> None:
    ns, _, _ = run(
        "try:\n    from org.apache.http.conn.ssl import TrustAllStrategy as HttpHost\nexcept ImportError:\n"
        "    HttpHost = None\n"
    )
    assert ns["HttpHost"] is None


def test_ordinary_imports_are_not_affected() -> None:
    ns, _, _ = run("import json, collections\nfrom os import path\nok = json.dumps(1)\n")
    assert ns["ok"] == "1"
    with pytest.raises(ModuleNotFoundError, match="No module named 'no_such_module'"):
        run("import no_such_module\n")


def test_script_globals_come_from_the_hook() -> None:
    results = build_plugin_manager(load_installed=False).hook.xlr_script_globals()
    assert [sorted(r) for r in results] == [
        [
            "CredentialsFallback",
            "_xlr_print_stack_trace",
            "_xlr_py2_div",
            "_xlr_py2_round",
            "_xlr_py2_sort",
            "_xlr_py2_sorted",
            "cmp",
            "file",
            "intern",
            "logger",
            "reduce",
            "reload",
        ]
    ]
    assert run("x = reduce(lambda a, b: a * b, [1, 2, 3]), cmp(2, 1)\n")[0]["x"] == (6, 1)


def test_inspect_script_reports_translation_compilation_and_unsupported_imports() -> None:
    report = inspect_script(
        'import sys\nfrom com.xebialabs.overthere import CmdLine\nprint "x"\nfrom java.lang import String, Runtime\n'
        "import org.apache.http.conn.ssl\nfrom java.util import HashMap\n",
        "/p/Run.py",
    )
    assert (report.python2, report.compiles) == (True, True)
    assert report.unsupported_imports == [
        (2, "com.xebialabs.overthere"),
        (4, "java.lang.Runtime"),
        (5, "org.apache.http.conn.ssl"),
    ]
    broken = inspect_script('print "x"\nif True\n', "/p/Broken.py")
    assert not broken.compiles and str(broken.error) == "/p/Broken.py:2: invalid syntax near '\\n'"
    assert not inspect_script("print('py3')\n", "/p/Ok.py").python2


def test_xlr_check_lists_scripts_that_do_not_compile_and_unsupported_imports(tmp_path: Path) -> None:
    root = write_plugin(
        tmp_path / "demo",
        '  <type type="demo.Run" extends="xlrelease.PythonScript"/>\n',
        {
            "demo/Run.py": 'import sys\nprint "fine"\nfrom com.xebialabs.overthere import CmdLine\n',
            "demo/helper.py": "def f(:\n    pass\n",
            "demo/Other.py": "import json\nprint(json.dumps(1))\n",
        },
    )
    report = check_plugins([root], pm=fresh_pm(), include_bundled=False)
    assert [str(p) for p in report.problems] == [
        f"{root / 'demo' / 'Run.py'}:3: import of 'com.xebialabs.overthere' is not supported by xlr-runtime",
        f"{root / 'demo' / 'helper.py'}:1: does not compile: invalid syntax near ':'",
    ]


def test_per_plugin_translate_mode(tmp_path: Path) -> None:
    config = tmp_path / "xlr.toml"
    config.write_text(
        '[settings]\n"scripts.translate" = "auto"\n\n[plugins.legacy]\ntranslate = "on"\n\n'
        '[plugins.modern]\ntranslate = "off"\n',
        encoding="utf-8",
    )
    assert plugin_translate_modes(config) == {"legacy": "on", "modern": "off"}
    settings = defaults()
    assert translate_mode("legacy", settings, config_file=config) == "on"
    assert translate_mode("modern", settings, config_file=config) == "off"
    assert translate_mode("other", settings.with_overrides(scripts_translate="off"), config_file=config) == "off"
    assert translate_mode("other", None, config_file=tmp_path / "missing.toml") == "auto"


def test_an_invalid_per_plugin_translate_mode_is_a_located_config_error(tmp_path: Path) -> None:
    config = tmp_path / "xlr.toml"
    config.write_text('[plugins.legacy]\nother = 1\ntranslate = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        plugin_translate_modes(config)
    assert str(caught.value) == f"{config}:3: plugins.legacy.translate must be one of auto, on, off, got 'sometimes'"


def test_xlr_check_lists_every_script_with_its_status(tmp_path: Path) -> None:
    root = write_plugin(
        tmp_path / "demo",
        '  <type type="demo.Run" extends="xlrelease.PythonScript"/>\n',
        {
            "demo/Run.py": 'print "x"\nimport org.apache.http.conn\n',
            "demo/New.py": "print('x')\n",
            "demo/Bad.py": "(\n",
        },
    )
    report = check_plugins([root], pm=fresh_pm(), include_bundled=False)
    demo = root / "demo"
    assert [(r.path, r.python2, r.compiles, r.status()) for r in report.scripts] == [
        (f"{demo / 'Bad.py'}", True, False, None),
        (f"{demo / 'New.py'}", False, True, f"{demo / 'New.py'}: ok (Python 3)"),
        (
            f"{demo / 'Run.py'}",
            True,
            True,
            f"{demo / 'Run.py'}: compiles (translated from Python 2), 1 unsupported import",
        ),
    ]
    assert report.listing() == [
        f"{demo / 'Bad.py'}:1: does not compile: '(' was never closed",
        f"{demo / 'New.py'}: ok (Python 3)",
        f"{demo / 'Run.py'}: compiles (translated from Python 2), 1 unsupported import",
        f"{demo / 'Run.py'}:2: import of 'org.apache.http.conn' is not supported by xlr-runtime",
        "2 problems in 1 plugin, 3 scripts checked",
    ]

"""Python 2 -> 3 translation: detection, each construct, the pre-pass, line numbers, errors and the caches."""

from __future__ import annotations

import traceback
import warnings
from pathlib import Path

import pytest

from xlr_runtime.compat import imports
from xlr_runtime.compat import translate as translate_module
from xlr_runtime.compat.detect import needs_translation, python2_markers
from xlr_runtime.compat.prepass import prepare
from xlr_runtime.compat.translate import cache_dir, clear_memory_cache, to_python3
from xlr_runtime.errors import ScriptSyntaxError


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_memory_cache()


@pytest.mark.parametrize(
    ("python2", "python3"),
    [
        ('print "a", b\n', 'print("a", b)\n'),
        ('print "a",\n', "print(\"a\", end=' ')\n"),
        ('print >>sys.stderr, "x"\n', 'print("x", file=sys.stderr)\n'),
        ("try:\n    f()\nexcept ValueError, e:\n    pass\n", "try:\n    f()\nexcept ValueError as e:\n    pass\n"),
        ("ok = d.has_key('a')\n", "ok = 'a' in d\n"),
        ("for k, v in d.iteritems(): pass\n", "for k, v in d.items(): pass\n"),
        ("x = list(d.itervalues())\n", "x = list(d.values())\n"),
        ("x = sorted(d.iterkeys())\n", "x = sorted(d.keys())\n"),
        ("k = d.keys()[0]\n", "k = list(d.keys())[0]\n"),
        ("last = filter(None, parts)[-1]\n", "last = [_f for _f in parts if _f][-1]\n"),
        ("y = map(f, xs)[0]\n", "y = list(map(f, xs))[0]\n"),
        ("z = zip(a, b)[0]\n", "z = list(zip(a, b))[0]\n"),
        (
            "import urllib\nq = urllib.quote(s)\n",
            "import urllib.request, urllib.parse, urllib.error\nq = urllib.parse.quote(s)\n",
        ),
        ("u = urllib.urlencode(p)\n", "u = urllib.parse.urlencode(p)\n"),
        (
            "import urllib2\nr = urllib2.urlopen(u)\n",
            "import urllib.request, urllib.error, urllib.parse\nr = urllib.request.urlopen(u)\n",
        ),
        ("import httplib\nc = httplib.HTTPConnection(h)\n", "import http.client\nc = http.client.HTTPConnection(h)\n"),
        ("import urlparse\np = urlparse.urlparse(u)\n", "import urllib.parse\np = urllib.parse.urlparse(u)\n"),
        ("s = unicode(x)\n", "s = str(x)\n"),
        ("ok = isinstance(x, basestring)\n", "ok = isinstance(x, str)\n"),
        ("n = long(x) + 10L\n", "n = int(x) + 10\n"),
        ("for i in xrange(3): pass\n", "for i in range(3): pass\n"),
        ("mode = 0755\n", "mode = 0o755\n"),
        ("s = raw_input()\n", "s = input()\n"),
        ("t = reduce(add, xs)\n", "t = reduce(add, xs)\n"),
        ("ok = a <> b\n", "ok = a != b\n"),
        ("r = apply(f, args)\n", "r = f(*args)\n"),
        ('exec "x = 1"\n', 'exec("x = 1")\n'),
        ("s = `x`\n", "s = repr(x)\n"),
        ("s = u'text'\n", "s = 'text'\n"),
        ("c = unichr(65)\n", "c = chr(65)\n"),
        ("import base64\nb = base64.b64encode(s)\n", "import _xlr_py2_base64\nb = _xlr_py2_base64.b64encode(s)\n"),
        ("import string\nw = string.strip(s)\n", "import _xlr_py2_string\nw = _xlr_py2_string.strip(s)\n"),
        ("raise ValueError, 'bad'\n", "raise ValueError('bad')\n"),
        ("n = sys.maxint\n", "n = sys.maxsize\n"),
    ],
)
def test_each_python2_construct_is_translated(python2: str, python3: str) -> None:
    assert to_python3(python2, "/p/s.py", "on") == python3


def test_python3_scripts_are_returned_untouched() -> None:
    source = 'import json\nprint("a", end="")\nvalue = {"a": 1}.items()\n'
    assert to_python3(source, "/p/s.py") is source


def test_a_script_that_compiles_as_python3_but_uses_python2_names_is_translated() -> None:
    source = "for key, value in d.iteritems():\n    print(key)\nlast = filter(None, xs)[-1]\n"
    assert python2_markers(__import__("ast").parse(source)) == [(1, ".iteritems()"), (3, "filter(...)[...]")]
    assert to_python3(source, "/p/s.py") == (
        "for key, value in d.items():\n    print(key)\nlast = [_f for _f in xs if _f][-1]\n"
    )


def test_names_the_script_binds_itself_are_not_python2_markers() -> None:
    assert not needs_translation("long = 3\nunicode = str\nprint(long, unicode(4))\n", "/p/s.py")


def test_mode_off_never_translates_and_on_always_does() -> None:
    assert to_python3('print "x"\n', "/p/s.py", "off") == 'print "x"\n'
    assert to_python3("x = d.keys()\n", "/p/s.py", "on") == "x = list(d.keys())\n"
    with pytest.raises(ValueError, match="translate mode must be one of auto, on, off, got 'maybe'"):
        to_python3("x = 1\n", "/p/s.py", "maybe")


def test_prepass_expands_mixed_indentation_adds_the_final_newline_and_renames_keyword_attributes() -> None:
    source = "if a:\n    if b:\n\tc = 1\nfilters.from = x\nf.print(y)\nfrom . import z\ng.to"
    assert prepare(source) == "if a:\n    if b:\n        c = 1\nfilters.from_ = x\nf.print_(y)\nfrom . import z\ng.to\n"


def test_a_file_with_mixed_tabs_keyword_attributes_and_no_final_newline_translates_and_runs() -> None:
    source = "class F(object):\n    pass\nf = F()\nif True:\n        f.from = 1\n\tprint f.from,\nresult = f.from"
    namespace: dict[str, object] = {}
    exec(compile(to_python3(source, "/p/s.py"), "/p/s.py", "exec"), namespace)
    assert namespace["result"] == 1


def test_windows_line_endings_are_accepted() -> None:
    assert to_python3('print "a"\r\nprint "b"\r\n', "/p/s.py") == 'print("a")\nprint("b")\n'


LINE_NUMBERED = """\
import urllib2, urllib
from urllib2 import Request, urlopen, HTTPError
from urllib import quote, urlencode, urlopen as uo
import base64, string
print "line 5", reduce(lambda a, b: a + b, [1, 2])
d = {"a": 1}
if d.has_key("a"):
    print "line 8", d.keys()[0], filter(None, [0, 1])[-1]
try:
    raise KeyError("line 10")
except KeyError, e:
    print "line 12", e
for k, v in d.iteritems():
    print "line 14", k, v, 0777, 10L, u"x"
def boom():
    raise RuntimeError("raised on line 16")
boom()
"""


def test_line_numbers_are_preserved_so_tracebacks_point_at_the_original_line() -> None:
    translated = to_python3(LINE_NUMBERED, "/plugins/p/Build.py")
    assert len(translated.splitlines()) == len(LINE_NUMBERED.splitlines())
    for number in (5, 8, 12, 14):
        assert f'"line {number}"' in translated.splitlines()[number - 1]
    imports.install()
    namespace: dict[str, object] = {"reduce": __import__("functools").reduce}
    with pytest.raises(RuntimeError) as caught:
        exec(compile(translated, "/plugins/p/Build.py", "exec"), namespace)
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert [(f.filename, f.lineno) for f in frames[1:]] == [("/plugins/p/Build.py", 17), ("/plugins/p/Build.py", 16)]


def test_a_remaining_syntax_error_is_one_line_with_the_path_and_line() -> None:
    with pytest.raises(ScriptSyntaxError) as caught:
        to_python3('print "ok"\nif x\n    y = 1\n', "/plugins/p/Broken.py")
    assert str(caught.value) == "/plugins/p/Broken.py:2: invalid syntax near '\\n'"
    assert (caught.value.path, caught.value.line) == ("/plugins/p/Broken.py", 2)


def test_a_python3_only_syntax_error_reports_python3s_message() -> None:
    with pytest.raises(ScriptSyntaxError) as caught:
        to_python3("x = 1\nprint(f'{x!z}')\n", "/plugins/p/Broken.py")
    assert str(caught.value).startswith("/plugins/p/Broken.py:2: f-string")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            'print "ok"\nx = "unterminated\n', "2: unterminated string literal (detected at line 2)", id="string"
        ),
        pytest.param(
            'print "ok"\ns = """open\n',
            "2: unterminated triple-quoted string literal (detected at line 2)",
            id="triple",
        ),
        pytest.param(
            'print "ok"\nif x:\n    a = 1\n  b = 2\n',
            "4: unindent does not match any outer indentation level",
            id="unindent",
        ),
        pytest.param('print "ok"\nx = (1,\n', "2: EOF in multi-line statement", id="eof-on-the-last-line"),
        pytest.param(
            'print "ok"\ndef f(:\n    pass\n', "2: invalid syntax near ':'", id="python-says-only-invalid-syntax"
        ),
    ],
)
def test_a_python2_scripts_syntax_error_uses_pythons_own_message_when_it_is_about_the_same_line(
    source: str, expected: str
) -> None:
    with pytest.raises(ScriptSyntaxError) as caught:
        to_python3(source, "/plugins/p/Broken.py")
    assert str(caught.value) == f"/plugins/p/Broken.py:{expected}"


def test_python_warnings_about_the_text_are_not_shown() -> None:
    # CPython warns about `x is "a"` and "\\d"; Jython never did, and `xlr check` printed them to stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ScriptSyntaxError):
            to_python3('print "ok"\nif x is "a":\n    y = "\\d"\nz = (\n', "/plugins/p/Warned.py")
        assert to_python3('print "ok"\nif x is "a":\n    y = "\\d"\n', "/plugins/p/Warned.py")
    assert [str(warning.message) for warning in caught] == []


def test_translations_are_cached_in_memory_and_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = translate_module.translate
    monkeypatch.setattr(translate_module, "translate", lambda s, f: calls.append(f) or real(s, f))
    first = to_python3('print "cached"\n', "/p/a.py")
    assert to_python3('print "cached"\n', "/p/b.py") is first
    assert calls == ["/p/a.py"]
    files = list(cache_dir().glob("*.py"))
    assert [f.read_text() for f in files] == ['print("cached")\n']
    assert "fissix" in files[0].name
    clear_memory_cache()
    assert to_python3('print "cached"\n', "/p/c.py") == first
    assert calls == ["/p/a.py"]


def test_an_unwritable_cache_directory_only_costs_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert to_python3('print "x"\n', "/p/a.py") == 'print("x")\n'


@pytest.mark.parametrize(
    ("source", "marker"),
    [
        ("import base64\nb = base64.b64encode('u:p')\n", "base64 on text"),
        ("import base64\nb = base64.encodestring(x)\n", "base64.encodestring"),
        ("import string\nw = string.join(words, ',')\n", "string.join"),
        ("import urllib\nq = urllib.quote(s)\n", "urllib.quote"),
        ("from urllib import urlencode\n", "from urllib import ..."),
        ("import urllib2\n", "urllib2"),
        ("n = len(map(f, xs))\n", "map(...)[...]"),
        ("v = d.values()[0]\n", ".values()[...]"),
        ("x = unicode(y)\n", "unicode"),
    ],
)
def test_python2_markers_in_code_that_compiles_as_python3(source: str, marker: str) -> None:
    assert [what for _, what in python2_markers(__import__("ast").parse(source))] == [marker]
    assert needs_translation(source, "/p/s.py")


def test_python3_base64_and_string_use_is_not_a_marker() -> None:
    assert not needs_translation("import base64, string\nb = base64.b64encode(b'x')\nl = string.ascii_letters\n", "s")


def test_statements_fixers_insert_at_the_start_of_a_body_share_the_first_line_of_the_body() -> None:
    source = (
        "try:\n    f()\nexcept (KeyError, ValueError), (a, b):\n    print a\nprint b\ndef g((x, y)):\n    return x\n"
    )
    lines = to_python3(source, "/p/s.py").splitlines()  # fissix numbers its names process-wide
    assert len(lines) == 7
    assert lines[3].startswith("    (a, b) = xxx_todo_changeme") and lines[3].endswith(".args; print(a)")
    assert (lines[4], lines[5].startswith("def g(xxx_todo_changeme")) == ("print(b)", True)
    assert lines[6].startswith("    (x, y) = xxx_todo_changeme") and lines[6].endswith("; return x")

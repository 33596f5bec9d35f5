"""fissix's tables of Python 2 names, copied here so that telling a Python 2 script from a Python 3 one does not
import fissix (≈ 60 ms of a worker's start): a worker imports it only for a script that needs translating.

``tests/test_py2_names.py`` fails when these differ from what the installed fissix gives, and prints the new
tables to paste here.
"""

from __future__ import annotations

#: Python 2 modules that Python 3 renamed or split: the keys of ``fissix.fixes.fix_imports.MAPPING``.
RENAMED_MODULES = frozenset(
    {
        "BaseHTTPServer",
        "CGIHTTPServer",
        "ConfigParser",
        "Cookie",
        "Dialog",
        "DocXMLRPCServer",
        "FileDialog",
        "HTMLParser",
        "Queue",
        "ScrolledText",
        "SimpleDialog",
        "SimpleHTTPServer",
        "SimpleXMLRPCServer",
        "SocketServer",
        "StringIO",
        "Tix",
        "Tkconstants",
        "Tkdnd",
        "Tkinter",
        "UserList",
        "UserString",
        "__builtin__",
        "_winreg",
        "cPickle",
        "cStringIO",
        "commands",
        "cookielib",
        "copy_reg",
        "dbhash",
        "dbm",
        "dumbdbm",
        "dummy_thread",
        "gdbm",
        "htmlentitydefs",
        "httplib",
        "markupbase",
        "repr",
        "robotparser",
        "thread",
        "tkColorChooser",
        "tkCommonDialog",
        "tkFileDialog",
        "tkFont",
        "tkMessageBox",
        "tkSimpleDialog",
        "ttk",
        "urlparse",
        "xmlrpclib",
    }
)

#: ``urllib`` names that moved to ``urllib.parse``/``urllib.request``/``urllib.error``: every name listed for
#: ``urllib`` in ``fissix.fixes.fix_urllib.MAPPING``.
URLLIB_MOVED_NAMES = frozenset(
    {
        "ContentTooShortError",
        "FancyURLopener",
        "URLopener",
        "_urlopener",
        "getproxies",
        "pathname2url",
        "quote",
        "quote_plus",
        "splitattr",
        "splithost",
        "splitnport",
        "splitpasswd",
        "splitport",
        "splitquery",
        "splittag",
        "splittype",
        "splituser",
        "splitvalue",
        "unquote",
        "unquote_plus",
        "url2pathname",
        "urlcleanup",
        "urlencode",
        "urlopen",
        "urlretrieve",
    }
)

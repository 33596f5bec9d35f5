"""Plugin modules: what ``from teamcity.client import TeamCityClient`` in a plugin script imports.

XL Release puts every plugin's resource root (a plugin folder, or the root of its ``.jar``) and ``ext/`` on the
Jython path, so a script or a helper module imports a plugin's own modules by their absolute name. Here the roots
travel with each run (:attr:`ScriptRunRequest.module_path`: ``ext/`` first, then the plugins in discovery order,
see :func:`module_path`), and :class:`PluginModuleFinder`, on ``sys.meta_path``, serves them in the worker,
whatever its working folder. It follows Jython 2.7's rules:

* the standard library wins over a plugin module of the same name (Jython's ``Lib`` comes first on its path); a
  plugin module wins over anything else installed next to xlr-runtime;
* in each root, ``name/__init__.py`` (a package) is tried before ``name.py``; the first root that has either wins,
  and a package's sub-modules come from that package's own folder only;
* a folder without ``__init__.py`` is not a package (Jython's ``imp.loadFromSource`` wants one): importing it
  fails with a message saying so;
* inside a package, ``import x`` and ``from x import y`` find the sibling module ``package.x`` first (Python 2's
  implicit relative import), unless the module has ``from __future__ import absolute_import``.

Modules are translated from Python 2 exactly like scripts, with their root's translation mode (and the same
caches), compiled under their display path (``/abs/plugin/teamcity/client.py``, or
``/abs/plugin.jar!/teamcity/client.py`` inside an archive) so tracebacks name the author's file and line and show
the author's text, and run with the Python 2 built-ins (``reduce``, ``cmp`` …) and the translation's helpers as
built-ins. A module that does not compile raises ``SyntaxError`` located in the module.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import linecache
import os
import re
import sys
import threading
import types
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import CodeType
from typing import Any, Protocol

from xlr_runtime.compat import translate
from xlr_runtime.compat.shims.py2_builtins import PY2_GLOBALS
from xlr_runtime.compat.shims.py2_semantics import TRANSLATION_GLOBALS
from xlr_runtime.errors import ScriptSyntaxError

#: File suffixes of archive roots.
ARCHIVE_SUFFIXES = (".jar", ".zip")

#: ``(root, translate mode)`` pairs: a plugin folder or a ``.jar``/``.zip``, and how its Python 2 is translated.
ModulePath = tuple[tuple[str, str], ...]

_ABSOLUTE_IMPORT = re.compile(r"^\s*from\s+__future__\s+import\s+[^#\n]*\babsolute_import\b", re.MULTILINE)


class _PluginLike(Protocol):
    name: str

    @property
    def origin(self) -> Any: ...

    @property
    def location(self) -> Any: ...


def plugin_roots(plugin: _PluginLike) -> list[str]:
    """The absolute locations of a plugin's roots: a repository's resources and jython folders (``roots``), else
    the plugin's own location."""
    return [os.path.abspath(os.fspath(root)) for root in getattr(plugin, "roots", (plugin.location,))]


def module_path(plugins: Iterable[_PluginLike], modes: Mapping[str, str], default_mode: str = "auto") -> ModulePath:
    """The roots plugin scripts import from, in order: ``ext/`` first, then ``plugins`` in their (discovery)
    order (every root of a plugin repository), each with its plugin's translation mode (``modes[name]``, else
    ``default_mode``); a root listed twice is kept at its first place."""
    ordered = sorted(plugins, key=lambda plugin: str(getattr(plugin.origin, "value", plugin.origin)) != "ext")
    seen: set[str] = set()
    roots: list[tuple[str, str]] = []
    for plugin in ordered:
        for location in plugin_roots(plugin):
            if location not in seen:
                seen.add(location)
                roots.append((location, modes.get(plugin.name, default_mode)))
    return tuple(roots)


class Root:
    """One root of the module path: reads files by ``/``-separated relative path."""

    def __init__(self, location: str, translate_mode: str) -> None:
        self.location = location
        self.translate = translate_mode

    def has_file(self, relative: str) -> bool:
        """True when ``relative`` is a file of this root."""
        raise NotImplementedError

    def has_dir(self, relative: str) -> bool:
        """True when ``relative`` is a folder of this root."""
        raise NotImplementedError

    def read(self, relative: str) -> bytes:
        """The bytes of the file at ``relative``."""
        raise NotImplementedError

    def display(self, relative: str) -> str:
        """The path shown in tracebacks and messages for ``relative`` (the same as the scripts' own)."""
        raise NotImplementedError

    def read_text(self, relative: str) -> str:
        """The text of the file at ``relative``: UTF-8, else Latin-1 (old Jython files), as scripts are read."""
        data = self.read(relative)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


class FolderRoot(Root):
    """A plugin folder (or ``ext/``)."""

    def _path(self, relative: str) -> str:
        return os.path.join(self.location, *relative.split("/"))

    def has_file(self, relative: str) -> bool:
        return os.path.isfile(self._path(relative))

    def has_dir(self, relative: str) -> bool:
        return os.path.isdir(self._path(relative))

    def read(self, relative: str) -> bytes:
        with open(self._path(relative), "rb") as file:
            return file.read()

    def display(self, relative: str) -> str:
        return self._path(relative)


class ArchiveRoot(Root):
    """A plugin ``.jar``/``.zip``; display paths read ``/abs/plugin.jar!/teamcity/client.py``."""

    def __init__(self, location: str, translate_mode: str) -> None:
        super().__init__(location, translate_mode)
        self._key: tuple[int, int] | None = None
        self._files: frozenset[str] = frozenset()
        self._dirs: frozenset[str] = frozenset()

    def _names(self) -> tuple[frozenset[str], frozenset[str]]:
        try:
            stat = os.stat(self.location)
        except OSError:
            return frozenset(), frozenset()
        key = (stat.st_mtime_ns, stat.st_size)
        if key != self._key:
            try:
                with zipfile.ZipFile(self.location) as archive:
                    names = archive.namelist()
            except (zipfile.BadZipFile, OSError):
                names = []
            files = frozenset(n for n in names if not n.endswith("/"))
            dirs = {n.rstrip("/") for n in names if n.endswith("/")}
            dirs.update(n.rsplit("/", depth)[0] for n in files for depth in range(1, n.count("/") + 1))
            self._key, self._files, self._dirs = key, files, frozenset(dirs)
        return self._files, self._dirs

    def has_file(self, relative: str) -> bool:
        return relative in self._names()[0]

    def has_dir(self, relative: str) -> bool:
        return relative in self._names()[1]

    def read(self, relative: str) -> bytes:
        with zipfile.ZipFile(self.location) as archive:
            return archive.read(relative)

    def display(self, relative: str) -> str:
        return f"{self.location}!/{relative}"


def open_root(location: str, translate_mode: str = "auto") -> Root:
    """The root at ``location``: an archive when it is a ``.jar``/``.zip`` file, else a folder."""
    if location.lower().endswith(ARCHIVE_SUFFIXES) and os.path.isfile(location):
        return ArchiveRoot(location, translate_mode)
    return FolderRoot(location, translate_mode)


@dataclass(frozen=True)
class ModuleFile:
    """Where a plugin module was found: its root, its relative file and folder (``teamcity``) and whether it is
    a package."""

    root: Root
    file: str
    folder: str
    package: bool

    @property
    def display(self) -> str:
        """The module's display path."""
        return self.root.display(self.file)


def locate(roots: Iterable[Root], relative: str) -> ModuleFile | None:
    """The first module at ``relative`` (``teamcity/client``) in ``roots``: ``relative/__init__.py`` before
    ``relative.py`` in each root, as Jython looks; ``None`` when no root has it."""
    for root in roots:
        found = locate_in(root, relative)
        if found is not None:
            return found
    return None


def locate_in(root: Root, relative: str) -> ModuleFile | None:
    """The module at ``relative`` in ``root`` (a package first), or ``None``."""
    init = f"{relative}/__init__.py"
    if root.has_file(init):
        return ModuleFile(root, init, relative, True)
    if root.has_file(f"{relative}.py"):
        return ModuleFile(root, f"{relative}.py", relative.rpartition("/")[0], False)
    return None


def not_a_package(root: Root, relative: str, name: str) -> str:
    """The message for a folder without ``__init__.py`` that a script imports as a package."""
    return (
        f"No module named {name!r}: {root.display(relative)} is a folder without __init__.py, which Jython 2.7 "
        "(and so XL Release) does not import as a package; add an empty __init__.py to it"
    )


def compile_source(source: str, filename: str, mode: str) -> tuple[CodeType, list[str], list[str]]:
    """``source`` translated (``mode``: auto, on, off) and compiled under ``filename``: the code, the author's
    lines and the compiled lines. The author's lines go to ``linecache`` (tracebacks show them). Python's
    warnings about the text (``SyntaxWarning: "is" with a literal``) are not shown: Jython has none of them.

    Raises ``SyntaxError`` located in ``filename`` when it does not compile, as Python 3 nor after translation.
    """
    shown = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, shown, filename)
    try:
        translated = translate.to_python3(source, filename, mode)
    except ScriptSyntaxError as exc:
        raise syntax_error(exc, shown) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        code = compile(translated, filename, "exec", dont_inherit=True)
    return code, shown, translated.splitlines(keepends=True)


def syntax_error(exc: ScriptSyntaxError, lines: list[str]) -> SyntaxError:
    """A ``SyntaxError`` at the place ``exc`` names, showing the author's line."""
    text = lines[exc.line - 1] if exc.line and 0 < exc.line <= len(lines) else None
    return SyntaxError(exc.detail, (exc.path, exc.line, None, text))


@dataclass(frozen=True)
class _State:
    """What the loader needs for one module (``ModuleSpec.loader_state``)."""

    found: ModuleFile
    mode: str


class PluginModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads plugin modules from the current module path (see the module docstring)."""

    def __init__(self) -> None:
        self._path: ModulePath = ()
        self._given: object = ()
        self._roots: list[Root] = []
        self._lock = threading.RLock()
        #: display path -> (the author's lines, the compiled lines) of every module loaded, for tracebacks.
        self.loaded_files: dict[str, tuple[list[str], list[str]]] = {}
        self._siblings: dict[tuple[str, str], bool] = {}

    @property
    def roots(self) -> list[Root]:
        """The roots of the current module path."""
        return self._roots

    def use(self, path: ModulePath) -> None:
        """Serve ``path`` from now on; when it changed, the modules loaded from the previous one are forgotten.
        (Every run calls this: a worker's decoder hands every run of an engine the same tuple, checked first.)"""
        if path is self._given:
            return
        normalized: ModulePath = tuple((str(location), str(mode)) for location, mode in path)
        with self._lock:
            if normalized != self._path:
                self.forget()
                self._path = normalized
                self._roots = [open_root(location, mode) for location, mode in normalized]
            self._given = path

    def forget(self) -> None:
        """Drop every module this finder loaded from ``sys.modules``."""
        for name, module in list(sys.modules.items()):
            spec = getattr(module, "__spec__", None)
            if spec is not None and spec.loader is self:
                sys.modules.pop(name, None)
        self._siblings.clear()

    # -- finding -----------------------------------------------------------------------------------------------

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        roots = self._roots
        if not roots:
            return None
        parent_name, _, name = fullname.rpartition(".")
        if parent_name:
            state = _state_of(sys.modules.get(parent_name))
            if state is None:
                return None
            folder = state.found.folder if state.found.package else None
            if folder is None:
                return None
            candidates = [(state.found.root, f"{folder}/{name}")]
        else:
            if fullname in sys.stdlib_module_names or fullname in sys.builtin_module_names:
                return None
            candidates = [(root, name) for root in roots]
        for root, relative in candidates:
            found = locate_in(root, relative)
            if found is not None:
                return self._spec(fullname, found)
        for root, relative in candidates:
            if root.has_dir(relative) and (parent_name or importlib.machinery.PathFinder.find_spec(fullname) is None):
                raise ModuleNotFoundError(not_a_package(root, relative, fullname), name=fullname)
        return None

    def _spec(self, fullname: str, found: ModuleFile) -> importlib.machinery.ModuleSpec:
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=found.display, is_package=found.package)
        if found.package:
            spec.submodule_search_locations = [found.root.display(found.folder)]
        spec.has_location = True
        spec.loader_state = _State(found, found.root.translate)
        return spec

    def has_sibling(self, package: str, name: str) -> bool:
        """True when the plugin package ``package`` has a module ``name`` (implicit relative imports)."""
        key = (package, name)
        known = self._siblings.get(key)
        if known is None:
            if sys.modules.get(f"{package}.{name}") is not None:
                return True
            state = _state_of(sys.modules.get(package))
            known = (
                state is not None
                and state.found.package
                and locate_in(state.found.root, f"{state.found.folder}/{name}") is not None
            )
            self._siblings[key] = known
        return known

    # -- loading -----------------------------------------------------------------------------------------------

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        spec = module.__spec__
        assert spec is not None and isinstance(spec.loader_state, _State)
        found = spec.loader_state.found
        source = found.root.read_text(found.file)
        code, shown, compiled = compile_source(source, found.display, spec.loader_state.mode)
        self.loaded_files[found.display] = (shown, compiled)
        module.__dict__["__builtins__"] = _ABSOLUTE_BUILTINS if _ABSOLUTE_IMPORT.search(source) else _PY2_BUILTINS
        exec(code, module.__dict__)

    def get_source(self, fullname: str) -> str | None:
        """The author's text of a loaded module (``linecache`` and ``inspect`` ask for it)."""
        state = _state_of(sys.modules.get(fullname))
        return None if state is None else state.found.root.read_text(state.found.file)

    def is_package(self, fullname: str) -> bool:
        state = _state_of(sys.modules.get(fullname))
        return state is not None and state.found.package


def _state_of(module: object) -> _State | None:
    spec = getattr(module, "__spec__", None)
    state = getattr(spec, "loader_state", None)
    return state if isinstance(state, _State) and spec.loader is FINDER else None


FINDER = PluginModuleFinder()

_import = builtins.__import__


def _py2_import(
    name: str,
    globals: Mapping[str, Any] | None = None,  # __import__'s own parameter names
    locals: Mapping[str, Any] | None = None,
    fromlist: Any = (),
    level: int = 0,
) -> types.ModuleType:
    """``__import__`` of plugin modules: inside a package, ``import x`` finds the sibling ``package.x`` first."""
    if level == 0 and globals is not None:
        package = globals.get("__package__")
        if package and FINDER.has_sibling(package, name.partition(".")[0]):
            return _import(name, globals, locals, fromlist, 1)
    return _import(name, globals, locals, fromlist, level)


#: The built-ins of a plugin module: Python's, the Python 2 ones and the translation's helpers.
_ABSOLUTE_BUILTINS: dict[str, Any] = {**vars(builtins), **PY2_GLOBALS, **TRANSLATION_GLOBALS}
_PY2_BUILTINS: dict[str, Any] = {**_ABSOLUTE_BUILTINS, "__import__": _py2_import}


def module_builtin_names() -> frozenset[str]:
    """The names a plugin module finds as built-ins beyond Python's (``reduce``, ``_xlr_py2_div`` …)."""
    return frozenset(PY2_GLOBALS) | frozenset(TRANSLATION_GLOBALS)


def install() -> None:
    """Put the finder on ``sys.meta_path``, before the standard path finder (idempotent)."""
    if FINDER in sys.meta_path:
        return
    index = next(
        (i for i, finder in enumerate(sys.meta_path) if finder is importlib.machinery.PathFinder), len(sys.meta_path)
    )
    sys.meta_path.insert(index, FINDER)


def install_in_worker() -> None:
    """:func:`install`, and take the working folder off ``sys.path`` (``python -m`` puts it first): a worker
    imports plugin modules from the plugin roots, never from wherever the runtime was started."""
    install()
    if sys.path and (sys.path[0] == "" or os.path.abspath(sys.path[0]) == os.getcwd()):
        del sys.path[0]


def activate(path: ModulePath) -> None:
    """Serve ``path`` to the script about to run in this process (installs the finder when needed)."""
    install()
    FINDER.use(path)


def translated_lines(filename: str) -> tuple[list[str], list[str]] | None:
    """The author's and the compiled lines of the plugin module at ``filename``, or ``None``."""
    return FINDER.loaded_files.get(filename)

"""Plugin sources: where synthetic.xml files and plugin scripts are read from, and in which order.

A plugin is a folder, or a ``.jar``/``.zip`` archive, with ``synthetic.xml`` at its root and scripts at paths
relative to that root (XL Release's layout). A single ``*.xml`` file is also accepted: it is read as the
plugin's synthetic.xml and its folder is the plugin root. A plugin's source repository (Maven or Gradle:
``src/main/resources/synthetic.xml``, scripts there and optionally in ``src/main/jython/``) is accepted as the
plugin its build would package: both folders are roots of one plugin, named after the repository.

Discovery order (:func:`discover_plugins`), which is also the order of type-modifications (scripts are looked up
in another order, :attr:`registry.TypeRegistry.classpath`: ext, the plugins you add, then the shipped ones):

1. base types: every ``*.xml`` in :func:`resources.base_types_dir` (one plugin named ``base``, whose folder
   also holds built-in scripts such as ``configuration/HttpConnectionCheck.py``), then the files of the
   ``xlr_base_type_files`` hook;
2. bundled plugins: each sub-folder or archive of :func:`resources.bundled_plugins_dir`;
3. the ``xlr_plugin_paths`` hook;
4. ``--plugins`` paths, else ``XLR_PLUGIN_PATH`` (``os.pathsep``-separated); each path is a plugin itself or
   a folder of plugins;
5. the home's ``plugins/`` folder (a folder of plugins);
6. the home's ``ext/`` folder, which is ONE classpath root as in XL Release: an optional ``ext/synthetic.xml``
   and scripts at ``ext/<prefix>/<Name>.py``. It overrides everything before it (see docs/types.md).

A plugin found twice (same files, symlinks resolved) is loaded once, at its first position.
"""

from __future__ import annotations

import os
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath

import pluggy

from xlr_runtime import resources
from xlr_runtime.errors import PluginError
from xlr_runtime.home import Home

#: Environment variable with extra plugin paths, used when no ``plugin_paths`` are given.
PLUGIN_PATH_ENV = "XLR_PLUGIN_PATH"
#: The file name of a plugin's type definitions.
SYNTHETIC_XML = "synthetic.xml"
#: File suffixes read as plugin archives.
ARCHIVE_SUFFIXES = (".jar", ".zip")
#: Where a Maven/Gradle plugin repository keeps synthetic.xml and scripts, relative to the repository root.
REPOSITORY_RESOURCES = ("src", "main", "resources")
#: Further script folders of such a repository, packaged into the same jar (the Gradle Jython plugin's layout).
REPOSITORY_SCRIPT_ROOTS = (("src", "main", "jython"),)
_SCAN_DEPTH = 2


class Origin(StrEnum):
    """Where a plugin was found; the discovery order of :func:`discover_plugins`."""

    BASE = "base"
    BUNDLED = "bundled"
    HOOK = "hook"
    PATH = "path"
    HOME = "home"
    EXT = "ext"


@dataclass(frozen=True)
class SyntheticDocument:
    """One synthetic.xml of a plugin: its display path and a key that changes when the file changes."""

    display_path: str
    cache_key: tuple[object, ...]
    data_loader: PluginSource = field(repr=False, compare=False)
    relative_path: str = SYNTHETIC_XML

    def read(self) -> bytes:
        """The file's bytes."""
        return self.data_loader.read_document(self)


@dataclass(frozen=True)
class ScriptSource:
    """A script file found in a plugin. ``read()`` reads it afresh, so edits apply without a restart."""

    path: str
    display_path: str
    plugin: str
    source: PluginSource = field(repr=False, compare=False)

    def read(self) -> str:
        """The script's text (UTF-8, falling back to Latin-1 for old Jython files)."""
        data = self.source.read_bytes(self.path)
        if data is None:
            raise PluginError(f"{self.display_path}: script file disappeared")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


class PluginSource(ABC):
    """A plugin root: it lists its synthetic.xml documents and reads files by relative path."""

    def __init__(self, name: str, origin: Origin, location: Path) -> None:
        self.name = name
        self.origin = origin
        self.location = location

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.origin.value}, {str(self.location)!r})"

    @property
    def identity(self) -> tuple[str, ...]:
        """What makes two discoveries the same plugin: its location with symlinks resolved, so a plugin given by a
        symlink and by its real path is one plugin."""
        return (str(self.location.resolve()),)

    @abstractmethod
    def documents(self) -> list[SyntheticDocument]:
        """The synthetic.xml files this plugin contributes, in load order."""

    @abstractmethod
    def read_document(self, document: SyntheticDocument) -> bytes:
        """The bytes of one of :meth:`documents`."""

    @abstractmethod
    def read_bytes(self, path: str) -> bytes | None:
        """The bytes of the file at relative ``path``, or ``None`` when it does not exist."""

    @abstractmethod
    def list_files(self) -> list[str]:
        """Relative paths (``/``-separated) of every file in the plugin, sorted."""

    @abstractmethod
    def display_path(self, path: str) -> str:
        """The path shown in messages and tracebacks for relative ``path``."""

    def script(self, path: str) -> ScriptSource | None:
        """The script at relative ``path`` in this plugin, or ``None``."""
        relative = normalize_relative(path)
        if relative is None or not self.has_file(relative):
            return None
        return ScriptSource(relative, self.display_path(relative), self.name, self)

    @abstractmethod
    def has_file(self, path: str) -> bool:
        """True when relative ``path`` (already normalized) is a file of the plugin."""


class FolderPlugin(PluginSource):
    """A plugin folder; ``synthetic_files`` are its definition files (default ``<root>/synthetic.xml``).

    ``extra_roots`` are further folders whose files belong to the same plugin (a repository's ``src/main/jython``):
    a relative path is looked up in ``root`` first, then in each of them, as one classpath entry would be.
    """

    def __init__(
        self,
        name: str,
        origin: Origin,
        root: Path,
        synthetic_files: Sequence[Path] | None = None,
        *,
        extra_roots: Sequence[Path] = (),
    ) -> None:
        super().__init__(name, origin, root)
        self.root = root
        #: Every folder of the plugin, ``root`` first.
        self.roots: tuple[Path, ...] = (root, *extra_roots)
        default = root / SYNTHETIC_XML
        self.synthetic_files = (
            tuple(synthetic_files) if synthetic_files is not None else ((default,) if default.is_file() else ())
        )

    @property
    def identity(self) -> tuple[str, ...]:
        """Its folders and definition files, symlinks resolved (``synthetic/*.xml`` files share one folder)."""
        return (*(str(root.resolve()) for root in self.roots), *(str(f.resolve()) for f in self.synthetic_files))

    def documents(self) -> list[SyntheticDocument]:
        documents = []
        for file in self.synthetic_files:
            stat = file.stat()
            documents.append(
                SyntheticDocument(str(file.absolute()), (str(file), stat.st_mtime_ns, stat.st_size), self, file.name)
            )
        return documents

    def read_document(self, document: SyntheticDocument) -> bytes:
        return Path(document.display_path).read_bytes()

    def _file(self, path: str) -> Path:
        parts = PurePosixPath(path).parts
        if len(self.roots) > 1:
            for root in self.roots:
                if (candidate := root.joinpath(*parts)).is_file():
                    return candidate
        return self.root.joinpath(*parts)

    def has_file(self, path: str) -> bool:
        return self._file(path).is_file()

    def read_bytes(self, path: str) -> bytes | None:
        relative = normalize_relative(path)
        if relative is None or not self.has_file(relative):
            return None
        return self._file(relative).read_bytes()

    def list_files(self) -> list[str]:
        found: set[str] = set()
        for root in self.roots:
            if root.is_dir():
                found.update(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        return sorted(found)

    def display_path(self, path: str) -> str:
        return str(self._file(path).absolute())


class ArchivePlugin(PluginSource):
    """A plugin packaged as a ``.jar`` or ``.zip``; display paths read ``/abs/plugin.jar!/jenkins/Build.py``."""

    def __init__(self, name: str, origin: Origin, archive: Path) -> None:
        super().__init__(name, origin, archive)
        self.archive = archive
        self._names_key: tuple[int, int] | None = None
        self._names: frozenset[str] = frozenset()

    def _stat_key(self) -> tuple[int, int]:
        stat = self.archive.stat()
        return stat.st_mtime_ns, stat.st_size

    def names(self) -> frozenset[str]:
        """The archive's file names (cached until the archive changes)."""
        key = self._stat_key()
        if key != self._names_key:
            try:
                with zipfile.ZipFile(self.archive) as archive:
                    self._names = frozenset(n for n in archive.namelist() if not n.endswith("/"))
            except (zipfile.BadZipFile, OSError) as exc:
                raise PluginError(f"{self.archive}: not a readable .jar/.zip archive ({exc})") from None
            self._names_key = key
        return self._names

    def documents(self) -> list[SyntheticDocument]:
        if SYNTHETIC_XML not in self.names():
            return []
        return [SyntheticDocument(self.display_path(SYNTHETIC_XML), (str(self.archive), *self._stat_key()), self)]

    def read_document(self, document: SyntheticDocument) -> bytes:
        data = self.read_bytes(document.relative_path)
        if data is None:
            raise PluginError(f"{document.display_path}: missing from the archive")
        return data

    def has_file(self, path: str) -> bool:
        return path in self.names()

    def read_bytes(self, path: str) -> bytes | None:
        relative = normalize_relative(path)
        if relative is None or not self.has_file(relative):
            return None
        with zipfile.ZipFile(self.archive) as archive:
            return archive.read(relative)

    def list_files(self) -> list[str]:
        return sorted(self.names())

    def display_path(self, path: str) -> str:
        return f"{self.archive.absolute()}!/{path}"


def normalize_relative(path: str) -> str | None:
    """``jenkins/Build.py`` for ``/jenkins//Build.py``; ``None`` for paths that leave the plugin root."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def open_plugin(path: Path, origin: Origin) -> PluginSource:
    """The plugin at ``path``: an archive, a ``*.xml`` file, or a folder with synthetic.xml at its root.

    Raises :class:`PluginError` when ``path`` is none of these.
    """
    if path.is_file() and path.suffix.lower() in ARCHIVE_SUFFIXES:
        plugin: PluginSource = ArchivePlugin(path.stem, origin, path)
        if not plugin.documents():
            raise PluginError(f"{path}: no {SYNTHETIC_XML} at the archive root")
        return plugin
    if path.is_file() and path.suffix.lower() == ".xml":
        if path.is_symlink():  # the plugin's scripts are beside the file itself, not beside the link
            path = path.resolve()
        repository = _repository_of_resources(path.parent) if path.name == SYNTHETIC_XML else None
        if repository is not None:
            return _repository_plugin(repository, origin)
        return FolderPlugin(_file_plugin_name(path), origin, path.parent, (path,))
    if path.is_dir() and (path / SYNTHETIC_XML).is_file():
        repository = _repository_of_resources(path)
        if repository is not None:
            return _repository_plugin(repository, origin)
        return FolderPlugin(_folder_name(path), origin, path)
    if path.is_dir() and is_plugin_repository(path):
        return _repository_plugin(path, origin)
    raise PluginError(
        f"{path}: not a plugin (expected a folder with {SYNTHETIC_XML}, a plugin repository with "
        f"{'/'.join(REPOSITORY_RESOURCES)}/{SYNTHETIC_XML}, a .jar/.zip or an .xml file)"
    )


def is_plugin_repository(path: Path) -> bool:
    """True for a Maven/Gradle plugin repository: ``src/main/resources/synthetic.xml`` below ``path``."""
    return path.joinpath(*REPOSITORY_RESOURCES, SYNTHETIC_XML).is_file()


def _repository_of_resources(folder: Path) -> Path | None:
    """The repository root when ``folder`` is the ``src/main/resources`` folder of a plugin repository, also
    through a symlink to that folder."""
    for candidate in (Path(os.path.abspath(folder)), folder.resolve()):
        if len(candidate.parts) > len(REPOSITORY_RESOURCES) and candidate.parts[-3:] == REPOSITORY_RESOURCES:
            return candidate.parents[2]
    return None


def _repository_plugin(repository: Path, origin: Origin) -> FolderPlugin:
    """The plugin a repository's build packages: its resources folder, then its script folders, as one plugin
    named after the repository (not ``resources``, so ``[plugins.NAME]`` settings can name it)."""
    resources = repository.joinpath(*REPOSITORY_RESOURCES)
    scripts = [root for root in (repository.joinpath(*parts) for parts in REPOSITORY_SCRIPT_ROOTS) if root.is_dir()]
    return FolderPlugin(_folder_name(repository), origin, resources, extra_roots=scripts)


def _folder_name(path: Path) -> str:
    """The name of the folder ``path`` names, also for ``.`` and ``..``."""
    return Path(os.path.abspath(path)).name


def plugins_at(path: Path, origin: Origin, *, required: bool = True) -> list[PluginSource]:
    """The plugins at ``path``: the path itself when it is a plugin, else the plugins inside the folder.

    Inside a folder, each archive with synthetic.xml, each sub-folder with synthetic.xml and each plugin repository
    (``src/main/resources/synthetic.xml``) is a plugin; other sub-folders are searched one level deeper
    (``plugins/__local__/x.jar``); archives without synthetic.xml are libraries and are skipped. With ``required``,
    a missing path or a folder without plugins raises :class:`PluginError`.
    """
    if not path.exists():
        if required:
            raise PluginError(f"plugin path {path} does not exist")
        return []
    if path.is_file() or (path / SYNTHETIC_XML).is_file() or is_plugin_repository(path):
        return [open_plugin(path, origin)]
    found = _scan_folder(path, origin, _SCAN_DEPTH)
    if required and not found:
        raise PluginError(f"{path}: no plugins found (expected {SYNTHETIC_XML}, .jar or .zip files)")
    return found


def _scan_folder(folder: Path, origin: Origin, depth: int) -> list[PluginSource]:
    found: list[PluginSource] = []
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        if child.name.startswith("."):
            continue
        if child.is_file() and child.suffix.lower() in ARCHIVE_SUFFIXES:
            archive = ArchivePlugin(child.stem, origin, child)
            if archive.documents():
                found.append(archive)
        elif child.is_dir() and ((child / SYNTHETIC_XML).is_file() or is_plugin_repository(child)):
            found.append(open_plugin(child, origin))
        elif child.is_dir() and depth > 1:
            found.extend(_scan_folder(child, origin, depth - 1))
    return found


def _file_plugin_name(path: Path) -> str:
    if path.name == SYNTHETIC_XML:
        return _folder_name(path.parent)
    return path.name.removesuffix(".xml").removesuffix(".synthetic")


def env_plugin_paths() -> list[Path]:
    """The paths in ``XLR_PLUGIN_PATH`` (``os.pathsep``-separated), in order."""
    value = os.environ.get(PLUGIN_PATH_ENV, "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def base_plugins(pm: pluggy.PluginManager) -> list[PluginSource]:
    """The runtime's base types (``synthetic/*.xml``) and the ``xlr_base_type_files`` hook's files."""
    folder = resources.base_types_dir()
    plugins: list[PluginSource] = [FolderPlugin("base", Origin.BASE, folder, sorted(folder.glob("*.xml")))]
    for path in _flatten(pm.hook.xlr_base_type_files()):
        if not path.is_file():
            raise PluginError(f"base type file {path} (from the xlr_base_type_files hook) does not exist")
        plugins.append(FolderPlugin(_file_plugin_name(path), Origin.BASE, path.parent, (path,)))
    return plugins


def discover_plugins(
    *,
    plugin_paths: Sequence[Path] = (),
    home: Home | None = None,
    pm: pluggy.PluginManager,
    include_bundled: bool = True,
) -> list[PluginSource]:
    """Every plugin source in load order (see the module docstring); duplicates are dropped."""
    plugins = base_plugins(pm)
    if include_bundled:
        plugins += plugins_at(resources.bundled_plugins_dir(), Origin.BUNDLED, required=False)
    for path in _flatten(pm.hook.xlr_plugin_paths()):
        plugins += plugins_at(path, Origin.HOOK)
    for path in plugin_paths or env_plugin_paths():
        plugins += plugins_at(Path(path).expanduser(), Origin.PATH)
    if home is not None:
        plugins += plugins_at(home.plugins_dir, Origin.HOME, required=False)
        if home.ext_dir.is_dir():
            plugins.append(FolderPlugin("ext", Origin.EXT, home.ext_dir))
    return dedupe(plugins)


def dedupe(plugins: Iterable[PluginSource]) -> list[PluginSource]:
    """``plugins`` without repeats of the same plugin, keeping the first."""
    seen: set[tuple[str, ...]] = set()
    unique = []
    for plugin in plugins:
        if plugin.identity not in seen:
            seen.add(plugin.identity)
            unique.append(plugin)
    return unique


def _flatten(results: Iterable[Iterable[Path | str] | None]) -> list[Path]:
    return [Path(item).expanduser() for result in results for item in (result or ())]

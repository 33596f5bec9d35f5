"""``xlr package DIR``: build the ``.jar`` XL Release installs from a plugin folder.

The archive holds the plugin's resources at its root, as XL Release's classloader reads them: ``synthetic.xml``,
the scripts and any other resource file (icons, templates), plus a ``META-INF/MANIFEST.MF``. Left out: ``tests/``,
hidden files and folders, ``__pycache__`` and compiled files, and at the root ``README*``, ``pyproject.toml`` and
``.jar``/``.zip`` files (earlier builds). A Maven/Gradle plugin repository packages ``src/main/resources`` and
``src/main/jython``, as its build does.

The archive is deterministic: entries sorted, every timestamp 1980-01-01 00:00, every mode 0644; the same folder
gives the same bytes. A plugin that ``xlr check`` fails is refused.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import click

from xlr_runtime.cli.options import CliContext, runtime_options
from xlr_runtime.typesystem.check import check_plugins
from xlr_runtime.typesystem.sources import ARCHIVE_SUFFIXES, FolderPlugin, Origin, open_plugin

MANIFEST = "META-INF/MANIFEST.MF"
MANIFEST_TEXT = "Manifest-Version: 1.0\r\nCreated-By: xlr-runtime\r\n\r\n"
#: ZIP's earliest representable time: no build time leaks into the archive.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: Left out at the root of the plugin: files of the plugin's project, not of the plugin.
_ROOT_EXCLUDED_NAMES = frozenset({"tests", "pyproject.toml"})


def plugin_files(plugin: FolderPlugin, *, skip: Path | None = None) -> dict[str, Path]:
    """The files of ``plugin`` that go into its archive: archive path -> file (the first root's file wins)."""
    skipped = skip.resolve() if skip is not None else None
    files: dict[str, Path] = {}
    for root in plugin.roots:
        if not root.is_dir():
            continue
        for path in _walk(root):
            relative = PurePosixPath(path.relative_to(root).as_posix())
            if _packaged(relative) and path.resolve() != skipped:
                files.setdefault(str(relative), path)
    return dict(sorted(files.items()))


def _walk(root: Path) -> Iterator[Path]:
    """Every file below ``root``, following symlinks but never into a folder twice (no loops)."""
    seen: set[str] = set()
    for folder, folders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            folders[:] = []
            continue
        seen.add(real)
        for name in names:
            path = Path(folder, name)
            if path.is_file():
                yield path


def _packaged(relative: PurePosixPath) -> bool:
    parts = relative.parts
    if any(part.startswith(".") or part == "__pycache__" for part in parts):
        return False
    if relative.suffix in (".pyc", ".pyo"):
        return False
    if parts[0] in _ROOT_EXCLUDED_NAMES:
        return False
    if len(parts) > 1:
        return True
    return not relative.name.upper().startswith("README") and relative.suffix.lower() not in ARCHIVE_SUFFIXES


def write_archive(files: dict[str, Path], out: Path) -> None:
    """Write ``files`` (archive path -> file) and a manifest to ``out``, deterministically, replacing it at once."""
    partial = out.with_name(f".{out.name}.partial")
    with zipfile.ZipFile(partial, "w") as archive:
        _add(archive, MANIFEST, MANIFEST_TEXT.encode())
        for name in sorted(files):
            _add(archive, name, files[name].read_bytes())
    partial.replace(out)


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the mode below means the same on every platform
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


@click.command(name="package")
@click.argument("directory", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The archive to write [default: ./<plugin folder name>.jar].",
)
@runtime_options(read_only=True, home_optional=True)
def package_command(ctx: CliContext, directory: Path, out: Path | None) -> None:
    """Build the .jar XL Release installs from a plugin folder.

    The archive holds synthetic.xml, the scripts and other resource files at its root (not tests/, hidden files,
    __pycache__, README or pyproject.toml), entries sorted and timestamps fixed so the same folder gives the same
    bytes. Refuses (exit 1) a plugin `xlr check` fails; --home and --plugins give the plugins it depends on, as for
    `xlr check`.

    Example: xlr package ./xlr-acme-plugin -o xlr-acme-plugin.jar
    """
    plugin = open_plugin(directory, Origin.PATH)
    if not isinstance(plugin, FolderPlugin) or not plugin.synthetic_files:
        raise click.ClickException(f"{directory}: not a plugin folder (no synthetic.xml at its root)")
    out = out if out is not None else Path(f"{plugin.name}.jar")
    if out.suffix.lower() not in ARCHIVE_SUFFIXES:
        raise click.ClickException(f"{out}: the archive must end in .jar or .zip")
    report = check_plugins(
        [directory], plugin_paths=ctx.plugin_paths, home=ctx.home, settings=ctx.settings, include_bundled=True
    )
    if not report.ok:
        errors = report.errors
        found = "1 problem" if len(errors) == 1 else f"{len(errors)} problems, the first"
        raise click.ClickException(f"not packaged: xlr check finds {found}: {errors[0]} (run: xlr check {directory})")
    files = plugin_files(plugin, skip=out)
    write_archive(files, out)
    click.echo(f"Wrote {out}: {len(files)} files from {directory} (plugin {plugin.name})")

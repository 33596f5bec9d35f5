"""The layers of ``docs/architecture.md`` hold in the code: every module of the package is in one layer of the
table, and none imports a module of a higher layer (imports under ``TYPE_CHECKING`` and inside functions too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import xlr_runtime

PACKAGE = Path(xlr_runtime.__file__).parent
ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def documented_layers() -> dict[str, int]:
    """Each top-level module or folder of the table (``runtime.py``, ``store/``) -> its height (0 = foundation)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    table = text.split("| layer | modules | what it knows |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[2] for line in table.splitlines()[2:]]
    return {name: len(rows) - 1 - height for height, cell in enumerate(rows) for name in re.findall(r"`([^`]+)`", cell)}


def layer_name(path: Path) -> str:
    """The table's name of the top-level module or folder that ``path`` (under the package) belongs to."""
    top = path.relative_to(PACKAGE).parts[0]
    return f"{top}/" if (PACKAGE / top).is_dir() else top


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """The ``xlr_runtime.x`` modules ``path`` imports, with the line of each import."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "xlr_runtime" else [f"xlr_runtime.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.startswith("xlr_runtime.")]
    return found


def module_path(module: str) -> Path:
    """The file or folder of ``xlr_runtime.x.y`` (its top-level part is what the layer table names)."""
    top = module.split(".")[1]
    return PACKAGE / top if (PACKAGE / top).is_dir() else PACKAGE / f"{top}.py"


def package_files() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if path != PACKAGE / "__init__.py"]


def test_every_module_is_in_a_layer_of_the_architecture_page() -> None:
    layers = documented_layers()
    missing = sorted({layer_name(path) for path in package_files()} - set(layers))
    assert not missing, f"not in the layer table of {ARCHITECTURE.name}: {missing}"


def test_no_module_imports_a_higher_layer() -> None:
    layers = documented_layers()
    upward = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in package_files()
        for line, module in imported_modules(path)
        if layers.get(layer_name(module_path(module)), 0) > layers.get(layer_name(path), 0)
    ]
    assert not upward, "\n".join(upward)

"""The schema as an earlier version left it (before a new store area, or before a new step of an area), for the
upgrade tests."""

from __future__ import annotations

import importlib
from pathlib import Path

from xlr_runtime.store import AREA_MODULES, MigrationSet, Store, apply_migrations

NOW = 1_700_000_000.0


def database_without_area(path: Path, area: str) -> None:
    """Create ``path`` with every migration set but ``area``'s, and one project stored (what must survive)."""
    sets: list[MigrationSet] = [importlib.import_module(module).MIGRATIONS for module in AREA_MODULES]
    assert area in {s.name for s in sets}, f"no migration set named {area!r}"
    store = Store(path)
    try:
        apply_migrations(store, [s for s in sets if s.name != area])
        store.execute("INSERT INTO projects (name, created_at) VALUES ('p', ?)", [NOW])
    finally:
        store.close()


def migrations_before(area: str, step: str) -> list[MigrationSet]:
    """Every migration set as the version before ``step`` of ``area`` had them: ``area``'s without that step and
    the steps after it."""
    sets = []
    for module in AREA_MODULES:
        current: MigrationSet = importlib.import_module(module).MIGRATIONS
        names = [s.name for s in current.steps]
        cut = names.index(step) if current.name == area else len(names)
        sets.append(MigrationSet(current.name, current.steps[:cut]))
    return sets

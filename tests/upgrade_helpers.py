"""The schema as the version before a new store area left it, for the upgrade tests of that area."""

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

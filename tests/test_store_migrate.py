"""``xlr store migrate``: the pending steps applied and printed, ``--check`` listing them without applying any,
and a store migrated by a newer xlr-runtime refused by every command with one line naming the steps it does not
know; on both backends."""

from __future__ import annotations

from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.store.opening import connect_store
from xlr_runtime.storeurl import parse_store_url


def xlr(home: Home, store: str, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home.root), "XLR_STORE": store})


def test_migrate_applies_what_check_lists(home: Home, store_url: str) -> None:
    checked = xlr(home, store_url, "store", "migrate", "--check")
    assert checked.exit_code == 1
    pending = [line.strip() for line in checked.output.splitlines()[1:]]
    assert "tasks/create tasks, script_runs, task_log" in pending and "tokens/create api_tokens" in pending
    with connect_store(home, parse_store_url(store_url)) as store:
        assert checked.output.splitlines()[0] == f"{store.location}: {len(pending)} pending migration step(s):"
        assert store.row_counts() == {"_migrations": 0}  # --check applied nothing
    applied = xlr(home, store_url, "store", "migrate")
    assert applied.exit_code == 0, applied.output
    assert applied.output.splitlines()[:-1] == [f"applied {name}" for name in pending]
    again = xlr(home, store_url, "store", "migrate", "--check")
    assert (again.exit_code, again.output.endswith(": the schema is up to date.\n")) == (0, True)


def test_a_store_of_a_newer_version_is_refused_naming_its_unknown_steps(home: Home, store_url: str) -> None:
    assert xlr(home, store_url, "store", "migrate").exit_code == 0
    with connect_store(home, parse_store_url(store_url)) as store:
        for step in ("from the future", "and beyond"):
            store.execute("INSERT INTO _migrations (migration_set, name, applied_at) VALUES ('tasks', ?, 0)", [step])
        location = store.location
    expected = (
        f"Error: {location}: migrations tasks/and beyond, tasks/from the future are not known to this xlr-runtime "
        "(the database was written by a newer version)\n"
        "Hint: Upgrade xlr-runtime (or restore the backup taken before the upgrade, or use another --home).\n"
    )
    for args in (("tasks",), ("store", "migrate"), ("store", "migrate", "--check")):
        refused = xlr(home, store_url, *args)
        assert (refused.exit_code, refused.output) == (1, expected), args

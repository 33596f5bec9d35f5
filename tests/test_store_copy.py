"""``xlr store copy``: a populated SQLite home's store copied into PostgreSQL and back into a new SQLite file, the
same rows (counts and checksums) and the same listings on every copy; a copy that cannot be made leaves its target
as it was; and ``xlr store migrate`` (``--check``, a store of a newer version refused)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
from click.testing import CliRunner, Result

from tests.postgres_helpers import PostgresServer, free_port
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.rundeck.schedules.schedules import ScheduleService
from xlr_runtime.runtime import HomeLock
from xlr_runtime.store import Store
from xlr_runtime.store.copying import ordered_tables, table_digest
from xlr_runtime.store.opening import open_store_url
from xlr_runtime.storeurl import parse_store_url

if TYPE_CHECKING:
    from xlr_runtime.rundeck.run.execution import ExecutionService

DEMO = str(Path(__file__).parent / "data" / "plugins" / "demo")

JOBS = """<joblist><job><name>greet</name><group>demo</group><description/>
<context><options><option name='who' value='world'/>
<option name='pw' secure='true' valueExposed='true'/></options></context>
<sequence><command><exec>echo hello ${option.who}</exec></command></sequence></job>
<job><name>nightly</name><description/><schedule crontab='0 0 12 * * ?'/>
<sequence><command><exec>echo night</exec></command></sequence></job>
</joblist>"""

#: What each copy must show as the source did: (command line, whether it prints JSON).
LISTINGS = (
    ("tasks", "--json", "--all"),
    ("task", "show", "1", "--json"),
    ("task", "log", "1"),
    ("jobs", "list", "-p", "P", "--json"),
    ("executions", "--json", "--all"),
    ("execution", "show", "1", "--json"),
    ("keys", "list", "--json"),
    ("keys", "show", "keys/project/P/db", "--json"),
    ("token", "list", "--json"),
    ("schedules", "-p", "P"),
)


def xlr(home: Home, *args: str, store: str | None = None, stdin: str | None = None) -> Result:
    env = {"XLR_HOME": str(home.root), **({"XLR_STORE": store} if store else {})}
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


@pytest.fixture(scope="module")
def populated_once(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A home whose SQLite store holds tasks with runs and logs, jobs with a schedule, an execution with a sealed
    secure option and its log, a sealed password in key storage and an API token (made once: it takes seconds)."""
    folder = tmp_path_factory.mktemp("populated")
    home = Home(folder / "home").ensure()
    jobs = folder / "jobs.xml"
    jobs.write_text(JOBS)
    for args, stdin in (
        (("jobs", "load", "-p", "P", "-f", str(jobs)), None),
        (("jobs", "run", "-p", "P", "-j", "demo/greet", "--", "-pw", "s3cret"), None),
        (("run", "demo.Counter", "-i", "polls=2", "-i", "interval=1", "--plugins", DEMO), None),
        (("run", "demo.Counter", "-i", "polls=0", "--plugins", DEMO), None),
        (("keys", "add", "keys/project/P/db", "--type", "password", "--stdin"), "hunter2\n"),
        (("token", "create", "ci"), None),
    ):
        result = xlr(home, *args, stdin=stdin)
        assert result.exit_code == 0, result.output
    with Store.open(home.database) as store:  # what xlr serve plans at its start
        assert len(ScheduleService(store, cast("ExecutionService", None)).sync()) == 2
    return home


@pytest.fixture
def populated(populated_once: Home, tmp_path: Path) -> Home:
    """A copy of the populated home of its own for each test (no process has its store open)."""
    return Home(Path(shutil.copytree(populated_once.root, tmp_path / "home")))


def digests(home: Home, url: str) -> dict[str, tuple[int, str]]:
    with open_store_url(home, parse_store_url(url)) as store:
        return {table.name: table_digest(store, table) for table in ordered_tables(store)}


def listings(home: Home, url: str) -> list[str]:
    shown = []
    for args in LISTINGS:
        result = xlr(home, *args, store=url)
        assert result.exit_code == 0, (args, result.output)
        shown.append(result.output)
    return shown


def test_a_home_goes_to_postgresql_and_back_with_every_row(
    populated: Home, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    source = f"sqlite:///{populated.database}"
    postgres = postgres_server.new_store_url()
    back = f"sqlite:///{tmp_path / 'back.db'}"
    original = digests(populated, source)
    filled = ("tasks", "script_runs", "task_log", "executions", "execution_log", "jobs", "job_schedules", "keys")
    assert all(original[name][0] > 0 for name in (*filled, "api_tokens")), original

    there = xlr(populated, "store", "copy", "--to", postgres)
    assert there.exit_code == 0, there.output
    assert there.output.startswith("TABLE"), there.output
    assert "MISMATCH" not in there.output and "row counts and checksums match" in there.output
    keyless = xlr(populated, "store", "copy", "--to", back, store=postgres)
    key, beside = populated.root / "secret.key", tmp_path / "secret.key"  # an SQLite file's key is beside it
    assert (keyless.exit_code, keyless.output) == (1, (
        f"Error: {beside}: not the secret key of the source ({key}), which the copied sealed values need\n"
        f"Hint: Copy {key} to {beside} (mode 0600) first.\n"
    ))  # fmt: skip
    shutil.copyfile(key, beside)
    again = xlr(populated, "store", "copy", "--to", back, store=postgres)
    assert again.exit_code == 0, again.output

    assert digests(populated, postgres) == original
    assert digests(populated, back) == original
    assert listings(populated, postgres) == listings(populated, source)
    assert listings(populated, back) == listings(populated, source)
    new_tasks = [xlr(populated, "run", "demo.Counter", "-i", "polls=0", "--plugins", DEMO, "--json", store=url)
                 for url in (source, postgres, back)]  # fmt: skip
    assert all(result.exit_code == 0 for result in new_tasks), [r.output for r in new_tasks]
    assert len({json.loads(result.stdout)["id"] for result in new_tasks}) == 1  # every copy goes on at the next id


def test_a_target_that_holds_rows_is_refused_and_left_as_it_was(populated: Home) -> None:
    target = f"sqlite:///{populated.root / 'busy.db'}"  # beside the home's key
    assert xlr(populated, "token", "create", "other", store=target).exit_code == 0
    before = digests(populated, target)
    refused = xlr(populated, "store", "copy", "--to", target)
    assert refused.exit_code == 1
    assert refused.output.startswith(f"Error: {populated.root / 'busy.db'}: the target store is not empty (it holds 1 "
                                     "api_tokens); nothing was copied\n"), refused.output  # fmt: skip
    assert digests(populated, target) == before


def test_a_copy_that_fails_half_way_leaves_nothing_in_the_target(populated: Home) -> None:
    path = populated.root / "failing.db"
    with Store.open(path) as store:  # a real failure of the target under the copy, after other tables were written
        store.execute("CREATE TRIGGER refuse BEFORE INSERT ON task_log BEGIN SELECT RAISE(ABORT, 'no room'); END")
    failed = xlr(populated, "store", "copy", "--to", f"sqlite:///{path}")
    assert failed.exit_code != 0
    with Store.open(path) as store:
        assert {name for name, rows in store.row_counts().items() if rows} == {"_migrations", "store_key_check"}


def test_an_unreachable_target_is_one_line_without_the_password(populated: Home) -> None:
    url = f"postgresql://xlr:pa55word@127.0.0.1:{free_port()}/xlr"
    result = xlr(populated, "store", "copy", "--to", url)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: postgresql://xlr:***@127.0.0.1:{url.split(':')[3]}: cannot connect: ")
    assert "pa55word" not in result.output


def test_the_store_of_a_served_home_is_not_copied(populated: Home, tmp_path: Path) -> None:
    lock = HomeLock(populated)
    lock.acquire("xlr serve")
    try:
        result = xlr(populated, "store", "copy", "--to", f"sqlite:///{tmp_path / 'copy.db'}")
    finally:
        lock.release()
    assert result.exit_code == 1
    assert "xlr serve" in result.output and "cannot be copied while it is written" in result.output
    assert not (tmp_path / "copy.db").exists()


def test_the_store_is_not_copied_onto_itself(populated: Home) -> None:
    result = xlr(populated, "store", "copy", "--to", f"sqlite:///{populated.database}")
    assert result.exit_code == 1
    assert result.output == f"Error: sqlite:///{populated.database}: the target is the store being copied\n"


def test_a_copy_that_differs_from_its_source_is_shown_and_not_kept(populated: Home) -> None:
    path = populated.root / "altering.db"
    with Store.open(path) as store:  # a target that changes what it is given: the checksum must catch it
        store.execute("CREATE TRIGGER alter_name AFTER INSERT ON api_tokens BEGIN "
                      "UPDATE api_tokens SET name = 'altered' WHERE id = NEW.id; END")  # fmt: skip
    result = xlr(populated, "store", "copy", "--to", f"sqlite:///{path}")
    assert result.exit_code == 1
    [mismatch] = [line for line in result.output.splitlines() if "MISMATCH" in line]
    assert mismatch.startswith("api_tokens ") and result.output.count("  ok\n") == len(result.output.splitlines()) - 3
    assert result.output.endswith(
        f"Error: {path}: the copy does not match the source in api_tokens; nothing was kept\n"
    )
    with Store.open(path) as store:
        assert {name for name, rows in store.row_counts().items() if rows} == {"_migrations", "store_key_check"}

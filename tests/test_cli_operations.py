"""Operator tooling through the CLI: `xlr config`, missing homes and bad settings in read-only commands,
`plugins.path`, `xlr prune` and `xlr backup` (while a real `xlr serve` writes), and pruning by a running server."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from history_helpers import DAY, ended_task, execution
from serve_helpers import Serve, wait_for
from task_helpers import DEMO_PLUGIN

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.store import Store, TaskStatus

HOME_HINT = "Hint: Check --home (XLR_HOME); 'xlr run' and 'xlr serve' create a new home.\n"


def xlr(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def write_config(home: Home, text: str) -> None:
    home.config_file.write_text(text, encoding="utf-8")


# -- a missing home, bad settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["tasks"],
        ["task", "show", "1"],
        ["task", "log", "1"],
        ["config"],
        ["executions"],
        ["execution", "log", "1"],
        ["jobs", "list", "-p", "ops"],
        ["schedules", "-p", "ops"],
        ["backup", "copy.db"],
        ["prune", "--keep", "1"],
    ],
)
def test_a_read_command_on_a_missing_home_says_so_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "typo"
    result = xlr(*command, "--home", str(missing))
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {missing}: no such home folder\n{HOME_HINT}"
    assert not missing.exists()


def test_a_bad_setting_is_one_warning_for_read_commands_and_stops_run_and_serve(home: Home) -> None:
    write_config(home, '[settings]\n"workers.size" = 2\n"history.keep" = "a month"\n')
    error = (
        f"{home.config_file}:3: setting 'history.keep': 'a month' is not an age (30d, 12h) or a count (1000); "
        "write an age, a count, or both: '30d,1000'"
    )
    listed = xlr("tasks", "--home", str(home.root))
    assert listed.exit_code == 0, listed.output
    assert (listed.stdout, listed.stderr) == ("No tasks.\n", f"Warning: {error}; using the default settings\n")
    for command in (["run", "demo.Fail"], ["serve"]):
        refused = xlr(*command, "--home", str(home.root), "--plugins", str(DEMO_PLUGIN))
        assert refused.exit_code == 1, refused.output
        assert refused.output == f"Error: {error}\n"


# -- xlr config ------------------------------------------------------------------------------------------------


def test_config_shows_each_value_with_where_it_came_from_and_never_a_secret(home: Home) -> None:
    home.hocon_file.parent.mkdir()
    home.hocon_file.write_text("# polling\nxl.durations.customScriptTaskScheduleInterval = 10 seconds\n")
    write_config(
        home,
        '[ci.x]\ntype = "demo.Server"\nurl = "http://h"\n\n[settings]\n"workers.size" = 3\n'
        '"smtp.password_env" = "XLR_TEST_SMTP"\n'
        'notifications.link_url = "https://bot:s3cret@rundeck.example:8443/r"\n'
        'plugins.path = ["plugins-a"]\n',
    )
    (home.root / "plugins-a").mkdir()
    env = {"XLR_HOME": str(home.root), "XLR_TEST_SMTP": "smtp-secret", "XLR_PLUGIN_PATH": str(DEMO_PLUGIN)}
    result = xlr("config", "--json", env=env)
    assert result.exit_code == 0, result.output
    rows = {row["name"]: (row["value"], row["source"]) for row in json.loads(result.stdout)}
    assert rows["home"] == (str(home.root), "environment variable XLR_HOME")
    assert rows["schedule.default_interval"] == (10.0, "conf/xl-release.conf:2")
    assert rows["workers.size"] == (3, "xlr.toml:6")
    assert rows["smtp.password_env"] == ("XLR_TEST_SMTP (set)", "xlr.toml:7")
    assert rows["notifications.link_url"] == ("https://bot:********@rundeck.example:8443/r", "xlr.toml:8")
    assert rows["plugins.path"] == (
        [str(home.root / "plugins-a"), str(DEMO_PLUGIN)],
        "xlr.toml:9 + environment variable XLR_PLUGIN_PATH",
    )
    assert rows["scripts.timeout"] == (3600.0, "default")
    assert "smtp-secret" not in result.output and "s3cret" not in result.output
    text = xlr("config", "--home", str(home.root), "--plugins", str(DEMO_PLUGIN))
    assert text.exit_code == 0, text.output
    assert "s3cret" not in text.output
    assert [line.split()[-1] for line in text.output.splitlines() if line.startswith("workers.size ")] == ["xlr.toml:6"]
    assert next(line for line in text.output.splitlines() if line.startswith("plugins.path ")).endswith(
        "xlr.toml:9 + command-line option --plugins"
    )


def test_config_of_bad_settings_prints_the_defaults_in_use_and_exits_1(home: Home) -> None:
    write_config(home, '[settings]\n"workers.size" = 0\n')
    result = xlr("config", "--home", str(home.root), "--json")
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"Warning: {home.config_file}:2: setting 'workers.size' must be at least 1; using the default settings\n"
    )
    assert {row["name"]: row["source"] for row in json.loads(result.stdout)}["workers.size"] == "default"


# -- plugins.path ----------------------------------------------------------------------------------------------


def test_plugins_named_in_xlr_toml_serve_every_command_without_plugins(home: Home) -> None:
    relative = os.path.relpath(DEMO_PLUGIN, home.root)
    write_config(
        home, f'[ci.local]\ntype = "demo.Server"\nurl = "http://h"\n\n[settings]\nplugins.path = ["{relative}"]\n'
    )
    ran = xlr("run", "demo.Fail", "-i", "message=no build", "--home", str(home.root))
    assert ran.exit_code == 1 and "Task 1 failed" in ran.stderr, ran.output
    shown = xlr("task", "show", "1", "--home", str(home.root), "--json")
    assert shown.exit_code == 0, shown.output
    assert "type_loaded" not in json.loads(shown.stdout)
    retried = xlr("task", "retry", "1", "--home", str(home.root))
    assert (retried.exit_code, retried.output) == (0, "Task 1 is planned (attempt 2)\n")


def test_without_its_plugin_the_unknown_type_error_says_how_to_load_it(home: Home) -> None:
    write_config(home, '[ci.local]\ntype = "demo.Server"\nurl = "http://h"\n')
    result = xlr("run", "demo.Fail", "--home", str(home.root))
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"Error: {home.config_file}:2: ci 'local': unknown type 'demo.Server'\n"
        "Hint: Load its plugin: name it in plugins.path of xlr.toml's [settings], or give --plugins; "
        "'xlr types' lists the loaded types.\n"
    )


def test_a_missing_plugins_path_entry_is_an_error_naming_it(home: Home) -> None:
    write_config(home, '[settings]\nplugins.path = ["nowhere"]\n')
    result = xlr("run", "demo.Fail", "--home", str(home.root))
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: plugin path {home.root / 'nowhere'} does not exist\n"


# -- xlr prune -------------------------------------------------------------------------------------------------


def seeded(home: Home, tasks: int, *, log_lines: int = 10) -> None:
    now = time.time()
    with Store.open(home.database) as store:
        for n in range(tasks):
            ended_task(store, now - (tasks - n) * DAY, log_lines=log_lines)
        execution(store, now - 40 * DAY)


def test_prune_dry_run_then_prune_with_the_setting(home: Home) -> None:
    seeded(home, 5, log_lines=200)
    write_config(home, '[settings]\n"history.keep" = "30d,2"\n')
    dry = xlr("prune", "--dry-run", "--home", str(home.root))
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[0] == (
        "Would remove 3 task(s) (3 script runs, 600 log lines) and 1 execution(s) (2 log lines, 1 notification "
        "events): ended more than 30d ago or beyond the 2 that ended last."
    )
    pruned = xlr("prune", "--json", "--vacuum", "--home", str(home.root))
    assert pruned.exit_code == 0, pruned.output
    report = json.loads(pruned.stdout)
    assert report["removed"]["tasks"] == 3 and report["removed"]["executions"] == 1
    assert report["after"]["file_bytes"] < report["before"]["file_bytes"]
    with Store.open(home.database) as store:
        assert [t.status for t in store.tasks.list()] == [TaskStatus.COMPLETED] * 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Error: nothing to prune by: give --older-than or --keep, or set history.keep in xlr.toml"),
        (["--older-than", "a week"], "Error: Invalid value for '--older-than': 'a week' is not an age (a whole number "
         "and s, m, h, d or w: 30d, 12h)"),
        (["--keep", "-1"], "Error: Invalid value for '--keep': -1 is not in the range x>=0."),
    ],
)  # fmt: skip
def test_prune_refuses_what_it_cannot_prune_by(home: Home, args: list[str], message: str) -> None:
    result = xlr("prune", *args, "--home", str(home.root))
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == message


# -- a running server: backup while it writes, pruning by history.keep -----------------------------------------


def test_backup_while_serve_writes_is_consistent_and_serve_prunes_by_history_keep(home: Home, tmp_path: Path) -> None:
    seeded(home, 6, log_lines=2)  # ended 6..1 days ago; history.keep keeps the 3 newest
    write_config(home, '[settings]\n"history.keep" = "3"\n')
    with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
        busy = [runtime.create_task("demo.Counter", {"polls": 1000, "interval": "1"}).id for _ in range(20)]
    with Serve(home.root, tmp_path / "serve.log", DEMO_PLUGIN) as server:
        server.wait_ready()
        wait_for(lambda: "history pruned: 3 task(s), 0 execution(s)" in server.output(), 60, server.output)
        with Store.open(home.database) as store:
            wait_for(lambda: all(store.tasks.get(t).status is TaskStatus.IN_PROGRESS for t in busy), 60, server.output)
        copies: list[Path] = []
        run_counts: set[int] = set()
        deadline = time.monotonic() + 60
        while len(run_counts) < 2 and time.monotonic() < deadline:  # until the server wrote between two copies
            copy = tmp_path / f"copy-{len(copies)}.db"
            result = xlr("backup", str(copy), "--home", str(home.root), "--json")
            assert result.exit_code == 0, result.output
            report = json.loads(result.stdout)
            assert report["integrity"] == "ok"
            run_counts.add(report["rows"]["script_runs"])
            copies.append(copy)
        assert len(run_counts) >= 2, f"the server wrote nothing during {len(copies)} backups"
        assert server.alive()
        folder = tmp_path / "backups"
        folder.mkdir()
        stamped = xlr("backup", str(folder), "--home", str(home.root))
        assert stamped.exit_code == 0, stamped.output
        assert len(list(folder.glob("xlr-*.db"))) == 1
        again = xlr("backup", str(copies[0]), "--home", str(home.root))
        assert (again.exit_code, again.output) == (
            1,
            f"Error: {copies[0]}: exists already\nHint: Name a new file, or a folder for a time-stamped one.\n",
        )
    for copy in copies:
        with Store.open(copy) as store:
            assert store.integrity_check() == "ok"
            counts = store.row_counts()
            assert counts["tasks"] == 3 + 20, counts
            # one snapshot: every task in progress has exactly one script run due or running, never 0 or 2
            for task_id in busy:
                runs = store.tasks.runs(task_id)
                assert sum(run.state in ("due", "running") for run in runs) == 1, (copy, task_id, runs)

"""The runtime on a PostgreSQL store, end to end: ``xlr run --store postgresql://…`` of the bundled Jenkins sample
against the Jenkins test server, and ``xlr serve`` (``store.url`` in xlr.toml) running a chained task to its end
and showing it in its HTTP API. Nothing is written to an SQLite file of the home."""

from __future__ import annotations

from pathlib import Path

import requests
from click.testing import CliRunner
from serve_helpers import Serve, wait_for
from task_helpers import DEMO_PLUGIN

from tests.postgres_helpers import PostgresServer
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.settings import load
from xlr_runtime.store import RunState, TaskStatus
from xlr_runtime.store.postgres import PostgresStore
from xlr_runtime.storeurl import parse_store_url
from xlr_runtime.testing.jenkins import JenkinsServer

PASSWORD_ENV = "XLR_TEST_JENKINS_PASSWORD"


def test_xlr_run_of_the_jenkins_sample_keeps_its_task_in_postgresql(
    home: Home, postgres_server: PostgresServer
) -> None:
    url = postgres_server.new_store_url()
    with JenkinsServer(users={"admin": "secret"}, anonymous_read=False, crumbs=True) as jenkins:
        jenkins.add_job("team/app", queue_polls=1, build_polls=1)
        home.config_file.write_text(
            '[settings]\n"workers.size" = 2\n"schedule.default_interval" = 1\n\n'
            f'[ci.jenkins]\ntype = "jenkins.Server"\nurl = "{jenkins.url}"\nusername = "admin"\n'
            f'password = {{ env = "{PASSWORD_ENV}" }}\n'
        )
        args = ["--store", url, "--home", str(home.root), "--ci", "jenkinsServer=jenkins", "-i", "jobName=team/job/app"]
        result = CliRunner().invoke(main, ["run", "jenkins.Build", *args], env={PASSWORD_ENV: "secret"})
    assert result.exit_code == 0, result.output
    assert "buildNumber = '1'\nbuildStatus = 'SUCCESS'\n" in result.stdout
    with PostgresStore.open_url(parse_store_url(url), home=home.root) as store:
        [task] = store.tasks.list()
        runs = store.tasks.runs(task.id)
        assert (task.status, task.status_line) == (TaskStatus.COMPLETED, "Build #1: SUCCESS")
        assert {run.state for run in runs} == {RunState.DONE} and len(runs) >= 3
        assert store.owners.all() == []  # xlr run released its lease
    assert not home.database.exists()


def test_xlr_serve_on_postgresql_runs_a_chained_task_to_its_end(
    home: Home, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.new_store_url()
    home.config_file.write_text(f'[settings]\n"workers.size" = 2\n"store.url" = "{url}"\n')
    with Runtime(home, plugin_paths=[DEMO_PLUGIN], settings=load(home.root)) as runtime:
        task = runtime.create_task("demo.Counter", {"polls": 3, "interval": "1"})
        assert isinstance(runtime.store, PostgresStore)
    with PostgresStore.open_url(parse_store_url(url), home=home.root) as store:
        with Serve(home.root, tmp_path / "serve.log", DEMO_PLUGIN, args=("--http", "127.0.0.1:0")) as server:
            server.wait_ready()
            wait_for(lambda: store.tasks.get(task.id).status.is_final, 60, server.output)
            owners = {run.owner for run in store.tasks.runs(task.id)}
            shown = requests.get(f"{server.api_url()}/tasks/{task.id}", timeout=30)  # the API's own connection
            assert server.stop() == 0, server.output()
        assert shown.status_code == 200, shown.text
        assert (shown.json()["status"], len(shown.json()["runs"])) == ("completed", 4)
        done = store.tasks.get(task.id)
        assert (done.status, done.properties["count"]) == (TaskStatus.COMPLETED, 3), server.output()
        assert [run.seq for run in store.tasks.runs(task.id)] == [1, 2, 3, 4]
        assert len(owners) == 1 and store.owners.all() == []
    assert not home.database.exists()


def test_xlr_serve_carries_on_through_a_postgresql_restart_and_ends_its_task_once(
    home: Home, own_postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = own_postgres_server.new_store_url()
    home.config_file.write_text(f'[settings]\n"workers.size" = 1\n"store.url" = "{url}"\n')
    trace = tmp_path / "trace"
    with Runtime(home, plugin_paths=[DEMO_PLUGIN], settings=load(home.root)) as runtime:
        task = runtime.create_task("demo.Counter", {"polls": 6, "interval": "1", "trace": str(trace)})
    with Serve(home.root, tmp_path / "serve.log", DEMO_PLUGIN) as server:
        server.wait_ready()
        wait_for(lambda: trace.exists() and len(trace.read_text().splitlines()) >= 2, 60, server.output)
        own_postgres_server.stop()  # every connection of the server is cut, a poll falls due meanwhile
        # the scheduler's own line (the NOTIFY listener says "trying again" too, and may notice first)
        wait_for(lambda: "kept in memory, trying again" in server.output(), 30, server.output)
        own_postgres_server.start()
        with PostgresStore.open_url(parse_store_url(url), home=home.root) as store:
            wait_for(lambda: store.tasks.get(task.id).status.is_final, 90, server.output)
            assert server.process.poll() is None, server.output()  # it never gave up
            done = store.tasks.get(task.id)
            runs = store.tasks.runs(task.id)
        assert server.stop() == 0, server.output()
    assert (done.status, done.properties["count"]) == (TaskStatus.COMPLETED, 6), server.output()
    assert [run.seq for run in runs] == list(range(1, 8)) and {run.state for run in runs} == {RunState.DONE}
    # no poll skipped, none run twice: a result that came while the database was down was kept and committed later
    assert [int(line.split()[1]) for line in trace.read_text().splitlines()] == list(range(7))
    assert "the store can be written again" in server.output()

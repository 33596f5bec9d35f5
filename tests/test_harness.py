"""The plugin authors' harness: TaskHarness and the ``xlr_runtime`` pytest plugin's fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.testing.jenkins import JenkinsServer

pytest_plugins = ["pytester"]

DEMO = Path(__file__).parent / "data" / "plugins" / "demo"
TICKETS = Path(__file__).parent / "data" / "plugins" / "tickets"
ENV_CHECK = Path(__file__).parent / "data" / "plugins" / "harness-env"


def pytest_session(folder: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    """A pytest run started in ``folder`` (as an author would type ``pytest`` there), with ``environ`` added."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=folder,
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_fixtures_run_the_bundled_jenkins_build(xlr_harness: TaskHarness, jenkins_server: JenkinsServer) -> None:
    jenkins_server.add_job("app", build_polls=2, queue_polls=1)
    xlr_harness.ci("jenkins", "jenkins.Server", url=jenkins_server.url)
    outcome = xlr_harness.run("jenkins.Build", {"jenkinsServer": "jenkins", "jobName": "app"})
    assert outcome.status == "completed", outcome.log_text
    assert outcome.outputs == {"buildNumber": "1", "buildStatus": "SUCCESS"}, outcome.log_text


def test_polling_chain_runs_on_the_virtual_clock(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[DEMO]) as harness:
        start = harness.clock.now()
        outcome = harness.run("demo.Counter", {"polls": 3})
        assert outcome.status == "completed", outcome.log_text
        assert outcome.outputs["count"] == 3
        assert harness.clock.now() - start >= 3 * 5.0  # three default 5 s polls, none of them waited for


def test_ci_passwords_travel_by_environment_and_never_reach_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ: dict[str, str] = {}
    with TaskHarness(tmp_path / "home", plugin_paths=[DEMO], environ=environ) as harness:
        harness.ci("srv", "demo.Server", url="http://127.0.0.1:1", password="canary-secret-42")
        assert "canary-secret-42" not in harness.home.config_file.read_text()
        assert list(environ.values()) == ["canary-secret-42"]


def test_the_harness_runtime_reads_the_same_environment_as_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLR_HTTP", "127.0.0.1:0")
    with TaskHarness(tmp_path / "home", plugin_paths=[DEMO]) as harness:
        loaded = harness.runtime.settings
        assert (loaded["http.listen"], loaded.origin("http.listen").describe()) == (
            "127.0.0.1:0",
            "environment variable XLR_HTTP",
        )


def test_failed_task_outcome(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[DEMO]) as harness:
        outcome = harness.run("demo.Fail", {"message": "nope"})
    assert outcome.status == "failed"
    assert outcome.failure is not None and "nope" in outcome.failure


def test_plugin_paths_come_from_the_ini_option(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nxlr_plugin_paths =\n    {DEMO}\n")
    pytester.makepyfile(
        """
        def test_counter(xlr_harness):
            outcome = xlr_harness.run("demo.Counter", {"polls": 1})
            assert outcome.status == "completed", outcome.log_text
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("start", ["tickets", ".", "tickets/tests"])
def test_the_plugin_is_found_from_the_test_file_wherever_pytest_starts(tmp_path: Path, start: str) -> None:
    shutil.copytree(TICKETS, tmp_path / "tickets")  # no pytest settings: found by its synthetic.xml
    done = pytest_session(tmp_path / start)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout


def test_without_a_plugin_an_unknown_type_fails_the_test_saying_how_to_point_at_it(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_task.py").write_text(
        "def test_task(xlr_harness):\n    xlr_harness.run('acme.Task', {})\n", encoding="utf-8"
    )
    done = pytest_session(tests)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout, done.stdout
    expected = (
        f"xlr_runtime.errors.PluginError: no plugin under test for {tests / 'test_task.py'}, so type 'acme.Task' "
        "is unknown: no synthetic.xml (nor src/main/resources/synthetic.xml) in the test's folder or above it, no "
        "[tool.xlr] table in a pyproject.toml there, and no xlr_plugin_paths in pytest's settings. Point at the "
        'plugin in the pyproject.toml beside or above your tests: [tool.xlr] plugin_paths = ["path/to/plugin"] '
        "(relative to that file)"
    )
    assert any(line.endswith(expected) for line in done.stdout.splitlines()), done.stdout


def test_a_bad_tool_xlr_table_fails_the_test_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.xlr]\nplugin_paths = "."\n', encoding="utf-8")
    (tmp_path / "test_task.py").write_text("def test_task(xlr_harness):\n    pass\n", encoding="utf-8")
    done = pytest_session(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        f"xlr_harness: {tmp_path / 'pyproject.toml'}: [tool.xlr] plugin_paths must be a non-empty list of paths, "
        "got '.'" in done.stdout.splitlines()
    ), done.stdout


def test_tests_share_workers_and_scripts_see_only_their_own_tests_environment(tmp_path: Path) -> None:
    shutil.copytree(ENV_CHECK, tmp_path / "harness-env")
    pids_file = tmp_path / "pids.txt"
    done = pytest_session(tmp_path, XLR_TEST_PIDS=str(pids_file), XLR_TEST_SESSION_VAR="from-session")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout, done.stdout
    pids = dict(line.split() for line in pids_file.read_text().splitlines())
    shared = {pids["test_a_script_sees_the_session_environment"]}
    shared.add(pids["test_c_script_does_not_see_the_variable_of_another_test"])
    shared.add(pids["test_d_scripts_do_not_see_the_variables_behind_ci_passwords"])
    assert len(shared) <= 2, pids  # one pool of two workers for the tests that see the session's environment
    assert pids["test_b_script_sees_a_variable_its_test_set"] not in shared, pids  # its own environment, own pool


def test_outcome_keeps_every_run_and_each_change_of_the_status_line(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[DEMO]) as harness:
        start = harness.clock.now()
        outcome = harness.run("demo.Counter", {"polls": 3})
    assert outcome.status == "completed", outcome.log_text
    assert [(run.script_path, run.outcome, run.duration) for run in outcome.runs] == [
        ("demo/Counter.py", "succeeded", 0.0)
    ] + [("demo/Counter.next.py", "succeeded", 0.0)] * 3  # the virtual clock does not move while a script runs
    assert [run.id for run in outcome.runs] == sorted({run.id for run in outcome.runs})
    assert [(change.text, change.time - start, change.run_id) for change in outcome.status_lines] == [
        (f"{count}/3", 5.0 * count, run.id) for count, run in enumerate(outcome.runs)
    ]
    assert outcome.traceback is None


def test_failed_outcome_carries_the_traceback_as_the_author_reads_it(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[DEMO]) as harness:
        outcome = harness.run("demo.Fail", {"message": "nope"})
    script = DEMO / "demo" / "Fail.py"
    assert outcome.traceback == (
        f'Traceback (most recent call last):\n  File "{script}", line 2, in <module>\n'
        "    raise Exception(message)\nException: nope\n"
    )
    assert outcome.log_text == f"about to fail\nTask failed: {script}:2: Exception: nope"


@pytest.mark.parametrize("name", ["synthetic.xml", "tickets/WaitForApproval.py", "tests/test_tickets.py"])
def test_the_example_of_docs_testing_md_is_the_tested_tickets_plugin(name: str) -> None:
    docs = (Path(__file__).parent.parent / "docs" / "testing.md").read_text(encoding="utf-8")
    assert f"`{name}`" in docs and f"\n{(TICKETS / name).read_text(encoding='utf-8')}```\n" in docs

"""The plugin authors' harness: TaskHarness and the ``xlr_runtime`` pytest plugin's fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.testing.jenkins import JenkinsServer

pytest_plugins = ["pytester"]

DEMO = Path(__file__).parent / "data" / "plugins" / "demo"


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

"""Run in this order by tests/test_harness.py, with XLR_TEST_PIDS and XLR_TEST_SESSION_VAR set for the session."""

import os


def read(harness, name):
    outcome = harness.run("envcheck.Read", {"name": name})
    assert outcome.status == "completed", outcome.log_text
    with open(os.environ["XLR_TEST_PIDS"], "a") as pids:
        pids.write(f"{os.environ['PYTEST_CURRENT_TEST'].split('::')[1].split()[0]} {outcome.runs[0].worker_pid}\n")
    return outcome.outputs["value"]


def test_a_script_sees_the_session_environment(xlr_harness):
    assert read(xlr_harness, "XLR_TEST_SESSION_VAR") == "from-session"


def test_b_script_sees_a_variable_its_test_set(xlr_harness, monkeypatch):
    monkeypatch.setenv("XLR_TEST_OWN", "mine")
    assert read(xlr_harness, "XLR_TEST_OWN") == "mine"


def test_c_script_does_not_see_the_variable_of_another_test(xlr_harness):
    assert read(xlr_harness, "XLR_TEST_OWN") == "(unset)"


def test_d_scripts_do_not_see_the_variables_behind_ci_passwords(xlr_harness):
    xlr_harness.ci("srv", "envcheck.Server", url="http://127.0.0.1:1", password="s3cret")
    assert os.environ["XLR_HARNESS_CI_SRV_PASSWORD"] == "s3cret"  # where the runtime reads it
    assert read(xlr_harness, "XLR_HARNESS_CI_SRV_PASSWORD") == "(unset)"

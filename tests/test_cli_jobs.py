"""``xlr jobs load|list|delete`` and ``xlr projects`` through the real CLI, on a home in a temporary folder.

The job file loaded and exported is a fixture written in Rundeck's export form (``tests/data/rundeck/jobs``);
the test marked ``corpus`` does the same with a real Rundeck export and skips (one reason) when it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.corpus import corpus
from xlr_runtime.cli import main
from xlr_runtime.home import Home

EXPORT = Path(__file__).parent / "data" / "rundeck" / "jobs" / "export-canonical.xml"
YAML_JOB = "- name: y\n  group: g\n  description: ''\n  sequence:\n    commands:\n    - exec: echo y\n"


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home.root)})


def _load_list_export_delete(
    home: Home, tmp_path: Path, source: Path, uuid: str, full_name: str, listed_as: str
) -> None:
    """Load ``source`` (one job), load it again, list it, export it (byte for byte the file), delete it."""
    loaded = xlr(home, "jobs", "load", "-p", "demo", "--file", str(source))
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output == f"1 created, 0 updated, 0 skipped in project demo\ncreated  {uuid}  {full_name}\n"
    again = xlr(home, "jobs", "load", "-p", "demo", "--file", str(source))
    assert again.output.splitlines()[0] == "0 created, 1 updated, 0 skipped in project demo", again.output

    listed = xlr(home, "jobs", "list", "-p", "demo")
    assert listed.output == f"{listed_as}\n", listed.output

    exported = tmp_path / "out.xml"
    written = xlr(home, "jobs", "list", "-p", "demo", "--file", str(exported))
    assert written.output == f"Wrote 1 job to {exported} (xml)\n", written.output
    assert exported.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")

    deleted = xlr(home, "jobs", "delete", "-p", "demo", "-j", full_name)
    assert deleted.output == f"Deleted {uuid}  {full_name}\n", deleted.output
    assert xlr(home, "jobs", "list", "-p", "demo").output == ""


def test_load_list_export_delete(home: Home, tmp_path: Path) -> None:
    uuid, name = "c0ffee00-aaaa-4bbb-8ccc-000000000042", "pipeline/build/package"
    listed_as = f"{uuid}  {name}  - Build, then hand over to the deploy job."  # as rd jobs list: with the description
    _load_list_export_delete(home, tmp_path, EXPORT, uuid, name, listed_as)


@pytest.mark.corpus
def test_load_list_export_delete_a_rundeck_export(home: Home, tmp_path: Path) -> None:
    uuid = "9b43e4ab-7ff2-4159-9fc7-7437901914f7"
    source = corpus("rundeck", "jobs", f"projects-import__TestJobs__rundeck-TestJobs__jobs__job-{uuid}.xml")
    name = "api-test/job-run-steps/test job"
    _load_list_export_delete(home, tmp_path, source, uuid, name, f"{uuid}  {name}")  # its description is empty


def test_yaml_files_remove_uuids_and_json(home: Home, tmp_path: Path) -> None:
    source = tmp_path / "jobs.yaml"
    source.write_text(YAML_JOB, encoding="utf-8")
    first = xlr(home, "jobs", "load", "-p", "p", "--file", str(source), "--json")
    assert first.exit_code == 0, first.output
    (row,) = json.loads(first.output)
    assert (row["action"], row["group"], row["name"], row["project"]) == ("created", "g", "y", "p")
    skipped = xlr(home, "jobs", "load", "-p", "p", "-f", str(source), "-d", "skip", "--json")
    assert json.loads(skipped.output)[0]["action"] == "skipped"
    created = xlr(home, "jobs", "load", "-p", "p", "-f", str(source), "-d", "create", "-r", "remove", "--json")
    assert json.loads(created.output)[0]["uuid"] != row["uuid"]
    listed = json.loads(xlr(home, "jobs", "list", "-p", "p", "-g", "g", "-j", "y", "--json").output)
    assert len(listed) == 2
    ambiguous = xlr(home, "jobs", "delete", "-p", "p", "-j", "g/y")
    assert ambiguous.exit_code == 1
    assert ambiguous.output.startswith('Error: 2 jobs are called "g/y" in project "p": ')
    assert ambiguous.output.endswith("Hint: Name the job by its uuid (-i).\n")
    assert xlr(home, "jobs", "delete", "-p", "p", "-i", row["uuid"]).exit_code == 0
    printed = xlr(home, "jobs", "list", "-p", "p", "--format", "yaml")
    assert printed.output.startswith("- description: ''\n  executionEnabled: true\n  group: g\n"), printed.output
    projects = xlr(home, "projects", "--json")
    assert json.loads(projects.output) == [{"name": "p", "jobs": 1}]
    assert xlr(home, "projects").output == "p  1 job\n"


def test_a_bad_file_loads_nothing_and_says_why(home: Home, tmp_path: Path) -> None:
    source = tmp_path / "bad.xml"
    source.write_text(
        "<joblist>\n<job><name>ok</name><description/><sequence><command><exec>x</exec></command></sequence></job>\n"
        "<job><name>bad</name><description/><sequence><command><exec>x</exec></command></sequence>\n"
        "<schedule crontab='0 0 12 * * *'/></job>\n</joblist>",
        encoding="utf-8",
    )
    result = xlr(home, "jobs", "load", "-p", "p", "--file", str(source))
    assert result.exit_code == 1
    assert result.output == (
        f'Error: {source}:4: job "bad": invalid schedule "0 0 12 * * *": exactly one of day-of-month and '
        'day-of-week must be "?"\n'
    )
    assert xlr(home, "projects").output == ""


def test_usage_errors(home: Home) -> None:
    missing = xlr(home, "jobs", "list", "-p", "nope")
    assert (missing.exit_code, missing.output) == (
        1,
        'Error: no project "nope"\nHint: Load jobs into it first: xlr jobs load -p …\n',
    )
    both = xlr(home, "jobs", "delete", "-p", "p")
    assert both.exit_code == 2
    assert "give exactly one of -i UUID or -j GROUP/NAME" in both.output


@pytest.mark.parametrize("command", ["load", "list", "delete"])
def test_help_has_an_example(command: str, home: Home) -> None:
    assert "Example: xlr jobs " in xlr(home, "jobs", command, "--help").output


def test_the_group_is_importable_for_other_commands() -> None:
    from xlr_runtime.cli.jobs import jobs_group

    assert set(jobs_group.commands) >= {"load", "list", "delete"}

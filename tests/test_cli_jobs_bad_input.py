"""Bad job files through the real CLI (issue 12): one ``Error:`` line naming the file, line and field, a non-zero
exit, and nothing already stored lost; a stored definition that no longer reads back can still be deleted."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.store import Store

GOOD = "- name: good\n  uuid: u-good\n  description: ''\n  sequence:\n    commands:\n    - exec: echo good\n"


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home.root)})


def _load_good(home: Home, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert xlr(home, "jobs", "load", "-p", "P", "-f", str(good)).exit_code == 0


def _error_line(result: Result) -> str:
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return lines[0]


def test_a_control_character_is_refused_on_load_and_nothing_stored_is_lost(home: Home, tmp_path: Path) -> None:
    _load_good(home, tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("good", "other") + '- name: red\n  description: "red \\e[31m"\n  sequence: {}\n')
    assert _error_line(xlr(home, "jobs", "load", "-p", "P", "-f", str(bad))) == (
        f'Error: {bad}:7: job "red": field "description" holds the control character U+001B, which a job '
        "definition cannot hold (its XML form has no such character): remove it"
    )
    listed = xlr(home, "jobs", "list", "-p", "P")
    assert listed.output == "u-good  good\n", listed.output


def test_non_utf8_yaml_is_one_line(home: Home, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(GOOD.replace("echo good", "echo caf\xe9").encode("latin-1"))
    assert _error_line(xlr(home, "jobs", "load", "-p", "P", "-f", str(bad))) == (
        f"Error: {bad}:6: not UTF-8 text: byte 0xe9 at offset 92 cannot be decoded (save the file as UTF-8)"
    )


def test_a_stored_definition_that_no_longer_reads_is_named_and_can_be_deleted(home: Home, tmp_path: Path) -> None:
    _load_good(home, tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(GOOD.replace("good", "older"))
    assert xlr(home, "jobs", "load", "-p", "P", "-f", str(other)).exit_code == 0
    with Store.open(home.database) as store:  # as an older version could have stored it
        store.execute("UPDATE jobs SET definition = replace(definition, 'echo', 'x' || char(27)) WHERE name = 'older'")
    listed = xlr(home, "jobs", "list", "-p", "P")
    assert listed.exit_code == 1
    assert listed.output.splitlines() == [
        'Error: job "older": the stored definition (P, uuid u-older) cannot be read: invalid XML: PCDATA invalid '
        "Char value 27",
        "Hint: Delete it with 'xlr jobs delete -p P -i u-older' and load it again.",
    ]
    deleted = xlr(home, "jobs", "delete", "-p", "P", "-j", "older")
    assert deleted.output == "Deleted u-older  older\n", deleted.output
    assert xlr(home, "jobs", "list", "-p", "P").output == "u-good  good\n"


def test_a_yaml_export_that_would_not_read_back_is_refused_in_one_line(home: Home, tmp_path: Path) -> None:
    xml = tmp_path / "odd.xml"
    xml.write_text(
        "<joblist><job><name>odd</name><uuid>u-odd</uuid><description/><options>x</options>"
        "<sequence><command><exec>x</exec></command></sequence></job></joblist>"
    )
    assert xlr(home, "jobs", "load", "-p", "P", "-f", str(xml)).exit_code == 0
    out = tmp_path / "out.yaml"
    exported = xlr(home, "jobs", "list", "-p", "P", "-f", str(out))
    assert exported.exit_code == 1
    assert exported.output.splitlines() == [
        'Error: job "odd": cannot be exported as YAML: it would not read back (options must be a map) (its elements '
        "Rundeck does not know: <options>)",
        "Hint: Export it as XML (--format xml), which keeps it as it is.",
    ]
    assert not out.exists()

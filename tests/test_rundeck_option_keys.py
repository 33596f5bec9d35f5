"""A secure option with a ``storagePath`` reads its default from the home's key storage, as Rundeck's
``loadSecureOptionStorageDefaults`` does: a given value wins, ``${option.*}``/``${job.*}`` in the path are
expanded, a required option whose key cannot be read stops the start with one line, an optional one runs
without it and warns in the log. A canary key value is searched for in every output and in the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.rundeck_helpers import Harness, job_xml, stored_bytes
from xlr_runtime.cli import main
from xlr_runtime.errors import OptionValueError
from xlr_runtime.rundeck.jobs.xml_export import dump_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml
from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.store.executions import ExecutionStatus

CANARY = "k3y-st0re-canary"


def secure_option(path: str, *, required: bool = False, value: str = "") -> str:
    extra = (" required='true'" if required else "") + (f" value='{value}'" if value else "")
    return f"<option name='pw' secure='true' valueExposed='true' storagePath='{path}'{extra}/>"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


def test_the_default_comes_from_key_storage_and_never_shows(harness: Harness, tmp_path: Path) -> None:
    KeyStore(harness.store).put("keys/project/P/db", CANARY, "password")
    marker = tmp_path / "seen"
    steps = (
        "<command><exec>echo got ${option.pw}</exec></command>"
        f"<command><exec>echo -n $RD_OPTION_PW &gt; {marker}</exec></command>"
    )
    job = harness.add(job_xml(steps, options=secure_option("keys/project/${job.project}/db")))

    execution = harness.run(job)

    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    assert marker.read_text() == CANARY
    assert harness.output(execution.id) == ["got ********"]
    outputs = [
        json.dumps([e.to_json() for e in harness.store.executions.list()]),
        json.dumps([line.text for line in harness.store.executions.log(execution.id)]),
        dump_jobs_xml([job]),
        dump_jobs_yaml([job]),
    ]
    assert not [text for text in outputs if CANARY in text]
    harness.store.close()
    assert CANARY.encode() not in stored_bytes(harness.root)


def test_a_given_value_wins_and_option_references_in_the_path_are_expanded(harness: Harness, tmp_path: Path) -> None:
    KeyStore(harness.store).put("keys/env/prod/db", CANARY, "password")
    marker = tmp_path / "seen"
    options = "<option name='env'/>" + secure_option("keys/env/${option.env}/db")
    job = harness.add(job_xml(f"<command><exec>echo -n $RD_OPTION_PW &gt; {marker}</exec></command>", options=options))

    from_store = harness.run(job, {"env": "prod"})
    stored = marker.read_text()
    given = harness.run(job, {"env": "prod", "pw": "given"})

    assert (from_store.status, given.status) == (ExecutionStatus.SUCCEEDED, ExecutionStatus.SUCCEEDED)
    assert (stored, marker.read_text()) == (CANARY, "given")


def test_a_required_option_whose_key_is_missing_does_not_start(harness: Harness) -> None:
    job = harness.add(job_xml("<command><exec>true</exec></command>", options=secure_option("keys/a/b", required=True)))

    with pytest.raises(OptionValueError) as caught:
        harness.service.start("P", job, {})

    assert str(caught.value) == (
        "option 'pw' is required and its default could not be read from key storage path keys/a/b: "
        "no key is stored there"
    )
    assert caught.value.hint == "Store it: xlr keys add keys/a/b --type password --prompt"
    assert harness.store.executions.list() == []


def test_a_required_option_whose_entry_is_not_a_password_does_not_start(harness: Harness) -> None:
    KeyStore(harness.store).put("keys/a/id", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + CANARY, "private")
    job = harness.add(
        job_xml("<command><exec>true</exec></command>", options=secure_option("keys/a/id", required=True))
    )

    with pytest.raises(OptionValueError) as caught:
        harness.service.start("P", job, {})

    assert str(caught.value) == (
        "option 'pw' is required and its default could not be read from key storage path keys/a/id: "
        "the entry is a private key, not a password"
    )


def test_an_optional_option_whose_key_is_missing_runs_with_its_value_and_a_warning(harness: Harness) -> None:
    options = secure_option("keys/a/b", value="fallback")
    job = harness.add(job_xml("<command><exec>echo [$RD_OPTION_PW]</exec></command>", options=options))

    execution = harness.run(job)

    assert execution.status == ExecutionStatus.SUCCEEDED
    assert harness.output(execution.id, levels=("WARN",)) == [
        "Option 'pw': its default could not be read from key storage path keys/a/b: no key is stored there"
    ]
    assert harness.output(execution.id) == ["[********]"]


def test_from_the_command_line_a_key_value_never_shows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    job_file = tmp_path / "job.xml"
    marker = tmp_path / "seen"
    steps = (
        "<command><exec>echo got ${option.pw}</exec></command>"
        f"<command><exec>echo -n $RD_OPTION_PW &gt; {marker}</exec></command>"
    )
    job_file.write_text(job_xml(steps, name="deploy", options=secure_option("keys/project/P/db", required=True)))
    runner = CliRunner()

    def xlr(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(main, list(args), env={"XLR_HOME": str(home)}, input=stdin)

    assert xlr("jobs", "load", "-p", "P", "-f", str(job_file)).exit_code == 0
    missing = xlr("jobs", "run", "-p", "P", "-j", "deploy")
    added = xlr("keys", "add", "keys/project/P/db", "--type", "password", "--stdin", stdin=CANARY + "\n")
    ran = xlr("jobs", "run", "-p", "P", "-j", "deploy", "--follow")

    assert missing.exit_code == 1
    assert missing.output == (
        "Error: option 'pw' is required and its default could not be read from key storage path "
        "keys/project/P/db: no key is stored there\nHint: Store it: xlr keys add keys/project/P/db --type password "
        "--prompt\n"
    )
    assert added.exit_code == 0 and ran.exit_code == 0, added.output + ran.output
    assert marker.read_text() == CANARY
    outputs = [
        added.output,
        ran.output,
        xlr("keys", "list", "--json").output,
        xlr("keys", "show", "keys/project/P/db", "--json").output,
        xlr("execution", "log", "1").output,
        xlr("execution", "show", "1", "--json").output,
        xlr("jobs", "list", "-p", "P", "--format", "yaml").output,
    ]
    assert "got ********" in ran.output
    assert not [text for text in outputs if CANARY in text]
    assert CANARY.encode() not in stored_bytes(home)

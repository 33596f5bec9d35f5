"""Job files load, round-trip through XML and YAML, and export in Rundeck's canonical form, byte for byte.

The files are fixtures written for these tests (``tests/data/rundeck/jobs``). The canonical ones
(``*-canonical.xml``) are written the way Rundeck exports a job: no XML declaration, 2-space indent, element and
attribute names in Java ``String`` order, attributes in single quotes, empty elements as ``<x />``, ``script`` in
CDATA, no final newline. The same checks against real Rundeck exports are in ``test_corpus_rundeck.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml, load_jobs_yaml

JOBS = Path(__file__).parent / "data" / "rundeck" / "jobs"
JOB_FILES = sorted(JOBS.glob("*.xml"))
CANONICAL = sorted(JOBS.glob("*-canonical.xml"))
#: Refused on import by design (its schedule lies in the past; see test_rundeck_job_runs.py), unless the XML reader
#: is told not to require a future fire time. The YAML reader always requires one.
PAST_SCHEDULE = JOBS / "past-schedule.xml"


def test_the_fixtures_are_there() -> None:
    assert len(JOB_FILES) >= 15
    assert [path.name for path in CANONICAL] == ["export-canonical.xml", "webhook-canonical.xml"]


@pytest.mark.parametrize("path", JOB_FILES, ids=lambda p: p.name)
def test_every_job_file_loads_and_round_trips(path: Path) -> None:
    jobs = load_jobs_xml(path.read_bytes(), path=path, require_future=False)
    assert jobs
    exported = dump_jobs_xml(jobs)
    again = load_jobs_xml(exported, path="export.xml", require_future=False)
    assert again == jobs
    assert dump_jobs_xml(again) == exported


@pytest.mark.parametrize("path", [p for p in JOB_FILES if p != PAST_SCHEDULE], ids=lambda p: p.name)
def test_every_job_file_round_trips_through_yaml(path: Path) -> None:
    jobs = load_jobs_xml(path.read_bytes(), path=path, require_future=False)
    exported = dump_jobs_yaml(jobs)
    again = load_jobs_yaml(exported, path="export.yaml")
    assert again == jobs
    assert dump_jobs_yaml(again) == exported


def test_a_schedule_in_the_past_is_refused_when_its_yaml_export_is_read() -> None:
    exported = dump_jobs_yaml(load_jobs_xml(PAST_SCHEDULE.read_bytes(), path=PAST_SCHEDULE, require_future=False))
    with pytest.raises(JobDefinitionError) as info:
        load_jobs_yaml(exported, path="export.yaml")
    assert str(info.value).endswith('invalid schedule "0 15 3 ? * MON 2011-2015": it will never fire again')


@pytest.mark.parametrize("path", CANONICAL, ids=lambda p: p.name)
def test_a_canonical_export_is_exported_byte_for_byte(path: Path) -> None:
    original = path.read_text(encoding="utf-8")
    assert not original.endswith("\n")
    assert dump_jobs_xml(load_jobs_xml(original, path=path)) == original


def test_a_hand_written_job_exports_in_the_canonical_form() -> None:
    """Document order, double quotes, 3-space indent, ``<context><project>`` (ignored on import), ``<dispatch>``
    without a node filter (dropped), no executionEnabled/nodeFilterEditable/scheduleEnabled, a final newline."""
    written = (JOBS / "webhook-handwritten.xml").read_text(encoding="utf-8")
    canonical = (JOBS / "webhook-canonical.xml").read_text(encoding="utf-8")
    assert written != canonical
    jobs = load_jobs_xml(written, path="webhook-handwritten.xml")
    assert dump_jobs_xml(jobs) == canonical
    assert load_jobs_xml(canonical, path="webhook-canonical.xml") == jobs


def test_a_re_indented_export_loads_the_same_and_exports_with_two_spaces() -> None:
    canonical = (JOBS / "export-canonical.xml").read_text(encoding="utf-8")
    doubled = re.sub(r"^( +)", r"\1\1", canonical, flags=re.M)
    assert doubled.splitlines()[1] == "    <job>"
    exported = dump_jobs_xml(load_jobs_xml(doubled, path="doubled.xml"))
    assert exported == canonical

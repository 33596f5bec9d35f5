"""tests/corpus.py: a missing corpus skips a conformance test with one reason, or fails it when CI requires it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import corpus


def test_an_absent_corpus_skips_with_one_reason_naming_the_folder_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(corpus.CORPUS_VARIABLE, str(tmp_path / "nowhere"))
    monkeypatch.delenv(corpus.REQUIRE_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        corpus.corpus("rundeck", "jobs")
    assert str(skipped.value) == f"corpus not found at {tmp_path / 'nowhere'}; set XLR_CORPUS=DIR"


def test_an_absent_corpus_fails_when_required(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(corpus.CORPUS_VARIABLE, str(tmp_path / "nowhere"))
    monkeypatch.setenv(corpus.REQUIRE_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match=r"corpus not found at .*XLR_REQUIRE_CORPUS=1"):
        corpus.seed("xl-release-advanced-scripting-custom-task-types.txt")


def test_parametrising_over_an_absent_corpus_gives_one_placeholder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(corpus.CORPUS_VARIABLE, str(tmp_path))
    assert corpus.corpus_files("xlr") == [tmp_path / "xlr" / "corpus-absent"]


def test_a_present_corpus_is_found_through_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for part in ("rundeck/jobs", "xlr"):
        (tmp_path / part).mkdir(parents=True)
    (tmp_path / "xlr" / "b.xml").write_text("<synthetic/>")
    (tmp_path / "xlr" / "a.xml").write_text("<synthetic/>")
    monkeypatch.setenv(corpus.CORPUS_VARIABLE, str(tmp_path))
    monkeypatch.setenv(corpus.REQUIRE_VARIABLE, "1")
    assert corpus.corpus("rundeck", "jobs") == tmp_path / "rundeck" / "jobs"
    assert corpus.corpus_files("xlr") == [tmp_path / "xlr" / "a.xml", tmp_path / "xlr" / "b.xml"]

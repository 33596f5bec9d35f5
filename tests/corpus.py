"""The one guarded way tests reach files written by others: the public corpus and the seed texts.

The suite never needs them: every feature is tested with fixtures under ``tests/data/``. Conformance tests
(marked ``corpus``) check the runtime against the real files when they are there:

- ``XLR_CORPUS=DIR`` names the corpus folder (``DIR/rundeck``, ``DIR/xlr``; the seeds are ``DIR/../seeds``);
- unset, the ``shared/corpus`` folder beside the clone is used when it exists (a developer's checkout);
- absent, every ``corpus`` test skips with one reason; with ``XLR_REQUIRE_CORPUS=1`` (``.ci/run``) it fails
  instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Names the corpus folder.
CORPUS_VARIABLE = "XLR_CORPUS"
#: Set to 1 to make a missing corpus an error rather than a skip.
REQUIRE_VARIABLE = "XLR_REQUIRE_CORPUS"
#: Where a developer's checkout finds the corpus when the variable is unset.
BESIDE_CLONE = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_root() -> Path:
    """The corpus folder this run uses (it may not exist)."""
    configured = os.environ.get(CORPUS_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else BESIDE_CLONE


def corpus_present() -> bool:
    """Whether the corpus folder exists, with its Rundeck and XL Release parts."""
    root = corpus_root()
    return (root / "rundeck").is_dir() and (root / "xlr").is_dir()


def missing_reason() -> str:
    """The one reason every corpus test gives when the corpus is absent."""
    return f"corpus not found at {corpus_root()}; set {CORPUS_VARIABLE}=DIR"


def require_corpus() -> None:
    """Skip the calling test when the corpus is absent, or fail it when ``XLR_REQUIRE_CORPUS=1``."""
    if corpus_present():
        return
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{missing_reason()} ({REQUIRE_VARIABLE}=1)", pytrace=False)
    pytest.skip(reason=missing_reason())


def corpus(*parts: str) -> Path:
    """A path inside the corpus; skips (or fails) the calling test when the corpus is absent."""
    require_corpus()
    return corpus_root().joinpath(*parts)


def seed(name: str) -> Path:
    """One of the seed texts the project was started from, kept beside the corpus folder."""
    require_corpus()
    path = corpus_root().parent / "seeds" / name
    if not path.is_file():
        pytest.fail(f"seed {name} not found at {path}", pytrace=False)
    return path


def corpus_files(folder: str, pattern: str = "*.xml") -> list[Path]:
    """The corpus files of ``folder`` matching ``pattern``, for ``parametrize`` at collection time.

    With the corpus absent this is one placeholder path, so the test is collected once and its ``corpus`` mark
    skips (or fails) it with the one reason, instead of pytest's "got empty parameter set".
    """
    if not corpus_present():
        return [corpus_root() / folder / "corpus-absent"]
    return sorted((corpus_root() / folder).glob(pattern))

"""Record and replay for harness tests: the HTTP exchanges of plugin scripts kept as a vcrpy cassette (YAML).

Point a test at a real server once with recording on, then run it offline: the scripts' requests are answered
from the cassette. With pytest, mark the test ``@pytest.mark.xlr_cassette`` and run ``pytest --xlr-record`` once
(see ``docs/testing.md``); without pytest, give a :class:`Cassette` to the harness::

    cassette = Cassette(Path("tests/cassettes/test_build/test_build.yaml"), mode="once")
    with TaskHarness(home, plugin_paths=[plugin], cassette=cassette) as harness:
        outcome = harness.run("jenkins.Build", {...})   # the cassette is written when the harness closes

Scripts run in worker processes, so the recording happens there (:mod:`xlr_runtime.scripting.recording`): each
script run gets an :class:`~xlr_runtime.scripting.contract.HttpCassette` with the cassette file and a workspace
folder private to the test. A run that records writes its exchanges as a part of its own in the workspace; when
the harness closes, :meth:`Cassette.save` joins the parts in the order of the runs (each part's exchanges in
the order they happened) into the one cassette file of the test. No two processes write the same file, and a
poll recorded by one worker is replayed in its place even if another worker runs it.

Record modes, named as vcrpy names them:

* ``none``: replay only; a request the cassette does not hold fails the script, and a missing cassette fails the
  test (the default without ``--xlr-record``);
* ``once``: record when the cassette does not exist yet, else as ``none``;
* ``new_episodes``: replay what the cassette holds, record the requests it does not, and add them to it;
* ``all``: send every request to the server and write the cassette anew with what was recorded.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from concurrent.futures import Future
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from xlr_runtime.errors import CassetteError
from xlr_runtime.scripting.contract import HttpCassette, ScriptExecutor, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.recording import PARTS_FOLDER

#: Folder of the default cassettes, beside the test file (as vcrpy's pytest plugins name it).
CASSETTES_FOLDER = "cassettes"
#: Version of vcrpy's cassette format that is written.
FORMAT_VERSION = 1


class RecordMode(StrEnum):
    """When the harness records (see the module docstring)."""

    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"


def default_path(test_file: Path, test_name: str) -> Path:
    """The default cassette of a test: ``cassettes/<test module>/<test name>.yaml`` beside its file (a
    parametrised test's ids are kept, other characters than letters, digits, ``.``, ``_`` and ``-`` become
    ``-``)."""
    name = re.sub(r"[^\w.-]+", "-", test_name).strip("-")
    return test_file.parent / CASSETTES_FOLDER / test_file.stem / f"{name}.yaml"


class Cassette:
    """One test's cassette file and record ``mode``: what the harness gives its script runs, and the merge of
    their recordings when it closes.

    Raises :class:`~xlr_runtime.errors.CassetteError` on an unknown mode, and on :meth:`start` when vcrpy is not
    installed or the cassette to replay is missing or not a vcrpy cassette.
    """

    def __init__(self, path: Path, mode: RecordMode | str = RecordMode.NONE) -> None:
        try:
            self.mode = RecordMode(mode)
        except ValueError:
            modes = ", ".join(m.value for m in RecordMode)
            raise CassetteError(f"unknown record mode {mode!r} for {path} (use one of {modes})") from None
        self.path = Path(path).absolute()
        self._use: HttpCassette | None = None

    def start(self) -> HttpCassette:
        """What each script run is given (the workspace is made on the first call)."""
        if self._use is None:
            exists = self.path.is_file()
            replay = self.mode is RecordMode.NONE or (self.mode is not RecordMode.ALL and exists)
            record = self.mode in (RecordMode.NEW_EPISODES, RecordMode.ALL) or (
                self.mode is RecordMode.ONCE and not exists
            )
            _require_vcrpy(self.path)
            if replay and not exists and not record:
                raise CassetteError(
                    f"cassette {self.path} does not exist; record it once against the server: pytest --xlr-record"
                )
            if replay and exists:
                _interactions(self.path)  # a broken cassette fails here, in one line, not in every script
            workspace = tempfile.mkdtemp(prefix="xlr-cassette-")
            self._use = HttpCassette(str(self.path), workspace, replay=replay, record=record)
        return self._use

    def executor(self, executor: ScriptExecutor) -> ScriptExecutor:
        """``executor`` with every script run it is given recording or replaying through this cassette."""
        return _CassetteExecutor(executor, self.start())

    def save(self) -> None:
        """Join the parts the runs recorded into the cassette file (when recording) and remove the workspace.
        A cassette that recorded nothing is written too (empty), unless ``new_episodes`` had nothing to add."""
        use, self._use = self._use, None
        if use is None:
            return
        try:
            if use.record:
                recorded = _recorded(Path(use.workspace))
                if recorded or self.mode is not RecordMode.NEW_EPISODES or not self.path.is_file():
                    kept = _interactions(self.path) if use.replay and self.path.is_file() else []
                    _write(self.path, kept + recorded)
        finally:
            shutil.rmtree(use.workspace, ignore_errors=True)

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode.value!r})"


class _CassetteExecutor:
    """A ``ScriptExecutor`` that hands every request to another with the cassette set."""

    def __init__(self, executor: ScriptExecutor, use: HttpCassette) -> None:
        self._executor = executor
        self._use = use

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        return self._executor.submit(replace(request, http_cassette=self._use))

    def submit_many(self, requests: list[ScriptRunRequest]) -> list[Future[ScriptRunResult]]:
        marked = [replace(request, http_cassette=self._use) for request in requests]
        submit_many = getattr(self._executor, "submit_many", None)
        if submit_many is not None:
            return list(submit_many(marked))
        return [self._executor.submit(request) for request in marked]

    def shutdown(self, *, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait)


def _require_vcrpy(path: Path) -> None:
    try:
        import vcr  # noqa: F401 (imported for the check only; workers import it themselves)
    except ImportError:
        raise CassetteError(
            f"recording and replaying {path} needs vcrpy, which is not installed",
            hint="pip install 'xlr-runtime[record]'",
        ) from None


def _interactions(path: Path) -> list[dict[str, Any]]:
    """The interactions of a cassette file, as stored."""
    from vcr.serializers import yamlserializer

    try:
        data = yamlserializer.deserialize(path.read_text(encoding="utf-8"))
        interactions = data["interactions"]
        if not isinstance(interactions, list) or not all("request" in i and "response" in i for i in interactions):
            raise ValueError("each interaction needs a request and a response")
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, TypeError, KeyError) as exc:
        detail = " ".join(str(exc).split())
        raise CassetteError(f"{path}: not a vcrpy cassette: {type(exc).__name__}: {detail}") from None
    return interactions


def _recorded(workspace: Path) -> list[dict[str, Any]]:
    """The interactions of the parts in ``workspace``, in the order of the runs that recorded them."""
    parts = sorted((workspace / PARTS_FOLDER).glob("*.yaml")) if (workspace / PARTS_FOLDER).is_dir() else []
    return [interaction for part in parts for interaction in _interactions(part)]


def _write(path: Path, interactions: list[dict[str, Any]]) -> None:
    """Write ``path`` as a vcrpy cassette, atomically (a reader sees the old file or the new one)."""
    from vcr.serializers import yamlserializer

    path.parent.mkdir(parents=True, exist_ok=True)
    text = yamlserializer.serialize({"interactions": interactions, "version": FORMAT_VERSION})
    partial = path.with_name(f".{path.name}.tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()

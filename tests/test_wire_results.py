"""The compact forms on the pipes: every field of a :class:`ScriptRunResult` comes back equal, stamped with the
worker's pid, and a request decoded in a worker has every field."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import (
    Failure,
    LogLine,
    RunOutcome,
    ScheduleRequest,
    ScriptRunRequest,
    ScriptRunResult,
)
from xlr_runtime.scripting.wire import Decoder, Keys, decode_result, encode, encode_result

FULL = ScriptRunResult(
    run_id=7,
    outcome=RunOutcome.SUCCEEDED,
    properties={"count": 3, "names": ["a", "b"]},
    status_line="Polling **build** 12",
    schedule=ScheduleRequest("jenkins/Build.wait.py", 5.0),
    log=[LogLine(1.5, "stdout", "line one"), LogLine(2.5, "stderr", "line two")],
    started_at=1.0,
    ended_at=3.0,
    variables={"releaseVariables": {"x": 1}, "globalVariables": {}, "folderVariables": {}},
)


def roundtrip(result: ScriptRunResult, pid: int) -> ScriptRunResult:
    kind, fields, retire = pickle.loads(encode_result(result, pid))
    assert (kind, retire) == ("result", None)
    return decode_result(fields)


@pytest.mark.parametrize(
    "result",
    [
        FULL,
        ScriptRunResult(run_id=8, outcome=RunOutcome.SUCCEEDED, schedule=ScheduleRequest("p.py")),
        ScriptRunResult(
            run_id=9,
            outcome=RunOutcome.FAILED,
            failure=Failure("ValueError", "p.py:1: ValueError: no", "Traceback ...\n"),
            log=[LogLine(1.0, "system", "Task failed")],
        ),
    ],
    ids=["everything", "schedule-without-interval", "failure"],
)
def test_a_result_comes_back_equal_with_the_worker_pid(result: ScriptRunResult) -> None:
    back = roundtrip(result, 4321)

    assert back == ScriptRunResult(**{**result.__dict__, "worker_pid": 4321})
    assert back.outcome is result.outcome
    assert set(vars(back)) == {f.name for f in dataclasses.fields(ScriptRunResult)}


def test_a_request_comes_back_with_every_field() -> None:
    request = script_request("n = 1", run_id=3, properties=[prop("n", "integer", "output")], values={"n": 0})
    keys, definitions = Keys(), dict[str, object]()
    payload = encode(request, keys, set(), definitions)
    decoder = Decoder()
    decoder.define(definitions)

    back = decoder.decode(payload)

    assert back == request
    assert set(vars(back)) == {f.name for f in dataclasses.fields(ScriptRunRequest)}


def test_every_outcome_travels() -> None:
    for outcome in RunOutcome:
        assert roundtrip(ScriptRunResult(run_id=1, outcome=outcome), 1).outcome is outcome


def test_a_value_that_cannot_be_pickled_raises() -> None:
    with pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        encode_result(ScriptRunResult(run_id=1, outcome=RunOutcome.SUCCEEDED, properties={"f": lambda: 1}), 1)

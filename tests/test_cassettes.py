"""Record and replay for harness tests (xlr_runtime.testing.cassettes, xlr_runtime.scripting.recording): real
servers on 127.0.0.1, real worker processes, cassettes in vcrpy's format."""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import wait
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from xlr_runtime.errors import CassetteError
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.masking import MASK
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.testing.cassettes import Cassette, default_path
from xlr_runtime.testing.harness import TaskHarness, TaskOutcome
from xlr_runtime.testing.jenkins import JenkinsServer
from xlr_runtime.testing.pytest_plugin import _MonkeyEnviron

pytest_plugins = ["pytester"]

RECORDED = Path(__file__).parent / "data" / "plugins" / "recorded"
TOKEN = "canary-token-7Qx"
PASSWORD = "canary-password-9Zk"
#: The properties of the scripts run straight in worker pools.
PROPERTIES = (prop("url"), prop("readings", category="output"))


class CounterServer(ThreadingHTTPServer):
    """``GET /counter`` answers 1, 2, 3…; ``GET /echo`` answers ``{"key": <its X-Api-Key header>}``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CounterHandler)
        self.count = 0
        self.paths: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _CounterHandler(BaseHTTPRequestHandler):
    server: CounterServer

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        with self.server.lock:
            self.server.paths.append(path)
            if path == "/counter":
                self.server.count += 1
                body = str(self.server.count)
            elif path == "/echo":
                body = json.dumps({"key": self.headers.get("X-Api-Key")})
            else:
                self.send_error(404)
                return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def counter() -> Iterator[CounterServer]:
    server = CounterServer()
    try:
        yield server
    finally:
        server.close()


def poll(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    cassette: Cassette,
    url: str,
    *,
    token: str = TOKEN,
    password: str = PASSWORD,
    polls: int = 3,
    path: str = "counter",
) -> TaskOutcome:
    """Run recorded.Poll in a fresh harness home through ``cassette`` (written when the harness closes)."""
    with TaskHarness(home, plugin_paths=[RECORDED], environ=_MonkeyEnviron(monkeypatch), cassette=cassette) as h:
        h.ci("srv", "recorded.Server", url=url, username="bot", password=password)
        return h.run("recorded.Poll", {"server": "srv", "apiToken": token, "polls": polls, "counter": path})


def same(outcome: TaskOutcome) -> tuple[Any, ...]:
    """What two runs of the same test must agree on."""
    return outcome.status, outcome.outputs, outcome.status_line, outcome.failure, outcome.log


def interactions(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]


def test_a_recorded_task_replays_offline_with_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counter: CounterServer
) -> None:
    path = tmp_path / "cassettes" / "poll.yaml"
    recorded = poll(tmp_path / "record", monkeypatch, Cassette(path, "once"), counter.url)
    assert recorded.status == "completed", recorded.log_text
    assert recorded.outputs == {"readings": "1,2,3", "echoed": MASK}
    counter.close()

    # offline, with other secrets: a masked request matches whatever the run's passwords are
    replayed = poll(tmp_path / "replay", monkeypatch, Cassette(path), counter.url, token="other", password="pw")
    assert same(replayed) == same(recorded)
    assert counter.paths == ["/counter", "/echo"] * 3


def test_the_bundled_jenkins_build_replays_offline_with_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "jenkins.yaml"

    def build(home: str) -> TaskOutcome:
        with TaskHarness(tmp_path / home, environ=_MonkeyEnviron(monkeypatch), cassette=Cassette(path, "once")) as h:
            h.ci("jenkins", "jenkins.Server", url=url, username="release-bot", password=PASSWORD)
            return h.run(
                "jenkins.Build", {"jenkinsServer": "jenkins", "jobName": "team/job/app", "jobParameters": "a=1"}
            )

    with JenkinsServer(users={"release-bot": PASSWORD}, anonymous_read=False, crumbs=True) as jenkins:
        jenkins.add_job("team/app", parameters={"a": "0"}, queue_polls=1, build_polls=2)
        url = jenkins.url
        recorded = build("record")
        served = len(jenkins.requests)
    assert recorded.status == "completed", recorded.log_text
    assert recorded.outputs == {"buildNumber": "1", "buildStatus": "SUCCESS"}
    assert len(interactions(path)) == served

    assert same(build("replay")) == same(recorded)


def test_secrets_never_reach_the_cassette(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counter: CounterServer
) -> None:
    path = tmp_path / "poll.yaml"
    poll(tmp_path / "home", monkeypatch, Cassette(path, "once"), counter.url, polls=1)
    text = path.read_text(encoding="utf-8")
    basic = base64.b64encode(f"bot:{PASSWORD}".encode()).decode()
    for secret in (TOKEN, PASSWORD, basic, "canary"):
        assert secret not in text
    counter_request, echo_request = (i["request"] for i in interactions(path))
    assert counter_request["uri"] == f"{counter.url}/counter?apiToken={MASK}"
    assert counter_request["headers"]["Authorization"] == [MASK]
    assert echo_request["headers"]["X-Api-Key"] == [MASK]
    assert json.loads(interactions(path)[1]["response"]["body"]["string"]) == {"key": MASK}


def test_a_request_the_cassette_does_not_hold_fails_the_script_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counter: CounterServer
) -> None:
    path = tmp_path / "poll.yaml"
    poll(tmp_path / "record", monkeypatch, Cassette(path, "once"), counter.url, polls=1)
    counter.close()
    outcome = poll(tmp_path / "replay", monkeypatch, Cassette(path), counter.url, polls=1, path="elsewhere")
    assert outcome.status == "failed"
    script = RECORDED / "recorded" / "Poll.py"
    assert outcome.failure == (
        f"{script}:7: CassetteMissError: GET {counter.url}/elsewhere?apiToken={MASK} is not in the cassette {path} "
        "(record it again: pytest --xlr-record=new_episodes)"
    )


def test_new_episodes_adds_what_is_missing_and_all_records_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counter: CounterServer
) -> None:
    path = tmp_path / "poll.yaml"
    poll(tmp_path / "once", monkeypatch, Cassette(path, "once"), counter.url, polls=1)
    grown = poll(tmp_path / "new", monkeypatch, Cassette(path, "new_episodes"), counter.url, polls=2)
    assert grown.outputs["readings"] == "1,2"  # the first reading replayed, the second asked for
    assert [i["response"]["body"]["string"] for i in interactions(path)][::2] == ["1", "2"]

    again = poll(tmp_path / "all", monkeypatch, Cassette(path, "all"), counter.url, polls=1)
    assert again.outputs["readings"] == "3"
    assert [i["response"]["body"]["string"] for i in interactions(path)][::2] == ["3"]
    assert counter.paths == ["/counter", "/echo"] * 3


def test_runs_in_different_workers_record_their_own_parts_and_replay_in_order(
    tmp_path: Path, counter: CounterServer
) -> None:
    path = tmp_path / "two-workers.yaml"
    source = "import requests\nreadings = ','.join(requests.get(url + '/counter').text for _ in range(3))\n"

    def run_in_two_workers(cassette: Cassette, *, together: bool) -> list[str]:
        use = cassette.start()
        requests = [
            replace(
                script_request(source, properties=PROPERTIES, values={"url": counter.url}, run_id=n), http_cassette=use
            )
            for n in (1, 2)
        ]
        with WorkerPool(1) as first, WorkerPool(1) as second:
            futures = [first.submit(requests[0])]
            if not together:
                futures[0].result()
            futures.append(second.submit(requests[1]))
            wait(futures)
        cassette.save()
        results = [future.result() for future in futures]
        assert all(result.succeeded for result in results), results
        return [result.properties["readings"] for result in results]

    recorded = run_in_two_workers(Cassette(path, "once"), together=True)
    # each run's part is kept whole, in the order of the runs, whichever worker finished first
    bodies = [i["response"]["body"]["string"] for i in interactions(path)]
    assert bodies == ",".join(recorded).split(",")
    assert sorted(map(int, bodies)) == [1, 2, 3, 4, 5, 6]
    counter.close()

    # the second worker does not answer again what the first one played: it gets the next answers
    assert run_in_two_workers(Cassette(path), together=False) == [",".join(bodies[:3]), ",".join(bodies[3:])]


def test_workers_import_vcrpy_only_for_runs_that_record_or_replay(tmp_path: Path) -> None:
    source = "import sys\nreadings = str('vcr' in sys.modules)\n"
    plain = script_request(source, properties=PROPERTIES)
    cassette = Cassette(tmp_path / "empty.yaml", "all")
    with WorkerPool(1) as pool:
        assert pool.run_sync(plain).properties["readings"] == "False"
        recorded = pool.run_sync(replace(plain, run_id=2, http_cassette=cassette.start()))
        assert recorded.properties["readings"] == "True"
    cassette.save()
    assert interactions(tmp_path / "empty.yaml") == []  # recorded, with nothing to record


def test_a_missing_or_broken_cassette_fails_the_test_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(CassetteError) as error:
        Cassette(missing).start()
    assert str(error.value) == (
        f"cassette {missing} does not exist; record it once against the server: pytest --xlr-record"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions: [\n", encoding="utf-8")
    with pytest.raises(CassetteError, match=rf"^{re.escape(str(broken))}: not a vcrpy cassette: \w+Error: ") as error:
        Cassette(broken, "once").start()
    assert "\n" not in str(error.value)
    with pytest.raises(CassetteError) as error:
        Cassette(broken, "sometimes")
    modes = "none, once, new_episodes, all"
    assert str(error.value) == f"unknown record mode 'sometimes' for {broken} (use one of {modes})"


def test_without_vcrpy_a_cassette_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vcr", None)  # what an environment without vcrpy imports
    with pytest.raises(CassetteError) as error:
        Cassette(tmp_path / "x.yaml", "once").start()
    assert (str(error.value), error.value.hint) == (
        f"recording and replaying {tmp_path / 'x.yaml'} needs vcrpy, which is not installed",
        "pip install 'xlr-runtime[record]'",
    )


def test_the_default_cassette_is_beside_the_test_file() -> None:
    assert default_path(Path("/p/tests/test_build.py"), "test_x[a b/c]") == Path(
        "/p/tests/cassettes/test_build/test_x-a-b-c.yaml"
    )


def test_pytest_xlr_record_records_once_and_later_runs_replay_offline(
    pytester: pytest.Pytester, counter: CounterServer
) -> None:
    pytester.makeini(f"[pytest]\nxlr_plugin_paths =\n    {RECORDED}\n")
    pytester.makepyfile(
        test_polls=f"""
        import pytest

        def run(xlr_harness):
            xlr_harness.ci("srv", "recorded.Server", url={counter.url!r}, username="bot", password={PASSWORD!r})
            return xlr_harness.run("recorded.Poll", {{"server": "srv", "apiToken": {TOKEN!r}, "polls": 2}})

        @pytest.mark.xlr_cassette
        def test_default_place(xlr_harness):
            outcome = run(xlr_harness)
            assert outcome.outputs["readings"] in ("1,2", "3,4"), outcome.log_text

        @pytest.mark.xlr_cassette("recordings/chosen.yaml")
        def test_chosen_place(xlr_harness):
            outcome = run(xlr_harness)
            assert outcome.outputs["readings"] in ("1,2", "3,4"), outcome.log_text
        """
    )
    recording = pytester.runpytest("-p", "no:cacheprovider", "--xlr-record")
    recording.assert_outcomes(passed=2)
    default = pytester.path / "cassettes" / "test_polls" / "test_default_place.yaml"
    chosen = pytester.path / "recordings" / "chosen.yaml"
    assert len(interactions(default)) == len(interactions(chosen)) == 4
    assert TOKEN not in default.read_text() + chosen.read_text()
    counter.close()

    # "once" records only what has no cassette yet: these replay, offline
    pytester.runpytest("-p", "no:cacheprovider", "--xlr-record").assert_outcomes(passed=2)

    default.unlink()
    replaying = pytester.runpytest("-p", "no:cacheprovider")  # replay only: a missing cassette is an error
    replaying.assert_outcomes(passed=1, errors=1)
    replaying.stdout.fnmatch_lines([f"*CassetteError: cassette {default} does not exist*"])

    wrong = pytester.runpytest("-p", "no:cacheprovider", "--xlr-record=sometimes")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(["*--xlr-record*'sometimes'*"])

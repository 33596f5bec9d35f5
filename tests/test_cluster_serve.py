"""Several ``xlr serve`` processes on one PostgreSQL (docs/cluster.md), each with a home of its own (its lock,
wake socket and ``xlr.toml``; one ``secret.key`` copied into each):

* all firing the same Quartz schedule of one job every second: whichever host fires first, each fire time starts
  exactly one execution in the cluster, no fire time twice, none missed between the first and the last;
* one of them killed (``kill -9``) in the middle of an execution: a server of another home resumes it from the
  step that was running."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from serve_helpers import Serve, wait_for

from tests.postgres_helpers import PostgresServer
from xlr_runtime.home import Home
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.run.execution import ExecutionService
from xlr_runtime.secrets import KEY_FILE, SecretBox
from xlr_runtime.store.executions import Execution, ExecutionStatus
from xlr_runtime.store.owners import LEASE_SECONDS
from xlr_runtime.store.postgres import PostgresStore
from xlr_runtime.storeurl import parse_store_url

HOSTS = 3
EVERY_SECOND = """<joblist><job><name>tick</name><description/><uuid>uuid-tick</uuid>
<schedule crontab='* * * ? * * *'/><multipleExecutions>true</multipleExecutions>
<sequence keepgoing='false' strategy='node-first'><command><exec>echo tick</exec></command></sequence>
</job></joblist>"""


def homes(root: Path, url: str, count: int = HOSTS) -> list[Home]:
    """``count`` homes on the database ``url``, sharing the first one's secret key."""
    made = [Home(root / f"host{n}").ensure() for n in range(count)]
    SecretBox(made[0].root).seal_value("make the key")
    for home in made:
        home.config_file.write_text(f'[settings]\n"store.url" = "{url}"\n')
        if home is not made[0]:
            shutil.copy2(made[0].root / KEY_FILE, home.root / KEY_FILE)
    return made


def scheduled(store: PostgresStore) -> list[Execution]:
    return [e for e in store.executions.list(limit=100_000) if e.execution_type == "scheduled"]


@pytest.mark.parametrize("seconds", [pytest.param(10, id="10s"), pytest.param(30, id="30s", marks=pytest.mark.slow)])
def test_three_hosts_start_exactly_one_execution_per_fire_time(
    postgres_server: PostgresServer, tmp_path: Path, seconds: int
) -> None:
    url = postgres_server.new_store_url()
    hosts = homes(tmp_path, url)
    with PostgresStore.open_url(parse_store_url(url), home=hosts[0].root) as store:
        servers = [Serve(home.root, tmp_path / f"serve{n}.log") for n, home in enumerate(hosts)]
        try:
            for server in servers:
                server.wait_ready()
            JobStore(store).load("P", load_jobs_xml(EVERY_SECOND, path="tick.xml"), now=time.time())
            outputs = lambda: "\n".join(s.output()[-1500:] for s in servers)  # noqa: E731
            wait_for(lambda: len(scheduled(store)) >= seconds, seconds + 30, outputs)
            ids = [e.id for e in scheduled(store)]
            wait_for(lambda: all(store.executions.get(i).status.is_final for i in ids), 60, outputs)
            assert all(server.alive() for server in servers), outputs()
        finally:
            codes = [server.stop() for server in servers]
        assert codes == [0] * HOSTS, outputs()
        fired = scheduled(store)
        per_time = Counter(e.fire_at for e in fired)
        assert [t for t, n in per_time.items() if n > 1] == [], per_time  # no fire time twice
        times = sorted(t for t in per_time if t is not None)
        assert len(times) == len(fired) >= seconds
        gaps = [(a, b) for a, b in pairwise(times) if b - a != 1.0]
        assert gaps == [], gaps  # none missed
        ran = [store.executions.get(i) for i in ids]
        assert {str(e.status) for e in ran} == {"succeeded"}, outputs()


THREE_STEPS = """<joblist><job><name>long</name><description/><uuid>uuid-long</uuid>
<sequence keepgoing='false' strategy='node-first'><command><exec>echo one</exec></command>
<command><exec>echo two; sleep 4</exec></command><command><exec>echo three</exec></command></sequence>
</job></joblist>"""


@pytest.mark.slow  # another server looks for executions to take over every 15 s
def test_an_execution_of_a_killed_server_is_resumed_by_a_server_of_another_home(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.new_store_url()
    first, second = homes(tmp_path, url, 2)
    with PostgresStore.open_url(parse_store_url(url), home=first.root) as store:
        JobStore(store).load("P", load_jobs_xml(THREE_STEPS, path="long.xml"), now=time.time())
        with Serve(first.root, tmp_path / "first.log") as doomed:
            doomed.wait_ready()
            service = ExecutionService(store, home_root=first.root, lease=LEASE_SECONDS)
            execution = service.start("P", JobStore(store).get("uuid-long"))
            texts = lambda: [line.text for line in store.executions.log(execution.id)]  # noqa: E731
            wait_for(lambda: "two" in texts(), 60, doomed.output)
            owner = store.executions.get(execution.id).owner
            # the other server starts only now: started with the first, it could claim the execution itself
            with Serve(second.root, tmp_path / "second.log") as other:
                other.wait_ready()
                doomed.kill()
                wait_for(lambda: store.executions.get(execution.id).status.is_final, 60, other.output)
                assert other.stop() == 0, other.output()
        resumed = store.executions.get(execution.id)
        assert (resumed.status, resumed.restarts) == (ExecutionStatus.SUCCEEDED, 1), other.output()
        assert owner is not None and owner.split(":")[1] == str(doomed.process.pid)
        assert [t for t in texts() if t in ("one", "two", "three")] == ["one", "two", "two", "three"]
        assert f"execution {execution.id} of long started" in other.output()

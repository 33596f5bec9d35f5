"""Several ``xlr serve`` processes, each with a home of its own, on one PostgreSQL store (issue 16): the homes (one
secret key), their servers, the store and the trace file the ``cl.Step`` tasks (tests/data/plugins/cluster) write.

Each step of a ``cl.Step`` task appends ``start``/``end`` lines naming its task, step and host (``XLR_TEST_HOST`` of
the server that ran it) to the trace file; the store tells which claim (owner, fencing token) ran it. Shared by
tests/test_cluster.py and tests/test_cluster_soak.py."""

from __future__ import annotations

import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from serve_helpers import Serve

from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.secrets import KEY_FILE
from xlr_runtime.settings import load
from xlr_runtime.store.postgres import PostgresStore
from xlr_runtime.storeurl import parse_store_url

CLUSTER_PLUGIN = Path(__file__).parent / "data" / "plugins" / "cluster"

#: The lease of the hosts under test (renewed every half second).
LEASE = 2


@dataclass(frozen=True)
class Step:
    """One line of the trace: a step of a task starting or ending on a host."""

    what: str
    task_id: str
    step: int
    host: str
    time: float


def trace_of(path: Path) -> list[Step]:
    """The lines of the trace file ``path`` (none when no step ran yet)."""
    lines = path.read_text().splitlines() if path.exists() else []
    return [Step(w, t, int(s), h, float(at)) for w, t, s, h, at in (line.split() for line in lines)]


class Cluster:
    """Homes ``a``, ``b``… on one database (one secret key), their servers, the store and the trace file."""

    def __init__(
        self, url: str, folder: Path, hosts: tuple[str, ...] = ("a", "b"), lease: int = LEASE, workers: int = 1
    ) -> None:
        self.url = url
        self.folder = folder
        self.trace = folder / "trace.txt"
        self.servers: dict[str, Serve] = {}
        self.homes = {name: self._home(name, lease, workers) for name in hosts}
        self.store = PostgresStore.open_url(parse_store_url(url), home=self.homes[hosts[0]].root)

    def _home(self, name: str, lease: int, workers: int) -> Home:
        home = Home(self.folder / name).ensure()
        home.config_file.write_text(
            f'[settings]\n"workers.size" = {workers}\n"store.url" = "{self.url}"\n"cluster.lease_seconds" = {lease}\n'
        )
        return home

    def runtime(self, name: str = "a") -> Runtime:
        home = self.homes[name]
        return Runtime(home, plugin_paths=[CLUSTER_PLUGIN], settings=load(home.root))

    def share_key(self) -> None:
        """Copy home a's secret key to the other homes (as an operator would), once home a has one."""
        with self.runtime() as runtime:
            runtime.engine.secrets.seal_bytes(b"")  # sealing makes the key
        for home in list(self.homes.values())[1:]:
            shutil.copy2(self.homes["a"].root / KEY_FILE, home.root / KEY_FILE)

    def serve(self, name: str, label: str | None = None, plugin: Path = CLUSTER_PLUGIN) -> Serve:
        """Start home ``name``'s server with ``plugin`` (its steps trace ``label`` as their host, ``name`` by
        default)."""
        server = Serve(
            self.homes[name].root,
            self.folder / f"serve-{name}.log",
            plugin,
            env={"XLR_TEST_HOST": label or name},
        )
        self.servers[name] = server
        return server.wait_ready()

    def output(self) -> str:
        """Every server's output, to explain a failure."""
        return "".join(server.output() for server in self.servers.values())

    def owner_of(self, name: str) -> str:
        """The store owner name of host ``name``'s server."""
        pid = self.servers[name].process.pid
        [owner] = [o.owner for o in self.store.owners.all() if o.process.pid == pid]
        return owner

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            if server.alive():
                os.killpg(server.process.pid, signal.SIGCONT)
            server.kill()
        self.store.close()

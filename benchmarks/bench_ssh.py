"""Remote-node benchmark: ``python -m benchmarks.bench_ssh [--nodes N] [--steps S] [--json]`` (needs ``sshd``).

Starts N real OpenSSH servers on 127.0.0.1 (one per node, as the tests do: tests/ssh_helpers.py) and measures,
through the execution service:

* ``single node``: an execution of one ``exec`` step on each node alone (connection included); the slowest;
* ``fan-out``: one execution of the same step on all N nodes with ``threadcount`` N, and its ratio to the
  slowest single node (1.0 would be perfect overlap);
* ``reuse``: S ``exec`` steps on all N nodes: the SSH connections the servers saw (``$SSH_CONNECTION`` per
  step; one per node per execution expected) and the time per step per node after the first.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tests.rundeck_helpers import Harness, job_xml
from tests.ssh_helpers import SshLab, start_ssh_lab


def _nodes(lab: SshLab) -> dict[str, dict[str, str]]:
    return {
        server.name: {
            "hostname": f"127.0.0.1:{server.port}",
            "username": lab.user,
            "ssh-keypath": str(lab.client_key),
            "tags": "bench",
        }
        for server in lab.servers
    }


def _timed_run(root: Path, steps: str, node_filter: str, threadcount: int) -> tuple[float, dict[str, list[str]]]:
    harness = Harness(root)
    try:
        extra = f"<dispatch><threadcount>{threadcount}</threadcount></dispatch>"
        extra += f"<nodefilters><filter>{node_filter}</filter></nodefilters>"
        job = harness.add(job_xml(steps, extra=extra))
        started = time.perf_counter()
        execution = harness.finish(harness.service.start("P", job).id)
        seconds = time.perf_counter() - started
        if execution.status != "succeeded":
            raise RuntimeError(f"{node_filter}: {harness.output(execution.id, levels=('ERROR',))}")
        lines: dict[str, list[str]] = {}
        for line in harness.store.executions.log(execution.id):
            if line.level == "NORMAL":
                lines.setdefault(line.node or "", []).append(line.text)
        return seconds, lines
    finally:
        harness.close()


def measure(nodes: int, steps: int) -> dict[str, Any]:
    """Run the three measurements on ``nodes`` servers; return the report."""
    folder = Path(tempfile.mkdtemp(prefix="xlr-bench-ssh-"))
    names = {f"n{i:02d}": False for i in range(nodes)}
    (folder / "lab").mkdir()
    with start_ssh_lab(folder / "lab", names, password_server=None) as lab:
        root = folder / "home"
        resources = root / "projects" / "P" / "resources"
        resources.mkdir(parents=True)
        (resources / "nodes.yaml").write_text(yaml.safe_dump(_nodes(lab)))
        step = "<command><exec>echo $SSH_CONNECTION</exec></command>"
        singles = {name: _timed_run(root, step, f"name: {name}", 1)[0] for name in names}
        fan_out, _ = _timed_run(root, step, "tags: bench", nodes)
        many, lines = _timed_run(root, step * steps, "tags: bench", nodes)
    connections = sum(len(set(texts)) for texts in lines.values())
    slowest = max(singles.values())
    return {
        "nodes": nodes,
        "steps": steps,
        "single_node_s": {"slowest": slowest, "fastest": min(singles.values())},
        "fan_out_s": fan_out,
        "fan_out_over_slowest_single": fan_out / slowest,
        "reuse": {
            "seconds": many,
            "connections": connections,
            "connections_per_node": connections / nodes,
            "extra_step_s": (many - fan_out) / max(1, steps - 1),
        },
    }


def print_table(report: dict[str, Any]) -> None:
    """The report as a few lines."""
    single, reuse = report["single_node_s"], report["reuse"]
    print(f"one exec step, single node (connect included): slowest {single['slowest']:.2f} s")
    print(
        f"one exec step on {report['nodes']} nodes, threadcount {report['nodes']}: {report['fan_out_s']:.2f} s "
        f"= {report['fan_out_over_slowest_single']:.2f} x the slowest single node"
    )
    print(
        f"{report['steps']} exec steps on {report['nodes']} nodes: {reuse['seconds']:.2f} s, "
        f"{reuse['connections']} SSH connections ({reuse['connections_per_node']:.1f} per node), "
        f"{reuse['extra_step_s']:.2f} s per further step"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_ssh", description=__doc__)
    parser.add_argument("--nodes", type=int, default=10, help="SSH servers, one per node")
    parser.add_argument("--steps", type=int, default=5, help="exec steps of the reuse run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    report = measure(args.nodes, args.steps)
    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)


if __name__ == "__main__":
    main()

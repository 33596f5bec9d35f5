"""Dashboard clients of ``xlr-chain-http`` in a process of their own: ``python -m benchmarks.followers URL ID…``.

:data:`CLIENTS` threads, each following a task's live log (server-sent events) to its end and then listing the
tasks in progress, over and over through the given task ids, until standard input closes. It prints ``ready``
once every client has reached the server, and at the end one JSON object (clients, requests, events). They run
outside the benchmarked process, as browsers would: their own work must not take the scheduler's interpreter lock.
"""

from __future__ import annotations

import json
import sys
import threading

import requests

#: Dashboard clients.
CLIENTS = 10


def follow(
    url: str, task_ids: list[str], number: int, started: threading.Barrier, stopping: threading.Event, counts: list[int]
) -> None:
    """Client ``number``: follow the tasks ``number``, ``number + CLIENTS``, … until ``stopping``."""
    with requests.Session() as session:
        session.get(f"{url}/tasks?limit=1", timeout=60).raise_for_status()
        started.wait()
        index = number
        while not stopping.is_set():
            task_id = task_ids[index % len(task_ids)]
            index += CLIENTS
            with session.get(f"{url}/tasks/{task_id}/log?follow=true", stream=True, timeout=60) as stream:
                for line in stream.iter_lines():  # until the task ends (its "end" event)
                    counts[1] += line.startswith(b"event:")
            session.get(f"{url}/tasks?status=in_progress&limit=50", timeout=60).raise_for_status()
            counts[0] += 2


def main(argv: list[str]) -> None:
    url, *task_ids = argv
    started = threading.Barrier(CLIENTS + 1)
    stopping = threading.Event()
    counts = [0, 0]  # requests, events (a lost increment between threads is no matter here)
    threads = [
        threading.Thread(target=follow, args=(url, task_ids, n, started, stopping, counts), daemon=True)
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    started.wait()
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes it
    stopping.set()
    for thread in threads:
        thread.join(60)
    print(json.dumps({"http_clients": CLIENTS, "http_requests": counts[0], "http_events": counts[1]}))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Benchmarks of the durable scheduler, run with ``python -m benchmarks`` (see ``docs/running-tasks.md``)."""

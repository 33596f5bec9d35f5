"""``xlr serve``: run every due script run of the home until SIGTERM/SIGINT, then stop gracefully.

It logs one line per event to stderr: tasks created, started and ended (with their status), script runs re-queued
after a restart, schedules fired, executions started and ended, notifications sent or failed. ``--log-format json``
makes each line one JSON object (``time``, ``level``, ``event``, the ids, ``message``); ``-v`` adds debug lines,
``-q`` keeps only warnings and errors. Task events come from the ``xlr_task_started``/``xlr_task_ended`` hooks,
the others from the ``logging`` calls where they happen (``extra={"event": …, "task_id": …}``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys

import click

from xlr_runtime.cli.options import CliContext, runtime_options
from xlr_runtime.runtime import Runtime, StopFlag, freeze_start_up_heap, run_until_stopped
from xlr_runtime.settings import parse_listen
from xlr_runtime.task_events import TaskEvents

log = logging.getLogger("xlr_runtime.serve")

#: The ``extra`` fields a JSON line carries when a log call gives them.
FIELDS = ("task_id", "run_id", "execution_id", "job", "status", "trigger", "kind", "target")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO 8601, UTC), level, event, the ids the call gave, message."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "log"),
        }
        data.update({name: getattr(record, name) for name in FIELDS if getattr(record, name, None) is not None})
        data["message"] = record.getMessage()
        if record.exc_info or record.exc_text:  # exc_text alone: a record of the HTTP server's process
            data["traceback"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(data, default=str)


def configure_logging(verbosity: int, log_format: str) -> logging.Handler:
    """Log the runtime's records to stderr at INFO (``verbosity`` > 0: DEBUG, < 0: WARNING); return the handler."""
    level = logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("xlr_runtime")
    handler.previous_level = root.level  # type: ignore[attr-defined]  # restored by the caller's cleanup
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def _listen_address(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--http`` checked as ``http.listen`` is."""
    if value is None:
        return None
    try:
        parse_listen(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.command(name="serve")
@click.option("-v", "--verbose", count=True, help="Also log debug lines.")
@click.option("-q", "--quiet", count=True, help="Log only warnings and errors.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="XLR_LOG_FORMAT",
    help="text lines, or one JSON object per line (time, level, event, ids, message) [env XLR_LOG_FORMAT].",
)
@click.option(
    "--http",
    "http_listen",
    metavar="HOST:PORT|off",
    callback=_listen_address,
    help="Serve the HTTP API here (port 0: a free one), or off [default: env XLR_HTTP, else http.listen, else "
    "127.0.0.1:5516].",
)
@runtime_options
def serve_command(ctx: CliContext, verbose: int, quiet: int, log_format: str, http_listen: str | None) -> None:
    """Run every task of the home until stopped (SIGTERM or Ctrl-C stops gracefully).

    Script runs left running by a crashed process are re-run first; running scripts get serve.grace_period
    seconds to finish on stop, the rest are re-queued for the next start. One server per home. Each event
    (task created, started, ended; run re-queued; schedule fired; execution started, ended; notification sent,
    failed) is one line on stderr.

    The HTTP API (docs/http.md) is served on 127.0.0.1:5516 unless --http, XLR_HTTP or the http.listen setting
    says otherwise; an address in use stops the start with one line.

    Example: xlr serve --home ~/.xlr --log-format json --http 127.0.0.1:8080
    """
    settings = ctx.settings if http_listen is None else ctx.settings.with_overrides(http_listen=http_listen)
    handler = configure_logging(verbose - quiet, log_format)
    events = TaskEvents()

    def banner(text: str, event: str) -> None:  # the start and stop lines, whatever the level
        if log_format == "json":
            handler.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, text, (), None, extra={"event": event}))
        else:
            click.echo(text, err=True)

    try:
        with Runtime(ctx.home, plugin_paths=ctx.option_plugin_paths, settings=settings) as runtime:
            runtime.pm.register(events)
            flag = StopFlag()
            restore = flag.install()

            def ready() -> None:
                banner(
                    f"Serving {ctx.home.root} with {runtime.settings['workers.size']} workers "
                    f"(pid {os.getpid()}); Ctrl-C to stop.",
                    "serve.ready",
                )
                freeze_start_up_heap()

            try:
                run_until_stopped(lambda: runtime.serve(on_ready=ready), flag, runtime.request_stop)
            finally:
                restore()
                runtime.pm.unregister(events)
            banner("Stopped.", "serve.stopped")
    finally:
        root = logging.getLogger("xlr_runtime")
        root.removeHandler(handler)
        root.setLevel(handler.previous_level)  # type: ignore[attr-defined]

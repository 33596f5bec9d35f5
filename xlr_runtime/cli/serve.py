"""``xlr serve``: run every due script run of the home until SIGTERM/SIGINT, then stop gracefully."""

from __future__ import annotations

import os

import click

from xlr_runtime import hookimpl
from xlr_runtime.cli.options import CliContext, runtime_options
from xlr_runtime.runtime import Runtime, StopFlag, run_until_stopped, stderr_logging


@click.command(name="serve")
@runtime_options
def serve_command(ctx: CliContext) -> None:
    """Run every task of the home until stopped (SIGTERM or Ctrl-C stops gracefully).

    Script runs left running by a crashed process are re-run first; running scripts get serve.grace_period
    seconds to finish on stop, the rest are re-queued for the next start. One server per home.

    Example: xlr serve --home ~/.xlr
    """
    stderr_logging()
    with Runtime(ctx.home, plugin_paths=ctx.plugin_paths, settings=ctx.settings) as runtime:
        flag = StopFlag()
        restore = flag.install()

        def ready() -> None:
            click.echo(
                f"Serving {ctx.home.root} with {runtime.settings['workers.size']} workers "
                f"(pid {os.getpid()}); Ctrl-C to stop.",
                err=True,
            )

        try:
            run_until_stopped(lambda: runtime.serve(on_ready=ready), flag, runtime.request_stop)
        finally:
            restore()
        click.echo("Stopped.", err=True)


@hookimpl
def xlr_register_commands(cli: click.Group) -> None:
    cli.add_command(serve_command)

"""``xlr demo``: the Jenkins Build sample end to end, with nothing to install or configure.

It starts the Jenkins test server (:mod:`xlr_runtime.testing.jenkins`) on a free 127.0.0.1 port with one
parameterised job in a folder, basic authentication and CSRF crumbs on; writes an ``xlr.toml`` defining that
server as the CI ``jenkins`` (its password by reference to an environment variable, as real configurations
must); and runs a ``jenkins.Build`` task exactly as ``xlr run`` does: real scheduler, real worker pool, live
status line ("Build queued" -> "Running build #N" -> "Build #N: SUCCESS"; one timestamped line per change when
stdout is not a terminal), then the outputs.

The demo runs in a fresh temporary home, deleted afterwards, so it never touches ``~/.xlr`` (or ``XLR_HOME``, or
the store ``XLR_STORE`` names) and never competes with an ``xlr serve`` there. ``--home DIR`` (a new or empty
folder) keeps the home, to look at the task afterwards with ``xlr tasks --home DIR``.

``--http`` serves the demo home with ``xlr serve`` instead, dashboard included, until Ctrl-C: the task is created,
with an API token to log in with and a sample Rundeck job with options, and the newcomer watches it in a browser.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from xlr_runtime.cli.progress import progress_option, resolve_mode
from xlr_runtime.cli.run import run_command
from xlr_runtime.home import Home
from xlr_runtime.testing.jenkins_model import RESULTS

#: The demo job: a parameterised job in a folder, as ``jobName`` spells it and as Jenkins names it.
DEMO_JOB_NAME = "xlr-demo/job/hello-world"
DEMO_JOB_PATH = "xlr-demo/hello-world"
DEMO_USER = "demo"
#: The environment variable the demo's ``xlr.toml`` reads the Jenkins password from.
PASSWORD_ENV = "XLR_DEMO_JENKINS_PASSWORD"
#: The task the demo runs: its inputs as ``xlr run`` takes them.
DEMO_INPUTS = (f"jobName={DEMO_JOB_NAME}", "jobParameters=GREETING=hello from xlr-runtime")
DEMO_CIS = ("jenkinsServer=jenkins",)
DEMO_TITLE = "Jenkins demo build"
#: The demo's store: ``store.url`` empty, its home's ``xlr.db``, given as ``--store`` so that ``XLR_STORE`` (the
#: caller's own store) is never written to.
DEMO_STORE = ""
#: Where ``--http`` serves when given no address: a free port on loopback (the serve log names it).
DEMO_LISTEN = "127.0.0.1:0"
#: The Rundeck job ``--http`` loads into the project ``demo``, for the dashboard's run form.
DEMO_RUNDECK_JOB = """\
- name: greet
  uuid: 0d3e5f7a-0000-4000-8000-00000000de70
  description: Say hello on the server node
  options:
  - name: greeting
    required: true
    enforced: true
    values: [hello, bonjour, hallo]
    value: hello
  - name: name
    regex: '[A-Za-z ]+'
    value: newcomer
  - name: secret
    secure: true
    valueExposed: true
    description: Masked wherever it is shown
  sequence:
    commands:
    - exec: echo "${option.greeting}, ${option.name}"
    - exec: echo "the secret is $RD_OPTION_SECRET"
"""


def demo_config(url: str) -> str:
    """The ``xlr.toml`` the demo writes: a 1-second polling interval and the CI ``jenkins``."""
    return (
        "[settings]\n"
        '"schedule.default_interval" = 1   # poll every second (XL Release polls every 5)\n'
        "\n"
        "[ci.jenkins]\n"
        'type = "jenkins.Server"\n'
        f'url = "{url}"\n'
        f'username = "{DEMO_USER}"\n'
        f'password = {{ env = "{PASSWORD_ENV}" }}\n'
    )


@contextmanager
def _demo_home(home_dir: Path | None) -> Iterator[Path]:
    if home_dir is None:
        with tempfile.TemporaryDirectory(prefix="xlr-demo-") as temporary:
            yield Path(temporary)
        return
    home_dir = home_dir.expanduser()
    if home_dir.exists() and any(home_dir.iterdir()):
        raise click.BadParameter(f"{home_dir} is not empty; give a new or empty folder", param_hint="--home")
    home_dir.mkdir(parents=True, exist_ok=True)
    yield home_dir


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@click.command(name="demo")
@click.option(
    "--result",
    type=click.Choice(RESULTS),
    default="SUCCESS",
    show_default=True,
    help="How the demo build ends (anything but SUCCESS fails the task).",
)
@click.option(
    "--queue-seconds",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Seconds the build waits in the Jenkins queue.",
)
@click.option(
    "--build-seconds", type=click.FloatRange(min=0), default=4.0, show_default=True, help="Seconds the build runs."
)
@click.option(
    "--home",
    "home_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's home in this new or empty folder [default: a temporary folder, deleted].",
)
@click.option(
    "--http",
    "http_listen",
    is_flag=False,
    flag_value=DEMO_LISTEN,
    default=None,
    metavar="[HOST:PORT]",
    help="Serve the demo with its web dashboard until Ctrl-C instead of running it here "
    f"[alone: {DEMO_LISTEN}, a free port].",
)
@progress_option
@click.pass_context
def demo_command(
    click_ctx: click.Context,
    result: str,
    queue_seconds: float,
    build_seconds: float,
    home_dir: Path | None,
    http_listen: str | None,
    progress: str,
) -> None:
    """Run the Jenkins Build sample against a local Jenkins test server, end to end.

    Starts the test server on a free 127.0.0.1 port, defines it as the CI 'jenkins' in the demo home's
    xlr.toml, and runs jenkins.Build through the real scheduler and worker pool with the live status line
    (without a terminal: one timestamped line per status line change and script run). All of it goes to
    stdout.
    Exit code 0 when the build succeeds, 1 otherwise.

    With --http the demo home is served as 'xlr serve' does, web dashboard included, until Ctrl-C: open the
    dashboard address the serve log prints to watch the build live, and log in with the printed token to start
    tasks and run the sample Rundeck job.

    Example: xlr demo --result FAILURE
    """
    from xlr_runtime.testing.jenkins import JenkinsServer  # the HTTP server loads only when the demo runs

    mode = resolve_mode(progress, "stdout")  # the whole story on stdout: 'xlr demo > out.txt' holds it
    password = secrets.token_hex(16)
    with (
        _demo_home(home_dir) as home,
        JenkinsServer(users={DEMO_USER: password}, crumbs=True, anonymous_read=False) as jenkins,
    ):
        jenkins.add_job(
            DEMO_JOB_PATH,
            parameters={"GREETING": "hello"},
            result=result,
            queue_delay=queue_seconds,
            duration=build_seconds,
        )
        Home(home).config_file.write_text(demo_config(jenkins.url), encoding="utf-8")
        click.echo(
            f"Jenkins test server at {jenkins.url} with job {DEMO_JOB_PATH} "
            f"(queued {queue_seconds:g} s, builds {build_seconds:g} s, ends {result})",
            err=False,
        )
        click.echo(
            f"Demo home {home}{'' if home_dir else ' (temporary)'}; the CI is [ci.jenkins] in its xlr.toml", err=False
        )
        with _environment(PASSWORD_ENV, password):
            if http_listen is not None:
                _serve_dashboard(click_ctx, home, http_listen)
                return
            click_ctx.invoke(
                run_command,
                type_name="jenkins.Build",
                inputs=DEMO_INPUTS,
                ci_refs=DEMO_CIS,
                title=DEMO_TITLE,
                as_json=False,
                progress=mode,
                transcript="stdout",
                home_dir=home,
                plugin_paths=(),
                store_url=DEMO_STORE,
            )


def _serve_dashboard(click_ctx: click.Context, home: Path, listen: str) -> None:
    """Create the demo task, a token named ``demo`` and the sample Rundeck job in ``home``, then serve it (HTTP on
    ``listen``) until Ctrl-C."""
    from xlr_runtime.cli.run import parse_assignments
    from xlr_runtime.cli.serve import serve_command
    from xlr_runtime.http.tokens import issue
    from xlr_runtime.rundeck.jobs.jobstore import JobStore
    from xlr_runtime.rundeck.jobs.yaml_codec import load_jobs_yaml
    from xlr_runtime.runtime import Runtime

    inputs = {**parse_assignments(DEMO_INPUTS, "-i"), **parse_assignments(DEMO_CIS, "--ci")}
    with Runtime(Home(home), overrides={"store.url": DEMO_STORE}) as runtime:
        task = runtime.create_task("jenkins.Build", inputs, title=DEMO_TITLE)
        token, _row = issue(runtime.store, "demo", now=time.time())
        JobStore(runtime.store).load("demo", load_jobs_yaml(DEMO_RUNDECK_JOB, path="xlr demo"), now=time.time())
    click.echo(f"Task {task.id} (jenkins.Build) created; the Rundeck job demo/greet is loaded")
    click.echo(f"Log in to the dashboard with the API token {token} to start tasks and run jobs")
    click.echo("The dashboard is at the address of the 'Dashboard at' line below; Ctrl-C stops the demo")
    click_ctx.invoke(
        serve_command, verbose=0, quiet=0, log_format="text", http_listen=listen, home_dir=home, plugin_paths=(),
        store_url=DEMO_STORE,
    )  # fmt: skip

"""The one error hierarchy of xlr-runtime.

Every error the runtime raises on purpose is an :class:`XlrError`. Each class says who raises it, carries the
fields that locate the problem, and builds its one-line message from them. The CLI prints ``str(error)`` (plus
the hint, if any) without a traceback and exits non-zero; ``--debug`` shows the traceback.

Secrets never go into an error: classes that carry values take them already masked.
"""

from __future__ import annotations

from pathlib import Path


class XlrError(Exception):
    """Base of every error xlr-runtime raises on purpose.

    ``hint`` is an optional second line suggesting the likely fix; ``exit_code`` is what the CLI exits with.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


def location(path: str | Path | None, line: int | None) -> str:
    """Format ``path:line`` (or just ``path``) for messages; empty when nothing is known."""
    if path is None:
        return ""
    return f"{path}:{line}" if line else str(path)


class LocatedError(XlrError):
    """An error in a file, reported as ``path:line: message``."""

    def __init__(
        self, message: str, *, path: str | Path | None, line: int | None = None, hint: str | None = None
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.detail = message
        where = location(path, line)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)


class ConfigError(LocatedError):
    """Raised at start-up by :mod:`xlr_runtime.settings` and :mod:`xlr_runtime.home` for a bad setting,
    an unknown key, a wrong type, or an unreadable ``xlr.toml`` / ``conf/xl-release.conf``."""


class EnvironmentConfigError(ConfigError):
    """Raised by :func:`xlr_runtime.settings.load` when an environment variable that sets a setting (``XLR_HTTP``,
    ``XLR_STORE``) holds a bad value: ``environment variable XLR_HTTP: …``. ``variable`` is its name. Unlike a bad
    file, it stops every command, as a bad command-line option does."""

    def __init__(self, message: str, *, variable: str, hint: str | None = None) -> None:
        self.variable = variable
        super().__init__(message, path=f"environment variable {variable}", hint=hint)


class DefinitionError(LocatedError):
    """Raised by the type system when a ``synthetic.xml`` is malformed or inconsistent (unknown ``extends``,
    duplicate type or property, a default that does not match its kind, a missing script)."""


class PluginError(XlrError):
    """Raised when a plugin (folder, archive or entry point) cannot be found, opened or loaded."""


#: How to load a missing type: the hint of every ``unknown type`` error.
UNKNOWN_TYPE_HINT = (
    "Load its plugin: name it in plugins.path of xlr.toml's [settings], or give --plugins; "
    "'xlr types' lists the loaded types."
)


class UnknownTypeError(XlrError):
    """Raised by the type registry when a type name is not loaded."""

    def __init__(self, type_name: str, *, hint: str | None = None) -> None:
        self.type_name = type_name
        super().__init__(f"unknown type {type_name!r}", hint=hint or UNKNOWN_TYPE_HINT)


class ValueCoercionError(XlrError):
    """Raised by :func:`xlr_runtime.typesystem.kinds.coerce` when a value does not fit a property's kind."""

    def __init__(self, prop: str, kind: str, reason: str) -> None:
        self.prop = prop
        self.kind = kind
        self.reason = reason
        super().__init__(f"property {prop!r} ({kind}): {reason}")


class TaskInputError(XlrError):
    """Raised when a task is created with inputs that do not match its type (missing required input, unknown
    property, wrong kind, unknown CI). Nothing is stored. ``prop`` names the input at fault, when one is."""

    def __init__(self, message: str, *, prop: str | None = None, hint: str | None = None) -> None:
        self.prop = prop
        super().__init__(message, hint=hint)


class NotFoundError(XlrError):
    """Raised when a stored object (task, job, execution, project, CI) named by the user does not exist."""


class StateError(XlrError):
    """Raised when an operation does not fit an object's current state (retrying a running task, aborting a
    finished one, a second execution of a job that forbids multiple executions)."""


class AlreadyFiredError(StateError):
    """Raised by ``ExecutionRepository.create`` when the execution of a schedule's fire time is already stored
    (another host fired it first): each fire time of a job queues one execution in the whole cluster."""

    def __init__(self, job: str, fire_at: float, execution_id: int) -> None:
        self.job = job
        self.fire_at = fire_at
        self.execution_id = execution_id
        super().__init__(f"job {job!r} already fired at {fire_at} (execution {execution_id})")


class ClaimLostError(StateError):
    """Raised by ``ExecutionRepository``'s fenced writes (an execution's progress, log lines, end; a job reference
    or plugin task it starts) when the execution no longer runs under the claim that writes (``claim_token``):
    another runtime re-queued it after this runtime's lease ran out (it stalled, or was cut off) and may have
    resumed it. Nothing of the write is stored; the runtime stops working on the execution."""

    def __init__(self, execution_id: int, claim_token: int) -> None:
        self.execution_id = execution_id
        self.claim_token = claim_token
        super().__init__(
            f"execution {execution_id}: no longer this runtime's (claim {claim_token}; taken over by another "
            "runtime after this one's lease ran out): its late writes are dropped and it stops working on it"
        )


class HttpListenError(XlrError):
    """Raised by ``xlr serve`` when its HTTP API cannot listen on the address of ``--http`` / ``http.listen``
    (the port is in use, the host is not an address of this machine, no permission)."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(
            f"the HTTP API cannot listen on {address}: {reason}",
            hint="Give another address with --http HOST:PORT (port 0 picks a free one), or --http off.",
        )


class ApiRequestError(XlrError):
    """Raised by the HTTP API (:mod:`xlr_runtime.http`) for a request it refuses: ``status`` is the HTTP status
    (400 for bad input, 404, 409, …) and ``field`` names the query parameter, body field or header at fault."""

    def __init__(self, status: int, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        self.status = status
        self.field = field
        super().__init__(message, hint=hint)


class HomeLockedError(XlrError):
    """Raised when a second runtime process tries to serve a home that another live process holds."""


class StoreError(XlrError):
    """Raised by the store for a database that is unusable (newer schema, corrupt file, not a database), or for a
    value it refuses to keep (a due time that is not a finite number)."""


class StoreUnavailableError(StoreError):
    """Raised by the store when the database cannot be written for now: the disk is full, the file or its folder
    is read-only, an I/O error, or another process held the write lock past ``busy_timeout``; on PostgreSQL, a
    server that cannot be reached or that dropped the connection. The message names the database file (or the URL,
    without its password) and the reason. Nothing was written: a long-running process (``xlr serve``) keeps what
    it could not store and tries again; a command stops with this one line."""


class HomeError(XlrError):
    """Raised when the home folder (``--home``) cannot be created or one of its files written: ``path``, and
    the operating system's reason."""

    def __init__(self, path: str | Path, reason: str, *, hint: str | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}", hint=hint)


class ScriptError(XlrError):
    """Raised by the scripting layer for a problem in running a script that is not the script's own failure
    (script file missing from its plugin, an unsupported authentication method, a worker that cannot start)."""


class HttpAuthenticationError(ScriptError):
    """Raised by ``HttpRequest`` (:mod:`xlr_runtime.scripting.httpauth`) before or instead of the script's request
    when the connection's ``authenticationMethod`` cannot be applied: an unknown method, missing credentials, or
    an OAuth2 token endpoint that gives no token. ``method`` is the method as configured; ``detail`` says why
    (never a secret)."""

    def __init__(self, method: object, detail: str) -> None:
        super().__init__(f"HttpRequest: authentication method {method!r} {detail}")
        self.method = method
        self.detail = detail


class CassetteError(XlrError):
    """Raised by the test harness's record and replay (:mod:`xlr_runtime.testing.cassettes`) when a cassette
    cannot be used: it is missing in replay mode, cannot be read, or vcrpy is not installed."""


class CassetteMissError(ScriptError):
    """Raised to a script, in place of an HTTP answer, when the test replays a cassette
    (:mod:`xlr_runtime.scripting.recording`) that holds no answer for its request: ``GET <url> is not in the
    cassette <path>``. ``url`` is already masked."""

    def __init__(self, method: str, url: str, cassette: str) -> None:
        super().__init__(
            f"{method} {url} is not in the cassette {cassette} (record it again: pytest --xlr-record=new_episodes)"
        )
        self.method = method
        self.url = url
        self.cassette = cassette


class UnsupportedImportError(ScriptError, ImportError):
    """Raised by the import shims (:mod:`xlr_runtime.compat.imports`) when a plugin script imports a Java/Jython
    module the runtime cannot serve. It is also an :class:`ImportError`, so a script's own
    ``try: import x / except ImportError:`` fallback still works."""

    def __init__(self, module: str, *, path: str | None = None, line: int | None = None) -> None:
        where = location(path, line)
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}import of {module!r} is not supported by xlr-runtime")
        self.module = self.name = module  # set after ImportError.__init__, which resets name and path
        self.path = path
        self.line = line


class UnsupportedApiError(ScriptError):
    """Raised when a script calls a method of XL Release's server API (``releaseApi``, ``taskApi``,
    ``XLReleaseServiceHolder`` …) that xlr-runtime does not provide locally (see
    :mod:`xlr_runtime.scripting.xlr_api`): ``releaseApi.createRelease is not available in xlr-runtime``."""


class ScriptSyntaxError(ScriptError):
    """Raised by :func:`xlr_runtime.compat.translate.to_python3` when a script does not compile, as Python 3
    nor after translation from Python 2: ``path:line: message`` about the original file."""

    def __init__(self, message: str, *, path: str | None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.detail = message
        where = location(path, line)
        super().__init__(f"{where}: {message}" if where else message)


class JobDefinitionError(LocatedError):
    """Raised by the Rundeck job codecs for an invalid job file: ``path:line: job "name": message``.

    A file with one bad job imports nothing."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None,
        line: int | None = None,
        job: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.job = job
        detail = f'job "{job}": {message}' if job else message
        super().__init__(detail, path=path, line=line, hint=hint)


class OptionValueError(XlrError):
    """Raised before an execution starts when a job option value is missing, not allowed, or fails its regex.
    ``option`` names the option at fault when there is one (the dashboard's run form shows the message by it)."""

    def __init__(self, message: str, *, option: str | None = None, hint: str | None = None) -> None:
        self.option = option
        super().__init__(message, hint=hint)


class NodeFilterError(XlrError):
    """Raised when a node filter cannot be parsed or a resource-model file cannot be read."""


class ResourceModelError(LocatedError):
    """Raised by :mod:`xlr_runtime.rundeck.nodes.resources` for a resource-model file (XML or YAML) that cannot be read:
    ``path:line: message``."""


class NodeExecutorError(XlrError):
    """Raised by :mod:`xlr_runtime.rundeck.nodes.ssh.providers` when a node (or its project) names a node executor or
    file copier this runtime does not run (``ssh-exec``, ``script-exec``, ``winrm`` …)."""


class NodeConnectionError(XlrError):
    """Raised by :mod:`xlr_runtime.rundeck.nodes.ssh` when a remote node cannot be reached, refuses the connection or
    the credentials, presents an unknown host key, or a remote command times out.

    The message is one line naming the node, the host and the cause; it never holds a password or key."""

    def __init__(self, node: str, host: str, cause: str, *, reason: str = "ConnectionFailure") -> None:
        self.node = node
        self.host = host
        self.cause = cause
        #: Rundeck's failure reason for the node step: ``ConnectionFailure``, ``ConnectionTimeout``,
        #: ``AuthenticationFailure``, ``HostKeyFailure``, ``CommandTimeout``, ``ConfigurationFailure``.
        self.reason = reason
        super().__init__(f"node {node!r} ({host}): {cause}")


class KeyStoreError(XlrError):
    """Raised by :class:`xlr_runtime.rundeck.keystore.KeyStore` for a key path that is not a Rundeck key path,
    a value it refuses (empty, a password that is not UTF-8 text), a key of the wrong kind for its use, or a
    stored value that cannot be decrypted. Carries ``path`` and ``reason``; never the value."""

    def __init__(self, path: str, reason: str, *, hint: str | None = None) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"key storage {path}: {reason}", hint=hint)


class KeyNotFoundError(KeyStoreError, NotFoundError):
    """Raised by :class:`xlr_runtime.rundeck.keystore.KeyStore` when no key is stored at ``path``."""

    def __init__(self, path: str, *, hint: str | None = None) -> None:
        super().__init__(path, "no key is stored there", hint=hint or "Run 'xlr keys list' to see the stored keys.")

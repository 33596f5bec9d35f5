"""A worker process imports the NTLM/SPNEGO stack (requests_ntlm, spnego: ~150 ms) only when a connection uses
NTLM, not at start-up (``tests/test_http_auth.py`` runs NTLM itself against a real acceptor)."""

from __future__ import annotations

from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome
from xlr_runtime.scripting.pool import WorkerPool

#: Modules a worker must not have imported before a script needs them.
LAZY = ("requests_ntlm", "spnego")
SOURCE = f"import sys\nloaded = ','.join(m for m in {LAZY!r} if m in sys.modules) or '-'\n"


def test_a_started_worker_has_not_imported_the_ntlm_stack() -> None:
    request = script_request(SOURCE, properties=[prop("loaded", category="output")], timeout=60.0)
    with WorkerPool(1) as pool:
        result = pool.submit(request).result(timeout=60)
    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert result.properties == {"loaded": "-"}

"""The worker pools the harnesses of a test session share: one per worker environment, the least recent stopped."""

from __future__ import annotations

import pytest

from xlr_runtime.errors import ScriptError
from xlr_runtime.scripting.build import script_request
from xlr_runtime.testing.pools import SharedPools


def test_one_pool_per_environment_and_the_least_recent_beyond_keep_is_stopped() -> None:
    pools = SharedPools(1, keep=2)
    try:
        base = pools.pool_for({"A": "1"})
        assert pools.pool_for({"A": "1"}) is base
        own = pools.pool_for({"A": "1", "B": "2"})
        assert own is not base and own.environ == {"A": "1", "B": "2"}
        assert pools.pool_for({"A": "1"}) is base  # now the most recent: the next new one stops `own`
        third = pools.pool_for({"C": "3"})
        assert pools.pool_for({"A": "1"}) is base and third is not own
        with pytest.raises(ScriptError):
            own.submit(script_request("x = 1\n"))
    finally:
        pools.close()
    with pytest.raises(ScriptError):
        base.submit(script_request("x = 1\n"))

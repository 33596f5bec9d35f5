"""The SSH test servers' guard: without ``sshd`` the SSH tests skip with one reason, and under CI they fail."""

from __future__ import annotations

import pytest

from tests import ssh_helpers


def test_without_sshd_the_ssh_tests_skip_with_one_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssh_helpers, "sshd_binary", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as info:
        ssh_helpers.require_sshd()
    assert str(info.value) == "sshd is not installed (Debian: apt-get install openssh-server)"


def test_under_ci_a_missing_sshd_fails_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssh_helpers, "sshd_binary", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as info:
        ssh_helpers.require_sshd()
    assert str(info.value) == "sshd is not installed; CI must run the SSH tests (.ci/run installs openssh-server)"

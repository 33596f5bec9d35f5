"""API tokens: ``xlr token create|list|revoke`` and the checks of :mod:`xlr_runtime.http.tokens` (a token is
printed once and stored only as its SHA-256; a name is unique among the valid tokens)."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.http.tokens import PREFIX, match, token_hash
from xlr_runtime.store import Store


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home.root)])


def test_a_token_is_printed_once_and_stored_only_as_its_hash(home: Home) -> None:
    created = xlr(home, "token", "create", "ci-bot")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith(PREFIX) and len(token) > 40
    assert "Token 'ci-bot' created; it is not shown again." in created.stderr
    with Store.open(home.database) as store:
        rows = store.tokens.listed()
        assert [row.hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert token not in json.dumps(store.query("SELECT * FROM api_tokens"))
        assert match(rows, token) == rows[0]
        assert match(rows, token + "x") is None
    listed = xlr(home, "token", "list")
    assert listed.exit_code == 0, listed.output
    assert "ci-bot" in listed.output and token not in listed.output


def test_a_name_is_unique_among_valid_tokens_and_free_again_once_revoked(home: Home) -> None:
    first = xlr(home, "token", "create", "bot").stdout.strip()
    again = xlr(home, "token", "create", "bot")
    assert again.exit_code == 1
    assert "Error: a token named 'bot' exists\nHint: Revoke it first ('xlr token revoke bot')" in again.output
    revoked = xlr(home, "token", "revoke", "bot")
    assert (revoked.exit_code, revoked.output) == (0, "Token 'bot' revoked.\n")
    second = xlr(home, "token", "create", "bot").stdout.strip()
    with Store.open(home.database) as store:
        rows = store.tokens.listed(include_revoked=True)
    assert [row.revoked_at is not None for row in rows] == [True, False]
    assert match(rows, first) == rows[0] and match(rows, second) == rows[1]
    listed = json.loads(xlr(home, "token", "list", "--json", "--all").stdout)
    assert [(row["name"], row["revoked_at"] is not None) for row in listed] == [("bot", True), ("bot", False)]


def test_revoking_an_unknown_token_is_an_error(home: Home) -> None:
    result = xlr(home, "token", "revoke", "nobody")
    assert result.exit_code == 1
    assert "Error: no token named 'nobody'" in result.output


@pytest.mark.parametrize("name", ["", ".dot-first", "with space", "x" * 65, "slash/name"])
def test_a_bad_token_name_is_a_usage_error_naming_it(home: Home, name: str) -> None:
    result = xlr(home, "token", "create", name)
    assert result.exit_code == 2, result.output
    assert "Invalid value for NAME" in result.output
    assert "is not a token name" in result.output


def test_the_hash_is_sha256_hex() -> None:
    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()

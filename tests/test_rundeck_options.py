"""Option values checked before an execution starts: defaults, required, enforced, regex, multivalued,
secure, dates, and valuesUrl served by a real local HTTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.rundeck_helpers import ValuesHandler, serve_http
from xlr_runtime.errors import OptionValueError
from xlr_runtime.rundeck.jobs.model import Option
from xlr_runtime.rundeck.run.options import (
    parse_arg_string,
    resolve_options,
    strptime_format,
)


@pytest.fixture(scope="module")
def values_server() -> Iterator[str]:
    with serve_http(ValuesHandler) as url:
        yield url


def test_parse_arg_string() -> None:
    assert parse_arg_string('-env prod -msg "a b" -flag -n -1 -env dev') == {
        "env": ["prod", "dev"],
        "msg": ["a b"],
        "flag": [""],
        "n": ["-1"],
    }
    with pytest.raises(OptionValueError) as info:
        parse_arg_string("stray")
    assert str(info.value) == "unexpected argument 'stray': expected -optionname value"


def test_defaults_and_plain_values() -> None:
    options = [Option(name="env", value="dev"), Option(name="msg"), Option(name="none")]
    resolved = resolve_options(options, {"msg": "hi"})
    assert dict(resolved.values) == {"env": "dev", "msg": "hi"}
    assert resolved.context() == {"option": {"env": "dev", "msg": "hi"}}
    assert resolved.arg_string() == "-env dev -msg hi"


@pytest.mark.parametrize(
    ("option", "supplied", "message"),
    [
        (Option(name="env", required=True), {}, "option 'env' is required"),
        (Option(name="env", required=True), {"env": ""}, "option 'env' is required"),
        (
            Option(name="env", values=("dev", "prod"), enforced=True),
            {"env": "qa"},
            "option 'env': value 'qa' is not one of the allowed values: dev, prod",
        ),
        (
            Option(name="n", regex=r"\d+"),
            {"n": "12a"},
            "option 'n': value '12a' does not match the regular expression '\\\\d+'",
        ),
        (
            Option(name="pw", secure=True, regex="[a-z]+"),
            {"pw": "Hunter2"},
            "option 'pw': value ***** does not match the regular expression '[a-z]+'",
        ),
        (
            Option(name="d", is_date=True, date_format="MM/DD/YYYY"),
            {"d": "2024-01-31"},
            "option 'd': value '2024-01-31' is not a date in the format 'MM/DD/YYYY'",
        ),
        (
            Option(name="m", multivalued=True, delimiter=" ", values=("a", "b"), enforced=True),
            {"m": "a c"},
            "option 'm': value 'c' is not one of the allowed values: a, b",
        ),
        (Option(name="x"), {"y": "1"}, "unknown option 'y' (the job's options: x)"),
        (Option(name="x", regex="("), {"x": "1"}, "option 'x': invalid regular expression '(': "),
    ],
)
def test_refusals(option: Option, supplied: dict[str, str], message: str) -> None:
    with pytest.raises(OptionValueError) as info:
        resolve_options([option], supplied)
    assert str(info.value).startswith(message)
    assert "Hunter2" not in str(info.value)


def test_a_regex_that_backtracks_without_end_fails_the_option_within_the_bound() -> None:
    started = time.monotonic()
    with pytest.raises(OptionValueError) as info:
        resolve_options([Option(name="v", regex="(a|a)+$")], {"v": "a" * 40 + "!"})
    assert time.monotonic() - started < 5
    assert str(info.value) == (
        f"option 'v': value '{'a' * 40}!' took longer than 1s to match the regular expression '(a|a)+$'"
    )
    assert info.value.hint is not None
    with pytest.raises(OptionValueError) as secure:
        resolve_options([Option(name="pw", regex="(a|a)+$", secure=True)], {"pw": "a" * 40 + "!"})
    assert str(secure.value) == "option 'pw': value ***** took longer than 1s to match the regular expression '(a|a)+$'"
    with pytest.raises(OptionValueError, match="does not match"):  # catastrophic for re, quick here
        resolve_options([Option(name="v", regex="(a+)+$")], {"v": "a" * 40 + "!"})


def test_option_regexes_take_javas_syntax() -> None:
    option = Option(name="v", regex=r"\p{Lu}\p{Ll}++")
    assert resolve_options([option], {"v": "Ab"}).values == {"v": "Ab"}


def test_regex_is_a_full_match_and_default_is_checked() -> None:
    option = Option(name="n", regex=r"\d+", value="7")
    assert resolve_options([option], {}).values == {"n": "7"}
    assert resolve_options([option], {"n": "42"}).values == {"n": "42"}


def test_multivalued_joins_with_delimiter_and_exposes_it() -> None:
    option = Option(name="hosts", multivalued=True, delimiter=";", regex="h[0-9]")
    resolved = resolve_options([option], {"hosts": ["h1", "h2;h3"]})
    assert resolved.values == {"hosts": "h1;h2;h3"}
    assert resolved.context() == {"option": {"hosts": "h1;h2;h3", "hosts.delimiter": ";"}}


def test_secure_options_are_hidden_unless_exposed() -> None:
    options = [Option(name="token", secure=True), Option(name="pw", secure=True, value_exposed=True)]
    resolved = resolve_options(options, {"token": "t0k", "pw": "s3cret"})
    assert resolved.context() == {"option": {"pw": "s3cret"}, "secureOption": {"pw": "s3cret"}}
    assert resolved.masked() == {"token": "*****", "pw": "*****"}
    assert resolved.arg_string() == "-token ***** -pw *****"
    assert resolved.secret_values() == ["s3cret", "t0k"]


def test_dates() -> None:
    assert strptime_format("MM/DD/YYYY hh:mm a") == "%m/%d/%Y %I:%M %p"
    assert strptime_format("YYYY-MM-DD[T]HH:mm:ss") == "%Y-%m-%dT%H:%M:%S"
    option = Option(name="d", is_date=True, date_format="YYYY-MM-DD")
    assert resolve_options([option], {"d": "2024-02-29"}).values == {"d": "2024-02-29"}


@pytest.mark.parametrize("path", ["/list", "/objects", "/map"])
def test_values_url_enforced(values_server: str, path: str) -> None:
    option = Option(name="env", values_url=values_server + path, enforced=True)
    assert resolve_options([option], {"env": "prod"}).values == {"env": "prod"}
    with pytest.raises(OptionValueError) as info:
        resolve_options([option], {"env": "Production"})
    assert str(info.value) == "option 'env': value 'Production' is not one of the allowed values: dev, prod"


def test_values_url_failures(values_server: str) -> None:
    missing = Option(name="env", values_url=values_server + "/missing", enforced=True)
    with pytest.raises(OptionValueError) as info:
        resolve_options([missing], {"env": "dev"})
    assert str(info.value).startswith(f"valuesUrl {values_server}/missing could not be read: 404 Client Error")
    scalar = Option(name="env", values_url=values_server + "/scalar", enforced=True)
    with pytest.raises(OptionValueError) as info:
        resolve_options([scalar], {"env": "dev"})
    assert str(info.value) == f"valuesUrl {values_server}/scalar did not return a JSON list or object"


def test_values_url_errors_never_show_the_password_of_its_user_part(values_server: str) -> None:
    with_password = values_server.replace("http://", "http://deploy:pw-never-shown@")
    for path in ("/missing", "/scalar"):
        option = Option(name="env", values_url=with_password + path, enforced=True)
        with pytest.raises(OptionValueError) as info:
            resolve_options([option], {"env": "dev"})
        message = str(info.value)
        assert "pw-never-shown" not in message and "deploy:***@" in message, message
    assert resolve_options([Option(name="env", values_url=with_password + "/list", enforced=True)], {"env": "dev"})


def test_values_url_not_fetched_when_not_enforced(values_server: str) -> None:
    option = Option(name="env", values_url=values_server + "/missing")
    assert resolve_options([option], {"env": "anything"}).values == {"env": "anything"}

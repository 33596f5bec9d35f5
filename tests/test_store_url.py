"""Where the store lives: ``store.url``, ``--store`` and ``XLR_STORE``; bad URLs, an unreachable server and the
commands that only work on an SQLite file are one line each, and a password in a URL is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.postgres_helpers import PostgresServer, free_port
from xlr_runtime import settings as settings_module
from xlr_runtime.cli import main
from xlr_runtime.errors import ConfigError
from xlr_runtime.home import Home
from xlr_runtime.storeurl import parse_store_url, redact

SECRET = "s3cr3t-pw"


def xlr(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://xlr:{SECRET}@db.example:5432/xlr", "postgresql://xlr:***@db.example:5432/xlr"),
        (
            f"postgres://xlr@db/xlr?password={SECRET}&sslmode=require",
            "postgres://xlr@db/xlr?password=***&sslmode=require",
        ),
        ("postgresql://xlr@db/xlr", "postgresql://xlr@db/xlr"),
        ("sqlite:///xlr.db", "sqlite:///xlr.db"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert parse_store_url(url).redacted == shown


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"mysql://root:{SECRET}@db/xlr", "'mysql://root:***@db/xlr' is not a store URL"),
        ("postgresql://db:port/xlr", "'postgresql://db:port/xlr' has a port that is not a number"),
        (f"postgresql://xlr:{SECRET}@db/", "'postgresql://xlr:***@db/' names no database"),
        ("sqlite:///", "'sqlite:///' names no file"),
        ("xlr.db", "'xlr.db' is not a store URL"),
    ],
)
def test_a_bad_url_says_what_is_wrong_without_the_password(url: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_store_url(url)
    assert str(caught.value).startswith(message) and SECRET not in str(caught.value)


def test_the_default_and_sqlite_urls_name_files_of_the_home(home: Home) -> None:
    assert (parse_store_url("").backend, parse_store_url("").path) == ("sqlite", None)
    assert parse_store_url("sqlite:///data/x.db").path == Path("data/x.db")
    assert parse_store_url("sqlite:////srv/xlr/x.db").path == Path("/srv/xlr/x.db")
    result = xlr("tasks", "--home", str(home.root), "--store", "sqlite:///other.db")
    assert result.exit_code == 0, result.output
    assert (home.root / "other.db").is_file() and not home.database.exists()


def test_a_bad_url_in_xlr_toml_stops_the_start_at_its_line(home: Home) -> None:
    home.config_file.write_text(f'[settings]\n"workers.size" = 2\n"store.url" = "pg://u:{SECRET}@h/d"\n')
    with pytest.raises(ConfigError) as caught:
        settings_module.load(home.root)
    assert str(caught.value) == (
        f"{home.config_file}:3: setting 'store.url': 'pg://u:***@h/d' is not a store URL: sqlite:///PATH or "
        "postgresql://USER@HOST:PORT/DATABASE (or empty: the home's xlr.db)"
    )


def test_a_bad_store_option_is_a_usage_error_naming_it(home: Home) -> None:
    url = f"mysql://root:{SECRET}@db/xlr"
    result = xlr("tasks", "--home", str(home.root), "--store", url)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--store': 'mysql://root:***@db/xlr' is not a store URL" in result.output
    assert SECRET not in result.output


def test_a_bad_xlr_store_stops_even_a_read_only_command_with_one_line_naming_it(home: Home) -> None:
    result = xlr("tasks", "--home", str(home.root), env={"XLR_STORE": f"mysql://root:{SECRET}@db/xlr"})
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0] == (
        "Error: environment variable XLR_STORE: setting 'store.url': 'mysql://root:***@db/xlr' is not a store URL: "
        "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE (or empty: the home's xlr.db)"
    )
    assert SECRET not in result.output and "Traceback" not in result.output


def test_an_unreachable_server_is_one_line_without_the_password(home: Home) -> None:
    url = f"postgresql://xlr:{SECRET}@127.0.0.1:{free_port()}/xlr"
    result = xlr("tasks", "--home", str(home.root), "--store", url)
    assert result.exit_code == 1, result.output
    first = result.output.splitlines()[0]
    assert first.startswith(f"Error: {redact(url)}: cannot connect: "), result.output
    assert SECRET not in result.output and "Traceback" not in result.output


def test_xlr_config_shows_where_the_store_url_came_from_and_masks_its_password(home: Home) -> None:
    url = f"postgresql://xlr:{SECRET}@db.example/xlr"
    for args, env, source in [
        (["--store", url], None, "command-line option --store"),
        ([], {"XLR_STORE": url}, "environment variable XLR_STORE"),
    ]:
        result = xlr("config", "--home", str(home.root), "--json", *args, env=env)
        assert result.exit_code == 0, result.output
        assert '"value": "postgresql://xlr:***@db.example/xlr",\n    "source": "' + source in result.output
        assert SECRET not in result.output


def test_backup_of_a_postgresql_store_says_to_use_pg_dump(home: Home, tmp_path: Path) -> None:
    url = f"postgresql://xlr:{SECRET}@127.0.0.1:{free_port()}/xlr"
    result = xlr("backup", "--home", str(home.root), "--store", url, str(tmp_path / "copy.db"))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0] == (
        f"Error: {redact(url)}: xlr backup copies an SQLite store; back up a PostgreSQL database with pg_dump"
    )
    assert not (tmp_path / "copy.db").exists() and SECRET not in result.output


def test_prune_and_its_space_figures_work_on_postgresql(home: Home, postgres_server: PostgresServer) -> None:
    result = xlr("prune", "--home", str(home.root), "--store", postgres_server.new_store_url(), "--keep", "10")
    assert result.exit_code == 0, result.output
    removed, space = result.output.splitlines()
    assert removed.startswith("Removed 0 task(s) "), result.output
    assert space.startswith(f"postgresql://xlr@127.0.0.1:{postgres_server.port}/postgres?"), result.output

"""Settings: defaults, xlr.toml, XL Release's HOCON file, validation with file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlr_runtime import settings
from xlr_runtime.errors import ConfigError, EnvironmentConfigError
from xlr_runtime.home import Home


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(home: Home) -> None:
    loaded = settings.load(home.root, environ={})  # and without the variables (the suite sets XLR_HTTP=off)
    assert loaded["schedule.default_interval"] == 5.0
    assert loaded["schedule.min_interval"] == 1.0
    assert loaded["store.synchronous"] == "NORMAL"
    assert loaded == settings.defaults()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("10 seconds", 10.0), ("2m", 120.0), ("1500 ms", 1.5), ('"3 seconds"', 3.0), ("2000", 2.0), ("1 minute", 60.0)],
)
def test_hocon_interval_is_read(home: Home, value: str, seconds: float) -> None:
    write(home.hocon_file, f"xl.durations.customScriptTaskScheduleInterval = {value}\n")
    assert settings.load(home.root)["schedule.default_interval"] == seconds


def test_hocon_nested_form_is_read(home: Home) -> None:
    write(home.hocon_file, "xl {\n  durations {\n    customScriptTaskScheduleInterval = 7 seconds\n  }\n}\n")
    assert settings.load(home.root)["schedule.default_interval"] == 7.0


def test_hocon_interval_below_minimum_is_a_startup_error(home: Home) -> None:
    path = write(home.hocon_file, "# polling\nxl.durations.customScriptTaskScheduleInterval = 500 ms\n")
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"{path}:2: default polling interval 0.5s is below the minimum of 1s"
    assert caught.value.hint == "XL Release does not poll more often than once a second; use 1 second or more."


def test_toml_interval_below_minimum_names_its_line(home: Home) -> None:
    path = write(home.config_file, '[settings]\n"workers.size" = 2\n"schedule.default_interval" = "0.5 seconds"\n')
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"{path}:3: default polling interval 0.5s is below the minimum of 1s"


def test_toml_minimum_below_one_second_names_its_line(home: Home) -> None:
    path = write(home.config_file, '[settings]\n"schedule.min_interval" = 0.5\n')
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"{path}:2: schedule.min_interval 0.5s is below 1 second"


def test_an_unrelated_override_does_not_lower_the_minimum(home: Home) -> None:
    path = write(home.config_file, '[settings]\n"schedule.min_interval" = 0.1\n')
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root, {"workers.size": 2})
    assert str(caught.value) == f"{path}:2: schedule.min_interval 0.1s is below 1 second"


def test_hocon_syntax_error_names_file_and_line(home: Home) -> None:
    path = write(home.hocon_file, "a = 1\nxl.durations {\n")
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value).startswith(f"{path}:")
    assert "invalid HOCON" in str(caught.value)


def test_hocon_bad_duration_names_the_key(home: Home) -> None:
    path = write(home.hocon_file, "# polling\nxl.durations.customScriptTaskScheduleInterval = soon\n")
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == (
        f"{path}:2: xl.durations.customScriptTaskScheduleInterval: 'soon' is not a duration (e.g. '10 seconds')"
    )


def test_toml_overrides_hocon(home: Home) -> None:
    write(home.hocon_file, "xl.durations.customScriptTaskScheduleInterval = 10 seconds\n")
    write(home.config_file, '[settings]\n"schedule.default_interval" = 3\n"workers.size" = 2\n')
    loaded = settings.load(home.root)
    assert loaded["schedule.default_interval"] == 3.0
    assert loaded["workers.size"] == 2


def test_unknown_setting_names_file_line_and_hints(home: Home) -> None:
    path = write(home.config_file, '[settings]\n"workers.count" = 2\n')
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"{path}:2: unknown setting 'workers.count'"
    assert caught.value.hint is not None and "workers.size" in caught.value.hint


def test_wrong_type_is_rejected(home: Home) -> None:
    path = write(home.config_file, '[settings]\n"workers.size" = "many"\n')
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"{path}:2: setting 'workers.size' must be int, got 'many'"


def test_choice_is_enforced(home: Home) -> None:
    path = write(home.config_file, '[settings]\n"store.synchronous" = "OFF"\n')
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"{path}:2: setting 'store.synchronous' must be one of NORMAL, FULL, got 'OFF'"


def test_minimum_below_one_second_needs_an_explicit_override(home: Home) -> None:
    write(home.config_file, '[settings]\n"schedule.min_interval" = 0.5\n')
    with pytest.raises(ConfigError, match="below 1 second"):
        settings.load(home.root)
    home.config_file.unlink()
    lowered = settings.load(home.root, {"schedule.min_interval": 0.0})
    assert lowered["schedule.min_interval"] == 0.0
    assert settings.defaults().with_overrides(schedule_min_interval=0)["schedule.min_interval"] == 0.0


def test_toml_syntax_error_names_line(home: Home) -> None:
    path = write(home.config_file, "[settings]\nworkers = \n")
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value).startswith(f"{path}:2: invalid TOML")


@pytest.mark.parametrize(("text", "seconds"), [("10s", 10.0), ("1.5 hours", 5400.0), ("250 millis", 0.25)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert settings.parse_duration(text) == seconds


MULTI_TABLE = """\
# a home's settings, written three ways
[ci.jenkins]
type = "jenkins.Server"
url = "http://h"   # workers.size = 99 in a comment is no key
notes = \"\"\"
"workers.size" = 77
\"\"\"

[settings]
"workers.size" = 2
plugins.path = [
    "plugins-a",    # one per line
    "plugins-b",
]
scripts = { timeout = 60, translate = "on" }

[settings.schedule]
default_interval = "10 seconds"
"""


def test_settings_in_sub_tables_dotted_keys_and_inline_tables_are_read(home: Home) -> None:
    write(home.config_file, MULTI_TABLE)
    loaded = settings.load(home.root)
    assert loaded["workers.size"] == 2
    assert loaded["plugins.path"] == ("plugins-a", "plugins-b")
    assert (loaded["scripts.timeout"], loaded["scripts.translate"]) == (60.0, "on")
    assert loaded["schedule.default_interval"] == 10.0
    assert loaded.plugin_paths(home.root) == [home.root / "plugins-a", home.root / "plugins-b"]
    described = {name: loaded.origin(name).describe() for name in loaded.values}
    assert described["workers.size"] == "xlr.toml:10"
    assert described["plugins.path"] == "xlr.toml:11"
    assert described["scripts.timeout"] == described["scripts.translate"] == "xlr.toml:15"
    assert described["schedule.default_interval"] == "xlr.toml:18"
    assert described["smtp.port"] == "default"


@pytest.mark.parametrize(
    ("replace", "by", "line", "message"),
    [
        ('"workers.size" = 2', '"workers.size" = "two"', 10, "setting 'workers.size' must be int, got 'two'"),
        ('    "plugins-b",', "    2,", 11, "setting 'plugins.path' must be a list of strings, got ['plugins-a', 2]"),
        ('timeout = 60, translate = "on"', 'timeout = 60, translate = "yes"', 15,
         "setting 'scripts.translate' must be one of auto, on, off, got 'yes'"),
        ('default_interval = "10 seconds"', 'default_interval = "0.5 s"', 18,
         "default polling interval 0.5s is below the minimum of 1s"),
        ('default_interval = "10 seconds"', "default_intervall = 3", 18,
         "unknown setting 'schedule.default_intervall'"),
    ],
)  # fmt: skip
def test_an_error_names_the_line_of_the_value_not_a_line_that_merely_looks_alike(
    home: Home, replace: str, by: str, line: int, message: str
) -> None:
    path = write(home.config_file, MULTI_TABLE.replace(replace, by))
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"{path}:{line}: {message}"


@pytest.mark.parametrize(
    ("value", "age", "count"),
    [("30d", 30 * 86400.0, None), ("1000", None, 1000), ("30d,1000", 30 * 86400.0, 1000), (" 12h , 5 ", 43200.0, 5),
     ("2w", 14 * 86400.0, None), ("", None, None)],
)  # fmt: skip
def test_history_keep_is_an_age_a_count_or_both(home: Home, value: str, age: float | None, count: int | None) -> None:
    write(home.config_file, f'[settings]\n"history.keep" = "{value}"\n')
    retention = settings.load(home.root).retention
    assert (retention.max_age, retention.max_count) == (age, count)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("30 days", "'30 days' is not an age (30d, 12h) or a count (1000); write an age, a count, or both: '30d,1000'"),
        ("30d,40d", "'30d,40d' gives two ages"),
        ("5,6", "'5,6' gives two counts"),
        ("-3", "'-3' is not an age (30d, 12h) or a count (1000); write an age, a count, or both: '30d,1000'"),
    ],
)
def test_a_bad_history_keep_is_one_line_at_its_line(home: Home, value: str, reason: str) -> None:
    path = write(home.config_file, f'[settings]\n"workers.size" = 2\n"history.keep" = "{value}"\n')
    with pytest.raises(ConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"{path}:3: setting 'history.keep': {reason}"


def test_environment_variables_set_their_settings_for_every_entry_point(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLR_HTTP", "127.0.0.1:0")
    monkeypatch.setenv("XLR_STORE", "sqlite:///other.db")
    loaded = settings.load(home.root)
    assert (loaded["http.listen"], loaded["store.url"]) == ("127.0.0.1:0", "sqlite:///other.db")
    assert loaded.origin("http.listen").describe() == "environment variable XLR_HTTP"
    assert loaded.origin("store.url").describe() == "environment variable XLR_STORE"


def test_the_environment_wins_over_the_home_files_and_overrides_win_over_it(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(home.config_file, '[settings]\n"http.listen" = "127.0.0.1:7001"\n"store.url" = "sqlite:///toml.db"\n')
    monkeypatch.delenv("XLR_HTTP")
    assert settings.load(home.root)["http.listen"] == "127.0.0.1:7001"
    monkeypatch.setenv("XLR_HTTP", "127.0.0.1:7002")
    assert settings.load(home.root)["http.listen"] == "127.0.0.1:7002"
    overridden = settings.load(home.root, {"http.listen": "off"})
    assert (overridden["http.listen"], overridden.origin("http.listen").describe()) == ("off", "override")
    assert settings.load(home.root)["store.url"] == "sqlite:///toml.db"  # only the variables that are set


def test_an_empty_environment_variable_counts_as_unset(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home.config_file, '[settings]\n"http.listen" = "127.0.0.1:7001"\n')
    monkeypatch.setenv("XLR_HTTP", "")
    monkeypatch.setenv("XLR_STORE", "")
    loaded = settings.load(home.root)
    assert (loaded["http.listen"], loaded["store.url"]) == ("127.0.0.1:7001", "")


def test_an_explicit_environment_replaces_the_process_one(home: Home) -> None:
    loaded = settings.load(home.root, environ={"XLR_HTTP": "[::1]:8080"})
    assert (loaded["http.listen"], loaded["store.url"]) == ("[::1]:8080", "")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("XLR_HTTP", "nowhere", "setting 'http.listen': 'nowhere' is not HOST:PORT or off (e.g. 127.0.0.1:5516, "
         "[::1]:5516)"),
        ("XLR_HTTP", "127.0.0.1:70000", "setting 'http.listen': port 70000 of '127.0.0.1:70000' is above 65535"),
        ("XLR_STORE", "mysql://root:s3cret@db/xlr", "setting 'store.url': 'mysql://root:***@db/xlr' is not a "
         "store URL: sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE (or empty: the home's xlr.db)"),
    ],
)  # fmt: skip
def test_a_bad_environment_value_is_one_line_naming_the_variable(
    home: Home, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(EnvironmentConfigError) as caught:
        settings.load(home.root)
    assert str(caught.value) == f"environment variable {variable}: {message}"
    assert caught.value.variable == variable and isinstance(caught.value, ConfigError)

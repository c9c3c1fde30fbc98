"""Settings fail at start, naming the variable and what it accepts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from workflows.settings import DEFAULT_UNDERLYINGS, SettingsError, load_settings


def test_embedded_defaults_need_no_credentials(tmp_path: object) -> None:
    s = load_settings()
    assert (s.source, s.warehouse) == ("simulator", "duckdb")
    assert s.lake.startswith("file://") and s.lake.endswith("/lake")
    assert s.underlyings == DEFAULT_UNDERLYINGS and len(s.underlyings) == 20
    assert s.rate_per_minute is None  # the simulator is not paced


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMELT_SOURCE": "yahoo"}, "SMELT_SOURCE='yahoo' is not valid: expected 'simulator' or 'polygon'"),
        ({"SMELT_WAREHOUSE": "bigquery"}, "SMELT_WAREHOUSE='bigquery' is not valid: expected 'duckdb' or"),
        (
            {"SMELT_LAKE_URL": "gs://x"},
            "SMELT_LAKE_URL='gs://x' is not valid: expected file:///path or s3://",
        ),
        ({"POLYGON_RATE_PER_MINUTE": "0"}, "POLYGON_RATE_PER_MINUTE='0' is not valid"),
        ({"SMELT_UNDERLYINGS": "AAPL,$$$"}, "SMELT_UNDERLYINGS="),
        ({"SMELT_SOURCE": "polygon"}, "SMELT_SOURCE=polygon needs POLYGON_API_KEY"),
        ({"SMELT_SOURCE": "polygon", "POLYGON_API_KEY": "  "}, "needs POLYGON_API_KEY"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert message in str(err.value)


def test_polygon_with_key_uses_the_free_plan_rate_and_hides_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMELT_SOURCE", "polygon")
    monkeypatch.setenv("POLYGON_API_KEY", "pk_live_secret_123")
    monkeypatch.setenv("SMELT_UNDERLYINGS", "spy, qqq,SPY")
    s = load_settings()
    assert s.rate_per_minute == 5
    assert s.underlyings == ("SPY", "QQQ")
    assert "pk_live_secret_123" not in repr(s) and "pk_live_secret_123" not in str(s.model_dump())
    assert s.secrets() == ["pk_live_secret_123"]


def test_each_variable_keeps_its_name_and_lands_in_its_group(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SMELT_SIM_SEED": "11", "SMELT_SIM_MARKET_SIZE": "50", "SMELT_SIM_NOW": "2026-11-24",
        "SMELT_SIM_SNAPSHOT_HISTORY": "true", "SMELT_SIM_FAULTS": "rate_429=0.5", "SMELT_SIM_URL": "http://sim:8700",
        "SMELT_DUCKDB_MEMORY_LIMIT": "2GB", "SMELT_HOME": "/data/home",
        "POLYGON_BASE_URL": "https://api.massive.com", "POLYGON_RATE_PER_MINUTE": "100",
        "SMELT_POLYGON_MAX_CONCURRENCY": "3",
        "SMELT_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "acct", "SNOWFLAKE_USER": "loader",
        "SNOWFLAKE_PRIVATE_KEY_PATH": "/keys/k.p8", "SNOWFLAKE_DATABASE": "SMELT", "SNOWFLAKE_ROLE": "r",
        "SNOWFLAKE_WAREHOUSE": "wh", "SNOWFLAKE_HOST": "sf.local", "SNOWFLAKE_PORT": "8443",
        "SNOWFLAKE_PROTOCOL": "http", "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "hunter2-passphrase",
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert (s.simulator.seed, s.simulator.market_size, str(s.simulator.now)) == (11, 50, "2026-11-24")
    assert (s.simulator.snapshot_history, s.simulator.faults, s.simulator.url) == (
        True, "rate_429=0.5", "http://sim:8700",
    )  # fmt: skip
    assert (s.duckdb.memory_limit, str(s.duckdb.path)) == ("2GB", "/data/home/warehouse.duckdb")
    assert (s.polygon.base_url, s.polygon.rate_per_minute, s.polygon.max_concurrency) == (
        "https://api.massive.com", 100, 3,
    )  # fmt: skip
    assert s.rate_per_minute == 100  # the plan's rate, when set, paces even the simulator
    assert (s.snowflake.account, s.snowflake.user, str(s.snowflake.private_key_path)) == (
        "acct", "loader", "/keys/k.p8",
    )  # fmt: skip
    assert (s.snowflake.database, s.snowflake.role, s.snowflake.warehouse) == ("SMELT", "r", "wh")
    assert (s.snowflake.host, s.snowflake.port, s.snowflake.protocol) == ("sf.local", 8443, "http")
    assert "hunter2-passphrase" not in repr(s) and "hunter2-passphrase" not in str(s.model_dump())
    assert s.secrets() == ["hunter2-passphrase"]


def test_a_group_is_read_only() -> None:
    s = load_settings()
    with pytest.raises(ValidationError, match="frozen"):
        s.simulator.seed = 8  # type: ignore[misc]

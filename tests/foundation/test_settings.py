"""Settings fail at start, naming the variable and what it accepts."""

from __future__ import annotations

import pytest

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

"""One settings object for every step, read from the environment.

Names follow ARCHITECTURE.md: ``SMELT_*`` for the pipeline, ``POLYGON_*`` and ``SNOWFLAKE_*`` for the
services. Invalid values fail at start with a message that names the variable and what it accepts, so a
mis-set pod dies in its first second instead of half-way through a day.

The environment stays flat (one variable per value, the names the charts, docs and pods already use);
the object a step reads is grouped by concern, the variable's prefix naming its group:
``SMELT_SIM_SEED`` is ``settings.simulator.seed``, ``POLYGON_API_KEY`` is ``settings.polygon.api_key``,
``SNOWFLAKE_ACCOUNT`` is ``settings.snowflake.account``, ``SMELT_DUCKDB_MEMORY_LIMIT`` is
``settings.duckdb.memory_limit``; home, source, lake, warehouse, underlyings, dbt and logging stay at the
top. :class:`_Environment` reads and checks the variables; :func:`load_settings` sorts them into
:class:`Settings`. There are no flat read-only aliases (``settings.sim_seed``): every reader lives in this
repository and moved to the groups, and one name per value leaves nothing to drift.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The embedded default universe: large caps plus the three index ETFs options traders watch most.
DEFAULT_UNDERLYINGS: tuple[str, ...] = (
    "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "AVGO", "JPM", "V",
    "UNH", "XOM", "LLY", "COST", "NFLX", "AMD", "BAC", "SPY", "QQQ", "IWM",
)  # fmt: skip

#: ``SMELT_UNDERLYINGS=*``: every optionable underlying of the simulated universe (``ALL`` is Allstate).
EVERY_UNDERLYING = "*"

#: The free Polygon plan allows 5 requests a minute; paid plans are unmetered but should stay polite.
FREE_PLAN_RATE_PER_MINUTE = 5


def _packaged_dbt_project() -> Path:
    """``workflows/dbt_project``: a link to the top-level ``dbt/`` in a checkout, a copy in a wheel."""
    return Path(__file__).resolve().parent / "dbt_project"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


class _Environment(BaseSettings):
    """The variables as set, checked one by one and together; :func:`load_settings` groups them."""

    model_config = SettingsConfigDict(env_prefix="SMELT_", extra="ignore", frozen=True, populate_by_name=True)

    home: Path = Field(default=Path(".smelt"), description="Working folder of the embedded mode.")
    source: Literal["simulator", "polygon"] = "simulator"
    lake_url: str | None = Field(default=None, description="file://… or s3://bucket/prefix")
    warehouse: Literal["duckdb", "snowflake"] = "duckdb"
    underlyings: Annotated[tuple[str, ...], NoDecode] = DEFAULT_UNDERLYINGS
    s3_endpoint_url: str | None = Field(default=None, description="S3 API endpoint (MinIO, moto); None = AWS")
    sim_url: str | None = Field(
        default=None,
        description="A served simulator (`smelt sim serve`, a Deployment in a cluster) for SMELT_SOURCE=simulator; "
        "unset = the simulator runs inside each step's process.",
    )
    sim_seed: int = Field(default=7, description="Seed of the market simulator: same seed, same market.")
    sim_market_size: int = Field(
        default=3000,
        ge=25,
        le=20000,
        description="Tickers in the simulated market (grouped daily bars); fewer make tests and demos cheaper.",
    )
    sim_universe: Literal["default", "market"] = Field(
        default="default",
        description="The simulated market: `default` (every ticker lists the same full chain) or `market`, the "
        "whole optionable US market (about 5,000 underlyings, 1.2-1.6 M contracts a day, 10,000 tickers).",
    )
    sim_now: dt.date | None = Field(
        default=None,
        description="The simulator's own clock (its latest session is this day's); None = the real time.",
    )
    sim_snapshot_history: bool = Field(
        default=False,
        description="Let the simulator's chain snapshot replay any past day (tests); the vendor only knows today.",
    )
    sim_flatfiles: bool = Field(
        default=True,
        description="The embedded run publishes the simulator's flat files to a local endpoint (moto) and backfills "
        "past days from them instead of one range request per contract (decision 67).",
    )
    sim_daily_runs: int = Field(
        default=30,
        ge=0,
        le=260,
        description="The embedded run replays this many of the latest sessions as daily runs: the in-process "
        "simulator's clock set to each day's close, so the day's chains come from its snapshot (open interest, "
        "vendor Greeks) as they would for someone who ran smelt every evening; 0 = off (decision 107).",
    )
    sim_faults: str | None = Field(
        default=None,
        description="Faults the simulator injects, e.g. rate_429=0.3,retry_after=1 (tests, drills).",
    )
    duckdb_memory_limit: str = Field(
        default="768MB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$",
        description="DuckDB's memory_limit for the loader and dbt: keeps the embedded run inside a laptop's RAM.",
    )  # fmt: skip
    dbt_project_dir: Path = Field(
        default_factory=lambda: _packaged_dbt_project(),
        description="The dbt project; by default the one shipped inside the package (editable or not).",
    )
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    freshness_grace_hours: float = Field(
        default=8.0, ge=0, le=168,
        description="Hours after a session's close before the marts are late without it (the freshness SLA).",
    )  # fmt: skip

    alert_webhook_url: SecretStr | None = Field(
        default=None, description="Slack-compatible incoming webhook the exit handler posts run summaries to."
    )
    alert_on_success: bool = Field(
        default=False, description="Post succeeded runs too, not only failed ones."
    )
    alert_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Per attempt to post an alert."
    )

    polygon_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("POLYGON_API_KEY"))
    polygon_base_url: str = Field(
        default="https://api.polygon.io", validation_alias=AliasChoices("POLYGON_BASE_URL")
    )
    polygon_rate_per_minute: int | None = Field(
        default=None, ge=1, validation_alias=AliasChoices("POLYGON_RATE_PER_MINUTE")
    )
    polygon_max_concurrency: int = Field(default=8, ge=1, le=64)

    # The vendor's flat files: an S3-compatible endpoint with its own keys (not the REST key).
    polygon_flatfiles_endpoint_url: str = Field(
        default="https://files.polygon.io", validation_alias=AliasChoices("POLYGON_FLATFILES_ENDPOINT_URL")
    )
    polygon_flatfiles_bucket: str = Field(
        default="flatfiles", min_length=3, validation_alias=AliasChoices("POLYGON_FLATFILES_BUCKET")
    )
    polygon_flatfiles_access_key_id: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("POLYGON_FLATFILES_ACCESS_KEY_ID")
    )
    polygon_flatfiles_secret_access_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("POLYGON_FLATFILES_SECRET_ACCESS_KEY")
    )

    snowflake_account: str | None = Field(default=None, validation_alias=AliasChoices("SNOWFLAKE_ACCOUNT"))
    snowflake_user: str | None = Field(default=None, validation_alias=AliasChoices("SNOWFLAKE_USER"))
    snowflake_private_key_path: Path | None = Field(
        default=None, validation_alias=AliasChoices("SNOWFLAKE_PRIVATE_KEY_PATH")
    )
    snowflake_role: str | None = Field(default=None, validation_alias=AliasChoices("SNOWFLAKE_ROLE"))
    snowflake_warehouse: str | None = Field(
        default=None, validation_alias=AliasChoices("SNOWFLAKE_WAREHOUSE")
    )
    snowflake_database: str | None = Field(default=None, validation_alias=AliasChoices("SNOWFLAKE_DATABASE"))
    snowflake_private_key_passphrase: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
    )
    # Where the account is served when not at <account>.snowflakecomputing.com (PrivateLink, an emulator).
    snowflake_host: str | None = Field(default=None, validation_alias=AliasChoices("SNOWFLAKE_HOST"))
    snowflake_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias=AliasChoices("SNOWFLAKE_PORT")
    )
    snowflake_protocol: Literal["https", "http"] = Field(
        default="https", validation_alias=AliasChoices("SNOWFLAKE_PROTOCOL")
    )

    @field_validator("underlyings", mode="before")
    @classmethod
    def _split_underlyings(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == EVERY_UNDERLYING:
            return (EVERY_UNDERLYING,)
        if isinstance(value, str):
            value = [part for part in value.replace(" ", "").split(",") if part]
        if isinstance(value, list | tuple):
            tickers = tuple(str(t).upper() for t in value)
            bad = [t for t in tickers if not t.replace(".", "").isalnum()]
            if bad or not tickers:
                raise ValueError(f"expected comma-separated tickers like AAPL,SPY; got {value!r}")
            return tuple(dict.fromkeys(tickers))
        return value

    @field_validator("sim_url")
    @classmethod
    def _check_sim_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected the served simulator's http(s) URL, e.g. http://127.0.0.1:8700")
        return value

    @field_validator("polygon_flatfiles_endpoint_url")
    @classmethod
    def _check_flatfiles_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected the flat-file endpoint's http(s) URL, e.g. https://files.polygon.io")
        return value.rstrip("/")

    @field_validator("lake_url")
    @classmethod
    def _check_lake_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("file://", "s3://")):
            raise ValueError("expected file:///path or s3://bucket/prefix")
        return value

    @model_validator(mode="after")
    def _snowflake_needs_an_account(self) -> _Environment:
        if self.warehouse == "snowflake":
            missing = [
                name
                for name, value in (
                    ("SNOWFLAKE_ACCOUNT", self.snowflake_account),
                    ("SNOWFLAKE_USER", self.snowflake_user),
                    ("SNOWFLAKE_PRIVATE_KEY_PATH", self.snowflake_private_key_path),
                    ("SNOWFLAKE_DATABASE", self.snowflake_database),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"SMELT_WAREHOUSE=snowflake needs {', '.join(missing)} (key-pair authentication; see "
                    "docs/snowflake.md), or SMELT_WAREHOUSE=duckdb for the embedded warehouse"
                )
        return self

    @model_validator(mode="after")
    def _sim_url_needs_the_simulator(self) -> _Environment:
        if self.sim_url and self.source != "simulator":
            raise ValueError(
                "SMELT_SIM_URL is set but SMELT_SOURCE=polygon: unset SMELT_SIM_URL, or use SMELT_SOURCE=simulator"
            )
        return self

    @model_validator(mode="after")
    def _every_underlying_needs_the_simulator(self) -> _Environment:
        if self.underlyings == (EVERY_UNDERLYING,) and self.source != "simulator":
            raise ValueError(
                "SMELT_UNDERLYINGS=* (every optionable underlying) needs SMELT_SOURCE=simulator: smelt does not "
                "read the vendor's list of optionable names; list the tickers, e.g. SMELT_UNDERLYINGS=AAPL,SPY"
            )
        return self

    @model_validator(mode="after")
    def _polygon_needs_key(self) -> _Environment:
        if self.source == "polygon" and not (
            self.polygon_api_key and self.polygon_api_key.get_secret_value().strip()
        ):
            raise ValueError(
                "SMELT_SOURCE=polygon needs POLYGON_API_KEY; smelt never falls back to simulated data. "
                "Set the key, or SMELT_SOURCE=simulator for the built-in market."
            )
        return self


#: Read-only, and a variable with no field in its group fails the first load instead of going missing.
_GROUP = ConfigDict(frozen=True, extra="forbid")


class PolygonSettings(BaseModel):
    """``POLYGON_*`` (and ``SMELT_POLYGON_MAX_CONCURRENCY``): the vendor's address, key and pace."""

    model_config = _GROUP

    api_key: SecretStr | None
    base_url: str
    rate_per_minute: int | None  # the plan's rate as set; Settings.rate_per_minute is the pace actually kept
    max_concurrency: int


class FlatFilesSettings(BaseModel):
    """``POLYGON_FLATFILES_*``: the vendor's S3-compatible flat-file endpoint, bucket and its own keys."""

    model_config = _GROUP

    endpoint_url: str
    bucket: str
    access_key_id: SecretStr | None
    secret_access_key: SecretStr | None

    @property
    def credentials_set(self) -> bool:
        """Both keys set: the backfill path may take flat files (decision 67)."""
        return all(
            k is not None and k.get_secret_value().strip()
            for k in (self.access_key_id, self.secret_access_key)
        )


class SnowflakeSettings(BaseModel):
    """``SNOWFLAKE_*``: the account and its key-pair login, used when ``SMELT_WAREHOUSE=snowflake``."""

    model_config = _GROUP

    account: str | None
    user: str | None
    private_key_path: Path | None
    private_key_passphrase: SecretStr | None
    role: str | None
    warehouse: str | None
    database: str | None
    host: str | None
    port: int | None
    protocol: Literal["https", "http"]


class SimulatorSettings(BaseModel):
    """``SMELT_SIM_*``: the built-in market, served (``url``) or in-process, and its clock and faults."""

    model_config = _GROUP

    url: str | None
    seed: int
    market_size: int
    universe: Literal["default", "market"]
    now: dt.date | None
    snapshot_history: bool
    flatfiles: bool
    daily_runs: int
    faults: str | None


class AlertSettings(BaseModel):
    """``SMELT_ALERT_*``: where a run's summary is posted (a secret: the URL is the credential), and when."""

    model_config = _GROUP

    webhook_url: SecretStr | None
    on_success: bool
    timeout_seconds: float


class DuckDBSettings(BaseModel):
    """The embedded warehouse: its file under ``SMELT_HOME`` and ``SMELT_DUCKDB_MEMORY_LIMIT``."""

    model_config = _GROUP

    path: Path
    memory_limit: str


class Settings(BaseModel):
    """Everything a step needs to know about where it runs. Build with :func:`load_settings`."""

    model_config = _GROUP

    home: Path
    source: Literal["simulator", "polygon"]
    lake_url: str | None
    s3_endpoint_url: str | None
    warehouse: Literal["duckdb", "snowflake"]
    underlyings: tuple[str, ...]
    #: ``SMELT_UNDERLYINGS=*``: ``underlyings`` is then the whole universe, and nothing filters a flat file by it.
    every_underlying: bool = False
    dbt_project_dir: Path
    log_format: Literal["auto", "json", "console"]
    log_level: Literal["debug", "info", "warning", "error"]
    freshness_grace_hours: float
    polygon: PolygonSettings
    flatfiles: FlatFilesSettings
    snowflake: SnowflakeSettings
    simulator: SimulatorSettings
    duckdb: DuckDBSettings
    alert: AlertSettings

    @cached_property
    def lake(self) -> str:
        """The lake URL, defaulting to a folder under ``SMELT_HOME``."""
        return self.lake_url or (self.home.resolve() / "lake").as_uri()

    @cached_property
    def rate_per_minute(self) -> int | None:
        """Pacing for the source: the plan's rate for Polygon (free plan if unset), none for the simulator."""
        if self.polygon.rate_per_minute is not None:
            return self.polygon.rate_per_minute
        return FREE_PLAN_RATE_PER_MINUTE if self.source == "polygon" else None

    def dbt_project(self) -> Path:
        """The dbt project folder, checked when a command is about to run dbt: only those need it (the
        dashboard image ships without one)."""
        if not (self.dbt_project_dir / "dbt_project.yml").is_file():
            raise SettingsError(
                f"invalid settings: SMELT_DBT_PROJECT_DIR={self.dbt_project_dir} has no dbt_project.yml; point "
                "it at smelt's dbt project folder (an installed smelt ships one inside the package)"
            )
        return self.dbt_project_dir

    def secrets(self) -> list[str]:
        """Values that must never be printed, for the log redactor."""
        values = (
            self.polygon.api_key,
            self.snowflake.private_key_passphrase,
            self.flatfiles.access_key_id,
            self.flatfiles.secret_access_key,
            self.alert.webhook_url,
        )
        secrets = [s.get_secret_value() for s in values if s]
        return [s for s in secrets if len(s) >= 4]


_ENV_NAMES = {
    name: (
        str(field.validation_alias.choices[0])
        if isinstance(field.validation_alias, AliasChoices)
        else f"SMELT_{name.upper()}"
    )
    for name, field in _Environment.model_fields.items()
}


def _describe(error: dict[str, Any]) -> str:
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else ""
    if not field:  # model-level rule: the message already names the variables
        return str(error["msg"]).removeprefix("Value error, ")
    name = _ENV_NAMES.get(field, field)
    allowed = (error.get("ctx") or {}).get("expected")
    got = error.get("input")
    detail = f"expected {allowed}" if allowed else str(error["msg"]).removeprefix("Value error, ")
    return f"{name}={got!r} is not valid: {detail}"


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (plus explicit overrides) or raise :class:`SettingsError` naming the variable.

    An override is keyed like the variable it stands in for, lower case without ``SMELT_``: ``sim_now``
    for ``SMELT_SIM_NOW``, ``polygon_api_key`` for ``POLYGON_API_KEY``."""
    try:
        env = _Environment(**overrides)
    except ValidationError as exc:
        lines = [_describe(dict(err)) for err in exc.errors()]
        raise SettingsError("invalid settings: " + "; ".join(lines)) from None
    return _grouped(env)


#: A variable's group is its prefix: ``SMELT_SIM_SEED`` is ``settings.simulator.seed``.
_GROUPS = {
    "polygon_flatfiles_": "flatfiles",  # before "polygon_": the first matching prefix decides
    "polygon_": "polygon",
    "snowflake_": "snowflake",
    "sim_": "simulator",
    "duckdb_": "duckdb",
    "alert_": "alert",
}


def _grouped(env: _Environment) -> Settings:
    shared: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {group: {} for group in _GROUPS.values()}
    for name, value in env:
        prefix = next((p for p in _GROUPS if name.startswith(p)), None)
        if prefix is None:
            shared[name] = value
        else:
            groups[_GROUPS[prefix]][name.removeprefix(prefix)] = value
    groups["duckdb"]["path"] = env.home / "warehouse.duckdb"
    if env.underlyings == (EVERY_UNDERLYING,):
        shared["underlyings"] = _every_underlying(env.sim_seed, env.sim_universe)
        shared["every_underlying"] = True
    return Settings(**shared, **groups)


def _every_underlying(seed: int, universe: str) -> tuple[str, ...]:
    """``SMELT_UNDERLYINGS=*``: the default 20, or the whole-market universe's optionable underlyings (read
    from the simulator's universe only then: it needs numpy, which most settings readers never load)."""
    if universe == "default":
        return DEFAULT_UNDERLYINGS
    from workflows.simulator.universe import market_underlyings

    return market_underlyings(seed)

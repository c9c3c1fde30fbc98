-- smelt on Snowflake, part 1 of 2: account objects (run before grants.sql). Idempotent: every statement
-- creates only what is missing, or converges a setting to the value below, so a re-run changes nothing.
--
-- Parameters are client-side variables written &{...}, the syntax of SnowSQL and the Snowflake CLI:
--   snow sql -f snowflake/setup.sql -D database=SMELT -D lake_url=s3://my-bucket/smelt ...
--   snowsql -o variable_substitution=true -D database=SMELT ... -f snowflake/setup.sql
-- or render them first:  smelt snowflake render setup --set lake_url=s3://my-bucket/smelt ... > setup.rendered.sql
-- Every parameter and its default is listed in docs/snowflake.md. No account id appears here.
--
-- Needs ACCOUNTADMIN (storage integration, resource monitor) and SYSADMIN (everything else).

-- 1. Account-level objects: only ACCOUNTADMIN may create integrations and resource monitors. ------------------
USE ROLE ACCOUNTADMIN;

-- Caps the credits of all three warehouses together; suspends them at the quota, immediately 10 % later.
CREATE RESOURCE MONITOR IF NOT EXISTS &{resource_monitor}
    WITH CREDIT_QUOTA = &{monthly_credit_quota} FREQUENCY = MONTHLY START_TIMESTAMP = IMMEDIATELY
    TRIGGERS ON 75 PERCENT DO NOTIFY ON 100 PERCENT DO SUSPEND ON 110 PERCENT DO SUSPEND_IMMEDIATE;
ALTER RESOURCE MONITOR &{resource_monitor} SET CREDIT_QUOTA = &{monthly_credit_quota};

-- The lake is read through an IAM role that trusts this integration's Snowflake user and external id
-- (DESC INTEGRATION shows both; docs/snowflake.md has the AWS side). Never CREATE OR REPLACE it: a new
-- integration gets a new external id and every stage on it stops working until the trust policy changes.
CREATE STORAGE INTEGRATION IF NOT EXISTS &{storage_integration}
    TYPE = EXTERNAL_STAGE
    STORAGE_PROVIDER = 'S3'
    ENABLED = TRUE
    STORAGE_AWS_ROLE_ARN = '&{aws_role_arn}'
    STORAGE_ALLOWED_LOCATIONS = ('&{lake_url}/raw/polygon/')
    COMMENT = 'smelt: read-only access to the raw zone of the lake';
ALTER STORAGE INTEGRATION &{storage_integration} SET
    STORAGE_AWS_ROLE_ARN = '&{aws_role_arn}'
    STORAGE_ALLOWED_LOCATIONS = ('&{lake_url}/raw/polygon/');
-- SYSADMIN creates the external stage on it below.
GRANT USAGE ON INTEGRATION &{storage_integration} TO ROLE SYSADMIN;

-- 2. Database, schemas, warehouses, file format, stages, landing tables: owned by SYSADMIN. ------------------
USE ROLE SYSADMIN;

CREATE DATABASE IF NOT EXISTS &{database}
    DATA_RETENTION_TIME_IN_DAYS = 1
    COMMENT = 'smelt: Polygon stock and option data, raw to marts';

-- Managed access: only the schema owner (SYSADMIN) and SECURITYADMIN grant on objects in these schemas, so a
-- role that creates a table cannot hand it to anyone else. raw keeps a week of Time Travel: it is what the
-- loader wrote. staging and intermediate are transient (no Fail-safe): dbt rebuilds them from raw, and raw
-- from the lake. marts holds views only; snapshots holds SCD2 history that cannot be rebuilt, so it is permanent.
CREATE SCHEMA IF NOT EXISTS &{database}.RAW WITH MANAGED ACCESS
    DATA_RETENTION_TIME_IN_DAYS = 7 COMMENT = 'smelt: landing tables and the load ledger, written by the loader only';
CREATE TRANSIENT SCHEMA IF NOT EXISTS &{database}.STAGING WITH MANAGED ACCESS
    DATA_RETENTION_TIME_IN_DAYS = 1 COMMENT = 'smelt: dbt staging models, rebuildable from raw';
CREATE TRANSIENT SCHEMA IF NOT EXISTS &{database}.INTERMEDIATE WITH MANAGED ACCESS
    DATA_RETENTION_TIME_IN_DAYS = 1 COMMENT = 'smelt: dbt intermediate models, rebuildable from raw';
CREATE SCHEMA IF NOT EXISTS &{database}.MARTS WITH MANAGED ACCESS
    DATA_RETENTION_TIME_IN_DAYS = 1 COMMENT = 'smelt: the dashboard''s views';
CREATE SCHEMA IF NOT EXISTS &{database}.SNAPSHOTS WITH MANAGED ACCESS
    DATA_RETENTION_TIME_IN_DAYS = 7 COMMENT = 'smelt: dbt snapshots (SCD2 history)';

-- One warehouse per workload, so each is sized, suspended and billed on its own. XSMALL loads a day's COPY in
-- seconds; SMALL gives dbt's window functions over a year of chains room; the dashboard's queries are small and
-- bursty, so it waits a little longer before suspending to keep its cache warm between clicks.
CREATE WAREHOUSE IF NOT EXISTS &{load_warehouse}
    WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
    STATEMENT_TIMEOUT_IN_SECONDS = 1800 COMMENT = 'smelt: COPY INTO the raw landing tables';
ALTER WAREHOUSE &{load_warehouse} SET
    WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE STATEMENT_TIMEOUT_IN_SECONDS = 1800;
CREATE WAREHOUSE IF NOT EXISTS &{transform_warehouse}
    WITH WAREHOUSE_SIZE = 'SMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
    STATEMENT_TIMEOUT_IN_SECONDS = 3600 COMMENT = 'smelt: dbt builds';
ALTER WAREHOUSE &{transform_warehouse} SET
    WAREHOUSE_SIZE = 'SMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE STATEMENT_TIMEOUT_IN_SECONDS = 3600;
CREATE WAREHOUSE IF NOT EXISTS &{dashboard_warehouse}
    WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 300 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
    STATEMENT_TIMEOUT_IN_SECONDS = 120 COMMENT = 'smelt: dashboard queries on the marts';
ALTER WAREHOUSE &{dashboard_warehouse} SET
    WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 300 AUTO_RESUME = TRUE STATEMENT_TIMEOUT_IN_SECONDS = 120;

-- Lake parts are gzip NDJSON, one API item per line, loaded verbatim into a VARIANT.
CREATE FILE FORMAT IF NOT EXISTS &{database}.RAW.NDJSON_GZ
    TYPE = JSON COMPRESSION = GZIP STRIP_OUTER_ARRAY = FALSE
    COMMENT = 'smelt: lake parts (gzip NDJSON, one record per line)';

-- Flat-file parts are the vendor's gzip CSV, verbatim: the header is checked by the loader, then skipped here;
-- quoting as RFC 4180; a row with another number of fields fails the COPY (ERROR_ON_COLUMN_COUNT_MISMATCH's
-- default). Only an empty field is NULL (then refused by the NOT NULL columns), never a text such as \N.
CREATE FILE FORMAT IF NOT EXISTS &{database}.RAW.CSV_GZ
    TYPE = CSV COMPRESSION = GZIP SKIP_HEADER = 1 FIELD_DELIMITER = ',' FIELD_OPTIONALLY_ENCLOSED_BY = '"'
    ESCAPE_UNENCLOSED_FIELD = NONE EMPTY_FIELD_AS_NULL = TRUE NULL_IF = ()
    COMMENT = 'smelt: flat-file parts (the vendor''s gzip CSV, one header line)';

-- S3 lake: the raw zone, read through the integration. Folder lake (development): the loader PUTs parts here.
CREATE STAGE IF NOT EXISTS &{database}.RAW.LAKE
    URL = '&{lake_url}/raw/polygon/'
    STORAGE_INTEGRATION = &{storage_integration}
    FILE_FORMAT = (FORMAT_NAME = '&{database}.RAW.NDJSON_GZ')
    COMMENT = 'smelt: the lake raw zone on S3';
ALTER STAGE &{database}.RAW.LAKE SET
    URL = '&{lake_url}/raw/polygon/' STORAGE_INTEGRATION = &{storage_integration};
CREATE STAGE IF NOT EXISTS &{database}.RAW.LAKE_UPLOADS
    ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')
    FILE_FORMAT = (FORMAT_NAME = '&{database}.RAW.NDJSON_GZ')
    COMMENT = 'smelt: parts PUT from a folder lake, removed once loaded';

-- Landing tables: the same shape as on DuckDB (workflows/warehouse/ddl.py); one line of a lake part per row.
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_STOCK_BARS (
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
);
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_STOCK_SPLITS (
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
);
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_OPTION_CONTRACTS (
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
);
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_OPTION_SNAPSHOTS (
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
);
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_OPTION_BARS (
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
);
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_STOCK_DIVIDENDS (
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
);
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_TREASURY_YIELDS (
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
);
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_OPTION_GREEKS (
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
);

-- Flat-file landing tables: the vendor's eight CSV columns, typed (workflows/warehouse/flatfiles.py), one row
-- per data row of a day's object, with the object's ETag and last-modified time (the newest version wins in dbt).
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_STOCK_DAY_AGGS (
    ticker               VARCHAR        NOT NULL,
    volume               NUMBER(38, 0)  NOT NULL,
    open                 FLOAT          NOT NULL,
    close                FLOAT          NOT NULL,
    high                 FLOAT          NOT NULL,
    low                  FLOAT          NOT NULL,
    window_start         NUMBER(38, 0)  NOT NULL,
    transactions         NUMBER(38, 0)  NOT NULL,
    trade_date           DATE           NOT NULL,
    source               VARCHAR        NOT NULL,
    source_file          VARCHAR        NOT NULL,
    source_row           NUMBER(38, 0)  NOT NULL,
    source_etag          VARCHAR        NOT NULL,
    source_last_modified TIMESTAMP_TZ   NOT NULL,
    loaded_at            TIMESTAMP_TZ   NOT NULL
);
CREATE TABLE IF NOT EXISTS &{database}.RAW.POLYGON_OPTION_DAY_AGGS (
    ticker               VARCHAR        NOT NULL,
    volume               NUMBER(38, 0)  NOT NULL,
    open                 FLOAT          NOT NULL,
    close                FLOAT          NOT NULL,
    high                 FLOAT          NOT NULL,
    low                  FLOAT          NOT NULL,
    window_start         NUMBER(38, 0)  NOT NULL,
    transactions         NUMBER(38, 0)  NOT NULL,
    trade_date           DATE           NOT NULL,
    source               VARCHAR        NOT NULL,
    source_file          VARCHAR        NOT NULL,
    source_row           NUMBER(38, 0)  NOT NULL,
    source_etag          VARCHAR        NOT NULL,
    source_last_modified TIMESTAMP_TZ   NOT NULL,
    loaded_at            TIMESTAMP_TZ   NOT NULL
);

-- The load ledger: one row per manifest, written in the same transaction as the manifest's COPY. Snowflake
-- does not enforce the primary key: the loader inserts a key only where it is absent, and COPY's load history
-- is the second guard (docs/snowflake.md).
-- ROWS is reserved in Snowflake SQL, hence the quotes (the column is still ROWS, as unquoted rows on DuckDB).
CREATE TABLE IF NOT EXISTS &{database}.RAW.SMELT_LOADS (
    manifest_key VARCHAR       NOT NULL PRIMARY KEY,
    dataset      VARCHAR       NOT NULL,
    trade_date   DATE          NOT NULL,
    files        INTEGER       NOT NULL,
    "ROWS"       BIGINT        NOT NULL,
    sha256       VARCHAR       NOT NULL,
    loaded_at    TIMESTAMP_TZ  NOT NULL
);

-- 3. Put the warehouses under the monitor (ACCOUNTADMIN only). ----------------------------------------------
USE ROLE ACCOUNTADMIN;
ALTER WAREHOUSE &{load_warehouse} SET RESOURCE_MONITOR = &{resource_monitor};
ALTER WAREHOUSE &{transform_warehouse} SET RESOURCE_MONITOR = &{resource_monitor};
ALTER WAREHOUSE &{dashboard_warehouse} SET RESOURCE_MONITOR = &{resource_monitor};

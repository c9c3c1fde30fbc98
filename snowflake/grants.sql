-- smelt on Snowflake, part 2 of 2: roles, grants and service users (run after setup.sql). Idempotent:
-- roles and users are created when missing, grants are sets, settings converge to the values below.
-- Parameters as in setup.sql (&{...} variables; docs/snowflake.md lists them). Needs SECURITYADMIN (MANAGE GRANTS).
--
--   SMELT_LOADER       writes the raw schema only: INSERT/SELECT on its tables, the stages, the load warehouse
--   SMELT_TRANSFORMER  reads raw, creates and owns the models in staging, intermediate, marts and snapshots
--   SMELT_REPORTER     reads the marts only, on the dashboard warehouse only
--
-- Nothing here grants DELETE, UPDATE or TRUNCATE on raw, OWNERSHIP of a schema, or a warehouse to more than
-- one role. Future grants cover tables a later setup.sql adds (a new dataset) and every model dbt creates.
USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS &{loader_role} COMMENT = 'smelt: loads lake manifests into the raw schema';
CREATE ROLE IF NOT EXISTS &{transformer_role} COMMENT = 'smelt: dbt builds from raw into the model schemas';
CREATE ROLE IF NOT EXISTS &{reporter_role} COMMENT = 'smelt: the dashboard, read-only on the marts';
-- Custom roles roll up to SYSADMIN, so administrators see and manage what they own.
GRANT ROLE &{loader_role} TO ROLE SYSADMIN;
GRANT ROLE &{transformer_role} TO ROLE SYSADMIN;
GRANT ROLE &{reporter_role} TO ROLE SYSADMIN;

-- The loader. --------------------------------------------------------------------------------------------------
GRANT USAGE ON WAREHOUSE &{load_warehouse} TO ROLE &{loader_role};
GRANT USAGE ON DATABASE &{database} TO ROLE &{loader_role};
GRANT USAGE ON SCHEMA &{database}.RAW TO ROLE &{loader_role};
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA &{database}.RAW TO ROLE &{loader_role};
GRANT SELECT, INSERT ON FUTURE TABLES IN SCHEMA &{database}.RAW TO ROLE &{loader_role};
GRANT USAGE ON FILE FORMAT &{database}.RAW.NDJSON_GZ TO ROLE &{loader_role};
GRANT USAGE ON FILE FORMAT &{database}.RAW.CSV_GZ TO ROLE &{loader_role};
GRANT USAGE ON STAGE &{database}.RAW.LAKE TO ROLE &{loader_role};
GRANT READ, WRITE ON STAGE &{database}.RAW.LAKE_UPLOADS TO ROLE &{loader_role};

-- The transformer: reads raw (landing tables and the ledger), owns what it builds in the model schemas. -------
GRANT USAGE ON WAREHOUSE &{transform_warehouse} TO ROLE &{transformer_role};
GRANT USAGE ON DATABASE &{database} TO ROLE &{transformer_role};
GRANT USAGE ON SCHEMA &{database}.RAW TO ROLE &{transformer_role};
GRANT SELECT ON ALL TABLES IN SCHEMA &{database}.RAW TO ROLE &{transformer_role};
GRANT SELECT ON FUTURE TABLES IN SCHEMA &{database}.RAW TO ROLE &{transformer_role};
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA &{database}.STAGING TO ROLE &{transformer_role};
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA &{database}.INTERMEDIATE TO ROLE &{transformer_role};
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA &{database}.MARTS TO ROLE &{transformer_role};
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA &{database}.SNAPSHOTS TO ROLE &{transformer_role};

-- The reporter: the marts' views (and tables, should a mart become one), nothing else. ------------------------
GRANT USAGE ON WAREHOUSE &{dashboard_warehouse} TO ROLE &{reporter_role};
GRANT USAGE ON DATABASE &{database} TO ROLE &{reporter_role};
GRANT USAGE ON SCHEMA &{database}.MARTS TO ROLE &{reporter_role};
GRANT SELECT ON ALL VIEWS IN SCHEMA &{database}.MARTS TO ROLE &{reporter_role};
GRANT SELECT ON FUTURE VIEWS IN SCHEMA &{database}.MARTS TO ROLE &{reporter_role};
GRANT SELECT ON ALL TABLES IN SCHEMA &{database}.MARTS TO ROLE &{reporter_role};
GRANT SELECT ON FUTURE TABLES IN SCHEMA &{database}.MARTS TO ROLE &{reporter_role};

-- Service users: key-pair authentication only (TYPE = SERVICE users cannot have a password or MFA). The public
-- key is set when the user is created; rotation goes through RSA_PUBLIC_KEY_2 by hand (docs/snowflake.md), so a
-- re-run of this script never puts back an old key. No secondary roles: each user acts with its one role.
CREATE USER IF NOT EXISTS &{loader_user}
    TYPE = SERVICE RSA_PUBLIC_KEY = '&{loader_public_key}'
    DEFAULT_ROLE = &{loader_role} DEFAULT_WAREHOUSE = &{load_warehouse} DEFAULT_NAMESPACE = &{database}.RAW
    COMMENT = 'smelt: the load step (Argo)';
ALTER USER &{loader_user} SET
    TYPE = SERVICE DEFAULT_ROLE = &{loader_role} DEFAULT_WAREHOUSE = &{load_warehouse}
    DEFAULT_NAMESPACE = &{database}.RAW DEFAULT_SECONDARY_ROLES = ();
GRANT ROLE &{loader_role} TO USER &{loader_user};

CREATE USER IF NOT EXISTS &{transformer_user}
    TYPE = SERVICE RSA_PUBLIC_KEY = '&{transformer_public_key}'
    DEFAULT_ROLE = &{transformer_role} DEFAULT_WAREHOUSE = &{transform_warehouse}
    DEFAULT_NAMESPACE = &{database}.STAGING COMMENT = 'smelt: the transform step (dbt, Argo)';
ALTER USER &{transformer_user} SET
    TYPE = SERVICE DEFAULT_ROLE = &{transformer_role} DEFAULT_WAREHOUSE = &{transform_warehouse}
    DEFAULT_NAMESPACE = &{database}.STAGING DEFAULT_SECONDARY_ROLES = ();
GRANT ROLE &{transformer_role} TO USER &{transformer_user};

CREATE USER IF NOT EXISTS &{reporter_user}
    TYPE = SERVICE RSA_PUBLIC_KEY = '&{reporter_public_key}'
    DEFAULT_ROLE = &{reporter_role} DEFAULT_WAREHOUSE = &{dashboard_warehouse}
    DEFAULT_NAMESPACE = &{database}.MARTS COMMENT = 'smelt: the dashboard (Helm chart)';
ALTER USER &{reporter_user} SET
    TYPE = SERVICE DEFAULT_ROLE = &{reporter_role} DEFAULT_WAREHOUSE = &{dashboard_warehouse}
    DEFAULT_NAMESPACE = &{database}.MARTS DEFAULT_SECONDARY_ROLES = ();
GRANT ROLE &{reporter_role} TO USER &{reporter_user};

{#-
    Test-only (fakesnow): dbt-snowflake's scratch table for delete+insert incrementals and snapshots is
    `create or replace temporary table <db>.<schema>.<name>__dbt_tmp as (...)`. fakesnow maps temporary tables to
    DuckDB's `temp` catalog and rejects the schema-qualified name. This makes the same CTAS a transient table:
    the same rows, followed by the same delete+insert or merge; only its lifetime differs (it outlives the
    session and is replaced by the next run). Production keeps dbt-snowflake's temporary table. Listed in
    docs/snowflake.md.
-#}
{% macro snowflake__create_table_temporary_sql(relation, compiled_code) -%}
    {{ snowflake__create_table_transient_sql(relation, compiled_code) }}
{%- endmacro %}

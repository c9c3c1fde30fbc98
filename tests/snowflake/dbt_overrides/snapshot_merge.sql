{#-
    Test-only (fakesnow): the snapshot MERGE of dbt (default__snapshot_merge_sql) inserts `values (col, ...)`
    with unqualified names. Snowflake resolves them to the source (DBT_INTERNAL_SOURCE); fakesnow reports them as
    ambiguous between source and target. This is the same statement with the names qualified, which is what
    Snowflake reads anyway (the project sets no dbt_valid_to_current, the
    one branch of dbt's macro left out). Production keeps dbt's macro. Listed in docs/snowflake.md.
-#}
{% macro snowflake__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() -%}
    merge into {{ target.render() }} as DBT_INTERNAL_DEST
    using {{ source }} as DBT_INTERNAL_SOURCE
    on DBT_INTERNAL_SOURCE.{{ columns.dbt_scd_id }} = DBT_INTERNAL_DEST.{{ columns.dbt_scd_id }}
    when matched
       and DBT_INTERNAL_DEST.{{ columns.dbt_valid_to }} is null
       and DBT_INTERNAL_SOURCE.dbt_change_type in ('update', 'delete')
        then update set {{ columns.dbt_valid_to }} = DBT_INTERNAL_SOURCE.{{ columns.dbt_valid_to }}
    when not matched
       and DBT_INTERNAL_SOURCE.dbt_change_type = 'insert'
        then insert ({{ insert_cols | join(', ') }})
        values ({% for c in insert_cols %}DBT_INTERNAL_SOURCE.{{ c }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{#- Small, engine-neutral expressions shared by the models (plain SQL that DuckDB and Snowflake both run). -#}

{#- safe_divide(numerator, denominator): a double, NULL when the denominator is 0 or NULL (never an error). -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{#-
    batch_timestamp(): when this dbt invocation started, as a UTC timestamp. Every incremental model stamps the
    rows it writes with it (`_batch_at`); a downstream model picks up the rows stamped after its own newest stamp.
-#}
{% macro batch_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#-
    is_newer_than_watermark(column, this_column): true when `column` is after the newest `this_column` already
    in this incremental model (or when the model is still empty). Use inside `{% if is_incremental() %}`.
-#}
{% macro is_newer_than_watermark(column, this_column) -%}
    ({{ column }} > (select max({{ this_column }}) from {{ this }})
     or (select max({{ this_column }}) from {{ this }}) is null)
{%- endmacro %}

{#-
    combine_source(a, b): 'simulator' if either input is simulated, else the known one. Rows built from
    simulated data stay marked as such all the way to the dashboard.
-#}
{% macro combine_source(a, b) -%}
    case when {{ a }} = 'simulator' or {{ b }} = 'simulator' then 'simulator' else coalesce({{ a }}, {{ b }}) end
{%- endmacro %}

{#- aggregate_source(column): the same rule over a group ('simulator' sorts after 'polygon'). -#}
{% macro aggregate_source(column) -%}
    max({{ column }})
{%- endmacro %}

{#-
    manifest_key_of(source_file): the lake key of the manifest that lists a part, from the part's own key
    (raw/polygon/<dataset>/dt=D/[underlying=U/]part-NNNNN-<run_id>.<suffix> is listed by
    raw/_manifests/<dataset>/dt=D/[underlying=U/]<run_id>.json: workflows/lake/keys.py).
-#}
{% macro manifest_key_of(source_file) -%}
    'raw/_manifests/' || {{ regexp_group(source_file, '^raw/polygon/(.*)/part-[0-9]+-([^.]+)[.]', 1) }}
        || '/' || {{ regexp_group(source_file, '^raw/polygon/(.*)/part-[0-9]+-([^.]+)[.]', 2) }} || '.json'
{%- endmacro %}

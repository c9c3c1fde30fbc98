{#-
    epoch_to_timestamp(expr, unit): an integer epoch in 's', 'ms', 'us' or 'ns' (Polygon aggregates use ms,
    snapshots ns) as a UTC timestamp without time zone, microsecond precision.
-#}
{% macro epoch_to_timestamp(expr, unit='ms') -%}
    {%- if unit not in ['s', 'ms', 'us', 'ns'] -%}
        {{ exceptions.raise_compiler_error("epoch_to_timestamp: unit '" ~ unit ~ "' is not s, ms, us or ns") }}
    {%- endif -%}
    {{ return(adapter.dispatch('epoch_to_timestamp', 'smelt')(expr, unit)) }}
{%- endmacro %}

{% macro default__epoch_to_timestamp(expr, unit) -%}
    {%- set per_second = {'s': 1, 'ms': 1000, 'us': 1000000, 'ns': 1000000000}[unit] -%}
    {{ dbt.dateadd('second', '(' ~ expr ~ ') / ' ~ per_second, "cast('1970-01-01 00:00:00' as timestamp)") }}
{%- endmacro %}

{% macro duckdb__epoch_to_timestamp(expr, unit) -%}
    {%- if unit == 's' -%} make_timestamp(({{ expr }}) * 1000000)
    {%- elif unit == 'ms' -%} make_timestamp(({{ expr }}) * 1000)
    {%- elif unit == 'us' -%} make_timestamp({{ expr }})
    {%- else -%} make_timestamp(({{ expr }}) // 1000)
    {%- endif -%}
{%- endmacro %}

{% macro snowflake__epoch_to_timestamp(expr, unit) -%}
    {%- if unit == 'ns' -%}
        {#- truncated to microseconds, like DuckDB's timestamp, so both engines give the same value -#}
        to_timestamp_ntz(trunc(({{ expr }}) / 1000), 6)
    {%- else -%}
        to_timestamp_ntz({{ expr }}, {{ {'s': 0, 'ms': 3, 'us': 6}[unit] }})
    {%- endif -%}
{%- endmacro %}

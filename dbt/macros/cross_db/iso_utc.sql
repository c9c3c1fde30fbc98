{#- iso_utc(ts): a timestamp with time zone as ISO 8601 UTC text ('2026-11-27T21:15:00Z'), the same on both engines. -#}
{% macro iso_utc(ts) -%}
    {{ return(adapter.dispatch('iso_utc', 'smelt')(ts)) }}
{%- endmacro %}

{% macro default__iso_utc(ts) -%}
    {#- no quoted literals inside the format: the emulator (fakesnow, via sqlglot) would keep their quotes -#}
    to_varchar(convert_timezone('UTC', {{ ts }}), 'YYYY-MM-DD') || 'T'
        || to_varchar(convert_timezone('UTC', {{ ts }}), 'HH24:MI:SS') || 'Z'
{%- endmacro %}

{% macro duckdb__iso_utc(ts) -%}
    strftime(timezone('UTC', {{ ts }}), '%Y-%m-%dT%H:%M:%SZ')
{%- endmacro %}

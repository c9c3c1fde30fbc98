{#-
    regexp_group(expr, pattern, group): capture group `group` of the first match of `pattern`, NULL when the
    pattern does not match (DuckDB's regexp_extract gives '' there, hence the nullif).
    Write patterns without backslashes (use [0-9], not \d): string literals escape them differently per engine.
-#}
{% macro regexp_group(expr, pattern, group) -%}
    {%- if '\\' in pattern or "'" in pattern -%}
        {{ exceptions.raise_compiler_error("regexp_group: no backslashes or quotes in patterns: " ~ pattern) }}
    {%- endif -%}
    {{ return(adapter.dispatch('regexp_group', 'smelt')(expr, pattern, group)) }}
{%- endmacro %}

{% macro default__regexp_group(expr, pattern, group) -%}
    regexp_substr({{ expr }}, '{{ pattern }}', 1, 1, 'e', {{ group }})
{%- endmacro %}

{% macro duckdb__regexp_group(expr, pattern, group) -%}
    nullif(regexp_extract({{ expr }}, '{{ pattern }}', {{ group }}), '')
{%- endmacro %}

{% macro snowflake__regexp_group(expr, pattern, group) -%}
    regexp_substr({{ expr }}, '{{ pattern }}', 1, 1, 'e', {{ group }})
{%- endmacro %}

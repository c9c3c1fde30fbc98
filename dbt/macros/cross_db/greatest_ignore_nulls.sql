{#-
    greatest_ignore_nulls(exprs): the largest non-NULL value of a list, NULL only when all are NULL.
    DuckDB's greatest() skips NULLs; Snowflake's returns NULL if any argument is NULL.
-#}
{% macro greatest_ignore_nulls(exprs) -%}
    {{ return(adapter.dispatch('greatest_ignore_nulls', 'smelt')(exprs)) }}
{%- endmacro %}

{% macro default__greatest_ignore_nulls(exprs) -%}
    {%- set ns = namespace(sql=exprs[0]) -%}
    {%- for e in exprs[1:] -%}
        {%- set ns.sql = 'case when (' ~ e ~ ') is null then (' ~ ns.sql ~ ') when (' ~ ns.sql ~ ') is null then ('
            ~ e ~ ') when (' ~ e ~ ') > (' ~ ns.sql ~ ') then (' ~ e ~ ') else (' ~ ns.sql ~ ') end' -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}

{% macro duckdb__greatest_ignore_nulls(exprs) -%}
    greatest({{ exprs | join(', ') }})
{%- endmacro %}

{% macro snowflake__greatest_ignore_nulls(exprs) -%}
    greatest_ignore_nulls({{ exprs | join(', ') }})
{%- endmacro %}

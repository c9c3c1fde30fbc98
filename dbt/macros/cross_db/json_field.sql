{#-
    json_field(column, path, type): one typed field out of a JSON/VARIANT column.

    path is dot-separated keys, case-sensitive (Polygon's grouped bars have both `T` and `t`):
        {{ json_field('record', 'day.close', 'double') }}
            duckdb:    cast(record ->> '$."day"."close"' as double)
            snowflake: record:"day"."close"::double
    type is one of: varchar, double, bigint, date, timestamp_tz, boolean.
    A missing key or a JSON null gives SQL NULL on both engines.
-#}
{% macro json_field(column, path, type='varchar') -%}
    {%- set allowed = ['varchar', 'double', 'bigint', 'date', 'timestamp_tz', 'boolean'] -%}
    {%- if type not in allowed -%}
        {{ exceptions.raise_compiler_error("json_field: type '" ~ type ~ "' is not one of " ~ allowed | join(', ')) }}
    {%- endif -%}
    {%- set keys = path.split('.') -%}
    {%- for key in keys -%}
        {%- if key == '' or '"' in key or "'" in key -%}
            {{ exceptions.raise_compiler_error("json_field: bad path '" ~ path ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('json_field', 'smelt')(column, keys, type)) }}
{%- endmacro %}

{% macro default__json_field(column, keys, type) -%}
    {#- Postgres/Redshift-style path extraction as a text, then a standard cast. -#}
    cast(json_extract_path_text({{ column }}, '{{ keys | join("', '") }}') as {{ 'bigint' if type == 'bigint' else type | replace('timestamp_tz', 'timestamp') }})
{%- endmacro %}

{% macro duckdb__json_field(column, keys, type) -%}
    {%- set json_path = '$.' ~ ('"' ~ keys | join('"."') ~ '"') -%}
    {%- set sql_type = {'varchar': 'varchar', 'double': 'double', 'bigint': 'bigint', 'date': 'date',
                         'timestamp_tz': 'timestamptz', 'boolean': 'boolean'}[type] -%}
    {%- if type == 'varchar' -%}
        ({{ column }} ->> '{{ json_path }}')
    {%- else -%}
        cast({{ column }} ->> '{{ json_path }}' as {{ sql_type }})
    {%- endif -%}
{%- endmacro %}

{% macro snowflake__json_field(column, keys, type) -%}
    {%- set sql_type = {'varchar': 'varchar', 'double': 'double', 'bigint': 'number(38, 0)', 'date': 'date',
                         'timestamp_tz': 'timestamp_tz', 'boolean': 'boolean'}[type] -%}
    {{ column }}:"{{ keys | join('"."') }}"::{{ sql_type }}
{%- endmacro %}

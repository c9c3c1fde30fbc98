{#-
    json_field(column, path, type): one typed field out of a JSON/VARIANT column.

    path is dot-separated keys, case-sensitive (Polygon's grouped bars have both `T` and `t`):
        {{ json_field('record', 'day.close', 'double') }}
            duckdb:    cast((record -> '$."day"') ->> '$."close"' as double)
            snowflake: record:"day"."close"::double
    type is one of: varchar, double, bigint, date, timestamp_tz, boolean.
    A missing key or a JSON null gives SQL NULL on both engines.
-#}
{% macro json_field(column, path, type='varchar') -%}
    {%- do smelt.json_field_type_checked('json_field', type) -%}
    {%- set keys = path.split('.') -%}
    {%- for key in keys -%}
        {%- if key == '' or '"' in key or "'" in key -%}
            {{ exceptions.raise_compiler_error("json_field: bad path '" ~ path ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('json_field', 'smelt')(column, keys, type)) }}
{%- endmacro %}

{#-
    The field types json_field, json_parse and parsed_field accept, with each engine's name for them: the one
    list of them. The dispatching macros check a type here, whatever the engine; an implementation only looks
    its name up.
-#}
{% macro json_field_types() -%}
    {{ return({
        'varchar': {'duckdb': 'varchar', 'snowflake': 'varchar'},
        'double': {'duckdb': 'double', 'snowflake': 'double'},
        'bigint': {'duckdb': 'bigint', 'snowflake': 'number(38, 0)'},
        'date': {'duckdb': 'date', 'snowflake': 'date'},
        'timestamp_tz': {'duckdb': 'timestamptz', 'snowflake': 'timestamp_tz'},
        'boolean': {'duckdb': 'boolean', 'snowflake': 'boolean'},
    }) }}
{%- endmacro %}

{#- Nothing, or a compile error naming the macro, the type (and the key) and the allowed ones. -#}
{% macro json_field_type_checked(caller_name, type, key=none) -%}
    {%- set allowed = smelt.json_field_types().keys() | list -%}
    {%- if type not in allowed -%}
        {%- set where = " of key '" ~ key ~ "'" if key is not none else "" -%}
        {{ exceptions.raise_compiler_error(caller_name ~ ": type '" ~ type ~ "'" ~ where ~ " is not one of " ~ allowed | join(', ')) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__json_field(column, keys, type) -%}
    {#- Postgres/Redshift-style path extraction as a text, then a standard cast. -#}
    cast(json_extract_path_text({{ column }}, '{{ keys | join("', '") }}') as {{ 'bigint' if type == 'bigint' else type | replace('timestamp_tz', 'timestamp') }})
{%- endmacro %}

{% macro duckdb__json_field(column, keys, type) -%}
    {#-
        A nested key is read from its top-level object: (record -> '$."day"') ->> '$."close"'. DuckDB's
        common-subexpression elimination then parses each record once per top-level object instead of once
        per field; every JSON function keeps its own parse buffers, and 40-odd full-document parses per row
        of an option chain need more than a 1 GB memory limit.
    -#}
    {%- set sql_type = smelt.json_field_types()[type].duckdb -%}
    {%- if keys | length > 1 -%}
        {%- set source = '(' ~ column ~ " -> '$.\"" ~ keys[0] ~ "\"')" -%}
        {%- set rest = keys[1:] -%}
    {%- else -%}
        {%- set source = column -%}
        {%- set rest = keys -%}
    {%- endif -%}
    {%- set json_path = '$.' ~ ('"' ~ rest | join('"."') ~ '"') -%}
    {%- if type == 'varchar' -%}
        ({{ source }} ->> '{{ json_path }}')
    {%- else -%}
        cast({{ source }} ->> '{{ json_path }}' as {{ sql_type }})
    {%- endif -%}
{%- endmacro %}

{% macro snowflake__json_field(column, keys, type) -%}
    {%- set sql_type = smelt.json_field_types()[type].snowflake -%}
    {{ column }}:"{{ keys | join('"."') }}"::{{ sql_type }}
{%- endmacro %}

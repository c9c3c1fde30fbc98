{#-
    json_parse(column, structure) and parsed_field(column, path, type): many typed fields out of one JSON/VARIANT
    column, the document parsed once per row.

    json_field parses per field: on DuckDB each `->>` (or each top-level object, see json_field) is a parse of
    its own, with its own buffers per thread. A snapshot row has 40-odd fields, so its staging model spent most
    of its time parsing, and two DuckDB threads ran out of a 768 MB limit on a month of chains. json_parse
    transforms the document once into a struct of its leaves as text; parsed_field reads and casts one, so a
    value of the wrong type is an error and a missing key or a JSON null is NULL, exactly as with json_field.
    On Snowflake a VARIANT is parsed already, so json_parse is the column and parsed_field is json_field.

        {%- set snapshot = {'details': {'ticker': 'varchar'}, 'day': {'close': 'double'}} -%}
        select {{ json_parse('record', snapshot) }} as parsed, ...
        select {{ parsed_field('parsed', 'day.close', 'double') }} as close, ...

    structure: nested dicts of key -> type (types as json_field's); every path read must be in it.
-#}
{% macro json_parse(column, structure) -%}
    {%- do smelt.json_structure_checked(structure) -%}
    {{ return(adapter.dispatch('json_parse', 'smelt')(column, structure)) }}
{%- endmacro %}

{#- Every leaf's type is one json_field takes, on every engine (Snowflake's json_parse ignores the structure). -#}
{% macro json_structure_checked(structure) -%}
    {%- for key, value in structure.items() -%}
        {%- if value is mapping -%}
            {%- do smelt.json_structure_checked(value) -%}
        {%- else -%}
            {%- do smelt.json_field_type_checked('json_parse', value, key) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{% macro default__json_parse(column, structure) -%}
    {{ column }}
{%- endmacro %}

{#-
    Every leaf as text, cast by parsed_field: the same values and the same errors as json_field's `->>` and
    cast (json_transform would turn a value of the wrong type into NULL, and json_transform_strict fails on a
    missing key, which Polygon omits freely).
-#}
{% macro duckdb__json_parse(column, structure) -%}
    json_transform({{ column }}, '{{ smelt.duckdb_json_structure(structure) | tojson | replace("'", "''") }}')
{%- endmacro %}

{#- The structure with every leaf VARCHAR (its type checked by json_parse, applied by parsed_field). -#}
{% macro duckdb_json_structure(structure) -%}
    {%- set out = {} -%}
    {%- for key, value in structure.items() -%}
        {%- do out.update({key: smelt.duckdb_json_structure(value) if value is mapping else 'VARCHAR'}) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{% macro parsed_field(column, path, type='varchar') -%}
    {%- do smelt.json_field_type_checked('parsed_field', type) -%}
    {{ return(adapter.dispatch('parsed_field', 'smelt')(column, path, type)) }}
{%- endmacro %}

{% macro default__parsed_field(column, path, type) -%}
    {{ smelt.json_field(column, path, type) }}
{%- endmacro %}

{#- Brackets, not dots: `parsed.day` would name a table `parsed`, and the column is a lateral alias. -#}
{% macro duckdb__parsed_field(column, path, type) -%}
    {%- set sql_type = smelt.json_field_types()[type].duckdb -%}
    {%- set field = column ~ "['" ~ path.split('.') | join("']['") ~ "']" -%}
    {%- if type == 'varchar' -%} {{ field }} {%- else -%} cast({{ field }} as {{ sql_type }}) {%- endif -%}
{%- endmacro %}

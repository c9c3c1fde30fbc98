{#-
    Schemas are exactly the configured names (staging, intermediate, marts, snapshots), never
    `<target schema>_<custom>`: the dashboard and the loaders address them by these names on every target.
    Nodes without a custom schema fall back to the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

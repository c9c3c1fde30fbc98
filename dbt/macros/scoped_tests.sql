{#-
    The daily build tests what it built, not all history. When the var `smelt_test_days` (a list of ISO dates:
    the trading days of the loads `smelt transform` took) is given, a generic data test reads only the rows of
    its model that the model's `smelt_test_scope` (meta, set per folder and model in dbt_project.yml) selects:

    * `day_or_batch`: rows of those days, plus the rows this transform wrote (`_batch_at` since the var
      `smelt_test_since`, UTC: a split rewrites a ticker's old days);
    * `batch`: the rows this build wrote (staging models of reference data keyed by their landing day);
    * `day`: rows of those days (the marts: views, filtered before their joins);
    * none: every row (small reference models, the snapshot, sources).

    Every natural key holds its `trade_date` (or, for `batch`, its landing day), so a duplicate of a key lies
    on the same day as the key's new row: within the scope. `smelt transform --full-validation` sets no var:
    every test reads every row. docs/architecture.md (decision 76) lists which test runs where and why.

    dbt applies this to a generic test's `model` argument (not to the `to` side of `relationships`), after
    the test's own `where`, if any.
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do clauses.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set days = var('smelt_test_days', none) -%}
    {%- if days is not none -%}
        {%- set scope = smelt.test_scope(relation) -%}
        {%- set in_days -%}
            trade_date in ({% for day in days %}cast('{{ day }}' as date){{ ', ' if not loop.last }}{% endfor %})
        {%- endset -%}
        {#- the transform's first dbt invocation (the pricing inputs) writes rows too: since it started -#}
        {%- set since = var('smelt_test_since', none) -%}
        {%- set in_batch = ("_batch_at >= cast('" ~ since ~ "' as timestamp)") if since
                           else ('_batch_at = ' ~ smelt.batch_timestamp()) -%}
        {%- if scope == 'day_or_batch' -%}
            {%- do clauses.append('(' ~ in_days ~ ' or ' ~ in_batch ~ ')') -%}
        {%- elif scope == 'batch' -%}
            {%- do clauses.append(in_batch) -%}
        {%- elif scope == 'day' -%}
            {%- do clauses.append(in_days) -%}
        {%- elif scope is not none -%}
            {{ exceptions.raise_compiler_error("smelt_test_scope of " ~ relation ~ " is " ~ scope ~ "; use day_or_batch, batch, day or none") }}
        {%- endif -%}
    {%- endif -%}
    {%- if clauses -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ clauses | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- test_scope(relation): the `smelt_test_scope` meta of the model or snapshot behind `relation`, or none. -#}
{% macro test_scope(relation) -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
                if node.resource_type in ('model', 'snapshot')
                and node.alias | lower == relation.identifier | lower
                and node.schema | lower == relation.schema | lower -%}
            {%- do return(node.config.meta.get('smelt_test_scope')) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}

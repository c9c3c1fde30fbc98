{#-
    newest_landing_rows(relation, keys, newest_by): the landing rows of `relation` that are the newest copy of
    their natural key (`keys`: SQL expressions), by `newest_by` (default: the fetch time in `_meta`; a flat
    file's is the object's last-modified time), then load time, then row address.

    In an incremental run only the trading days of the ledger keys this model has not transformed yet are read
    (`stg_polygon__smelt_loads` rows of this dataset stamped after the model's newest `_batch_at`; manifests with
    no files add no rows), all copies of those days included, so the newest copy still wins and the raw JSON of
    other days is never parsed again. Keys, not load times: a load that commits during a build is taken by the
    next build whatever its `loaded_at`. Every natural key holds its landing `trade_date`, so a key never spans
    two days.

    The choice runs over a narrow projection (keys, ordering, row address) and only the winners are joined
    back. A window over the full-width extracted rows keeps every JSON field of every copy in memory: on a
    month of 20 chains that alone exceeds a 1 GB DuckDB memory limit. (source_file, source_row) is unique
    because the ledger loads each manifest, and so each part, once.
-#}
{% macro newest_landing_rows(relation, keys, newest_by=none) %}
    {#- ref() outside the if: dbt records the dependency when it parses the model, where is_incremental() is false -#}
    {%- set loads = ref('stg_polygon__smelt_loads') -%}
    {%- set dataset = relation.identifier | lower | replace('polygon_', '', 1) -%}
    {%- set changed_days -%}
        {%- if is_incremental() -%}
        select distinct trade_date from {{ loads }}
        where dataset = '{{ dataset }}'
          and files > 0
          and (_batch_at > (select max(_batch_at) from {{ this }})
               or (select max(_batch_at) from {{ this }}) is null)
        {%- endif -%}
    {%- endset %}
    select landing.*
    from {{ relation }} as landing
    inner join (
        {{ adapter.dispatch('newest_row_addresses', 'smelt')(relation, keys,
            'trade_date in (' ~ changed_days ~ ')' if is_incremental() else 'true',
            newest_by or json_field('record', '_meta.fetched_at', 'timestamp_tz')) }}
    ) as newest
        on newest.source_file = landing.source_file
        and newest.source_row = landing.source_row
    {% if is_incremental() %}where landing.trade_date in ({{ changed_days }}){% endif %}
{% endmacro %}

{#-
    newest_row_addresses(relation, keys, where, newest_by): (source_file, source_row) of the newest copy of each
    key. Newest is the largest (newest_by, loaded_at, source_file, source_row), compared in that order.
-#}
{% macro default__newest_row_addresses(relation, keys, where, newest_by) %}
        select source_file, source_row
        from {{ relation }}
        where {{ where }}
        qualify row_number() over (
            partition by {{ keys | join(', ') }}
            order by {{ newest_by }} desc,
                loaded_at desc, source_file desc, source_row desc
        ) = 1
{% endmacro %}

{#- DuckDB: a grouped arg_max over the same ordering as one struct, which spills and runs about five times
    faster than the window (2.8 M snapshot rows: 4 s against 23 s). -#}
{% macro duckdb__newest_row_addresses(relation, keys, where, newest_by) %}
        select newest.source_file, newest.source_row
        from (
            select arg_max(
                struct_pack(source_file := source_file, source_row := source_row),
                struct_pack(
                    fetched_at := {{ newest_by }},
                    loaded_at := loaded_at, source_file := source_file, source_row := source_row
                )
            ) as newest
            from {{ relation }}
            where {{ where }}
            group by {{ keys | join(', ') }}
        )
{% endmacro %}

{#-
    landing_lineage(parsed): the columns every staging model carries from its landing row: where the row came
    from (`source`: polygon or simulator) and when it was fetched and loaded, its address in the lake, and
    the build that wrote it (`_batch_at`, which the models downstream follow). `parsed`: the record's
    json_parse column, if the model has one (its structure then holds `_meta.source` and `_meta.fetched_at`).
-#}
{% macro landing_lineage(parsed=none) -%}
    {%- if parsed -%}
        {{ parsed_field(parsed, '_meta.source', 'varchar') }} as source,
        {{ parsed_field(parsed, '_meta.fetched_at', 'timestamp_tz') }} as _fetched_at,
    {%- else -%}
        {{ json_field('record', '_meta.source', 'varchar') }} as source,
        {{ json_field('record', '_meta.fetched_at', 'timestamp_tz') }} as _fetched_at,
    {%- endif %}
        loaded_at as _loaded_at,
        source_file as _source_file,
        source_row as _source_row,
        {{ batch_timestamp() }} as _batch_at
{%- endmacro %}

{#-
    flatfile_lineage(): landing_lineage() for a flat-file landing row, whose lineage is in typed columns: the
    manifest's source, the vendor object's ETag and last-modified time (the newest version wins), the load.
-#}
{% macro flatfile_lineage() -%}
        source,
        source_etag as _source_etag,
        source_last_modified as _source_last_modified,
        loaded_at as _loaded_at,
        source_file as _source_file,
        source_row as _source_row,
        {{ batch_timestamp() }} as _batch_at
{%- endmacro %}

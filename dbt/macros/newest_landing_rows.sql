{#-
    newest_landing_rows(relation, keys): the landing rows of `relation` that are the newest copy of their
    natural key (`keys`: SQL expressions), by the fetch time in `_meta`, then load time, then row address.

    In an incremental run only the trading days that received rows since the model's newest `_loaded_at`
    are read, all their copies included, so the newest copy still wins and the raw JSON of other days is
    never parsed again. Every natural key holds its landing `trade_date`, so a key never spans two days.

    The window runs over a narrow projection (keys, ordering, row address) and only the winners are joined
    back. A window over the full-width extracted rows keeps every JSON field of every copy in memory: on a
    month of 20 chains that alone exceeds a 1 GB DuckDB memory limit. (source_file, source_row) is unique
    because the ledger loads each manifest, and so each part, once.
-#}
{% macro newest_landing_rows(relation, keys) %}
    {%- set changed_days -%}
        {%- if is_incremental() -%}
        select distinct trade_date from {{ relation }}
        where loaded_at > (select max(_loaded_at) from {{ this }})
           or (select max(_loaded_at) from {{ this }}) is null
        {%- endif -%}
    {%- endset %}
    select landing.*
    from {{ relation }} as landing
    inner join (
        select source_file, source_row
        from {{ relation }}
        {% if is_incremental() %}where trade_date in ({{ changed_days }}){% endif %}
        qualify row_number() over (
            partition by {{ keys | join(', ') }}
            order by {{ json_field('record', '_meta.fetched_at', 'timestamp_tz') }} desc,
                loaded_at desc, source_file desc, source_row desc
        ) = 1
    ) as newest
        on newest.source_file = landing.source_file
        and newest.source_row = landing.source_row
    {% if is_incremental() %}where landing.trade_date in ({{ changed_days }}){% endif %}
{% endmacro %}

{#-
    landing_lineage(): the columns every staging model carries from its landing row: where the row came
    from (`source`: polygon or simulator) and when it was fetched and loaded, and its address in the lake.
-#}
{% macro landing_lineage() -%}
        {{ json_field('record', '_meta.source', 'varchar') }} as source,
        {{ json_field('record', '_meta.fetched_at', 'timestamp_tz') }} as _fetched_at,
        loaded_at as _loaded_at,
        source_file as _source_file,
        source_row as _source_row
{%- endmacro %}

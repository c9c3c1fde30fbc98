{#-
    newest_landing_rows(relation, keys): the landing rows of `relation` that are the newest copy of their
    natural key (`keys`: SQL expressions), by the fetch time in `_meta`, then load time, then row address.

    The window runs over a narrow projection (keys, ordering, row address) and only the winners are joined
    back. A window over the full-width extracted rows keeps every JSON field of every copy in memory: on a
    month of 20 chains that alone exceeds a 1 GB DuckDB memory limit. (source_file, source_row) is unique
    because the ledger loads each manifest, and so each part, once.
-#}
{% macro newest_landing_rows(relation, keys) %}
    select landing.*
    from {{ relation }} as landing
    inner join (
        select source_file, source_row
        from {{ relation }}
        qualify row_number() over (
            partition by {{ keys | join(', ') }}
            order by {{ json_field('record', '_meta.fetched_at', 'timestamp_tz') }} desc,
                loaded_at desc, source_file desc, source_row desc
        ) = 1
    ) as newest
        on newest.source_file = landing.source_file
        and newest.source_row = landing.source_row
{% endmacro %}

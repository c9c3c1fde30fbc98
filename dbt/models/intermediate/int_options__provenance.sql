{{
    config(
        unique_key=['option_ticker', 'trade_date'],
    )
}}
-- The chain of custody of every option contract-day, one row per contract and trading day: which landing row
-- the chain's prices came from (the chain snapshot, the REST range bar, else the flat file's bar: the same
-- precedence as int_polygon__option_chain_daily), its lake part and line, the request that fetched it (id,
-- path and query: never a key) and the load that landed it (the manifest, its sha256, the ledger's time); and
-- the same for the underlying's bar of the day, whose close is the spot. Published as mart_option_provenance,
-- so the dashboard shows it without reaching the raw tables (docs/architecture.md, decision 97).
-- Incremental runs take the chain rows rewritten since the last run.

with

chain as (

    select option_ticker, trade_date, underlying, data_origin, _batch_at
    from {{ ref('int_polygon__option_chain_daily') }}
    {% if is_incremental() %}
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    {% endif %}

),

option_lines as (

    select
        c.option_ticker, c.trade_date, c.underlying, c.data_origin,
        'polygon_option_snapshots' as landing_table, s.trade_date as landing_date,
        s._source_file as source_file, s._source_row as source_row, s.source, s._fetched_at as fetched_at,
        s._loaded_at as loaded_at, cast(null as varchar) as source_etag
    from chain as c
    inner join {{ ref('stg_polygon__option_snapshots') }} as s
        on s.option_ticker = c.option_ticker and s.trade_date = c.trade_date
    where c.data_origin = 'snapshot'
    union all
    select
        c.option_ticker, c.trade_date, c.underlying, c.data_origin,
        'polygon_option_bars', b._ingest_date,
        b._source_file, b._source_row, b.source, b._fetched_at, b._loaded_at, cast(null as varchar)
    from chain as c
    inner join {{ ref('stg_polygon__option_bars') }} as b
        on b.option_ticker = c.option_ticker and b.trade_date = c.trade_date
    where c.data_origin = 'aggregates'
    union all
    select
        c.option_ticker, c.trade_date, c.underlying, c.data_origin,
        'polygon_option_day_aggs', f.trade_date,
        f._source_file, f._source_row, f.source, cast(null as {{ 'timestamptz' if target.type == 'duckdb' else 'timestamp_tz' }}), f._loaded_at,
        f._source_etag
    from chain as c
    inner join {{ ref('stg_polygon__option_day_aggs') }} as f
        on f.option_ticker = c.option_ticker and f.trade_date = c.trade_date
    where c.data_origin = 'aggregates'
      and not exists (
          select 1 from {{ ref('stg_polygon__option_bars') }} as r
          where r.option_ticker = c.option_ticker and r.trade_date = c.trade_date
      )

),

stock_lines as (

    select
        s.ticker, s.trade_date, 'polygon_stock_bars' as landing_table,
        s._source_file as source_file, s._source_row as source_row
    from {{ ref('stg_polygon__stock_bars') }} as s
    where s.ticker in (select underlying from chain) and s.trade_date in (select trade_date from chain)
    union all
    select f.ticker, f.trade_date, 'polygon_stock_day_aggs', f._source_file, f._source_row
    from {{ ref('stg_polygon__stock_day_aggs') }} as f
    where f.ticker in (select underlying from chain) and f.trade_date in (select trade_date from chain)
      and not exists (
          select 1 from {{ ref('stg_polygon__stock_bars') }} as r
          where r.ticker = f.ticker and r.trade_date = f.trade_date
      )

),

with_requests as (

    select
        o.*,
        coalesce(
            {{ json_field('rs.record', '_meta.request_id', 'varchar') }},
            {{ json_field('rb.record', '_meta.request_id', 'varchar') }}
        ) as request_id,
        coalesce(
            {{ json_field('rs.record', '_meta.request', 'varchar') }},
            {{ json_field('rb.record', '_meta.request', 'varchar') }}
        ) as request,
        coalesce(
            {{ json_field('rs.record', '_meta.endpoint', 'varchar') }},
            {{ json_field('rb.record', '_meta.endpoint', 'varchar') }}
        ) as endpoint
    from option_lines as o
    left join {{ source('polygon', 'polygon_option_snapshots') }} as rs
        on o.landing_table = 'polygon_option_snapshots'
        and rs.trade_date = o.landing_date
        and rs.source_file = o.source_file
        and rs.source_row = o.source_row
    left join {{ source('polygon', 'polygon_option_bars') }} as rb
        on o.landing_table = 'polygon_option_bars'
        and rb.trade_date = o.landing_date
        and rb.source_file = o.source_file
        and rb.source_row = o.source_row

),

final as (

    select
        w.option_ticker,
        w.trade_date,
        w.underlying,
        w.data_origin,
        w.source,
        w.landing_table,
        w.source_file,
        w.source_row,
        w.request_id,
        w.request,
        w.endpoint,
        w.fetched_at,
        w.loaded_at,
        w.source_etag,
        {{ manifest_key_of('w.source_file') }} as manifest_key,
        l.sha256 as manifest_sha256,
        sl.landing_table as underlying_landing_table,
        sl.source_file as underlying_source_file,
        sl.source_row as underlying_source_row,
        {{ json_field('rsb.record', '_meta.request_id', 'varchar') }} as underlying_request_id,
        {{ json_field('rsb.record', '_meta.request', 'varchar') }} as underlying_request,
        {{ batch_timestamp() }} as _batch_at
    from with_requests as w
    left join {{ source('polygon', 'smelt_loads') }} as l
        on l.manifest_key = {{ manifest_key_of('w.source_file') }}
    left join stock_lines as sl
        on sl.ticker = w.underlying and sl.trade_date = w.trade_date
    left join {{ source('polygon', 'polygon_stock_bars') }} as rsb
        on sl.landing_table = 'polygon_stock_bars'
        and rsb.trade_date = sl.trade_date
        and rsb.source_file = sl.source_file
        and rsb.source_row = sl.source_row

)

select * from final

{#-
    One bar per ticker-day (stocks) and per contract-day (options), whichever path landed it: the REST
    aggregates (grouped daily stock bars; option range bars) or the vendor's day-aggregates flat files.

    When both landed the same day the REST bar wins: it carries the VWAP, which the flat file lacks, and its
    open, high, low, close, volume and transactions are the same consolidated-tape numbers. A flat-file bar
    fills every day and contract REST did not land (a whole-market backfill), with a null VWAP.
    (docs/architecture.md, decision 72.)
-#}

{#- stock_day_bars(): stg_polygon__stock_bars' columns, a flat-file row only where no REST bar exists. -#}
{% macro stock_day_bars() %}
    select
        ticker, trade_date, source, open, high, low, close, volume, vwap, transactions, bar_ts,
        _loaded_at, _batch_at
    from {{ ref('stg_polygon__stock_bars') }}
    union all
    select
        f.ticker, f.trade_date, f.source, f.open, f.high, f.low, f.close, f.volume,
        cast(null as double) as vwap, f.transactions, f.bar_ts, f._loaded_at, f._batch_at
    from {{ ref('stg_polygon__stock_day_aggs') }} as f
    where not exists (
        select 1 from {{ ref('stg_polygon__stock_bars') }} as r
        where r.ticker = f.ticker and r.trade_date = f.trade_date
    )
{% endmacro %}

{#- option_day_bars(): stg_polygon__option_bars' columns, a flat-file row only where no REST bar exists. -#}
{% macro option_day_bars() %}
    select
        option_ticker, trade_date, underlying, open, high, low, close, volume, vwap, transactions, bar_ts,
        source, _loaded_at, _batch_at
    from {{ ref('stg_polygon__option_bars') }}
    union all
    select
        f.option_ticker, f.trade_date, f.underlying, f.open, f.high, f.low, f.close, f.volume,
        cast(null as double) as vwap, f.transactions, f.bar_ts, f.source, f._loaded_at, f._batch_at
    from {{ ref('stg_polygon__option_day_aggs') }} as f
    where {{ in_option_universe('f.underlying') }}
      and not exists (
        select 1 from {{ ref('stg_polygon__option_bars') }} as r
        where r.option_ticker = f.option_ticker and r.trade_date = f.trade_date
    )
{% endmacro %}

{#-
    in_option_universe(root): whether a flat-file contract's OCC root belongs to the run's underlyings
    (SMELT_OPTION_ROOTS, set by the dbt runner from SMELT_UNDERLYINGS; `*` or unset: every root). The file is
    the whole market while REST and snapshot days land only the configured underlyings, so without this a
    backfill day would model every contract in the file. An adjusted contract's root carries a digit after
    its underlying's (BRKB1, AAPL2): it belongs to that underlying. Stock bars need no filter: the REST grouped
    bars are the whole market too. (docs/architecture.md, decision 110.)
-#}
{% macro in_option_universe(root) -%}
    {%- set roots = env_var('SMELT_OPTION_ROOTS', '*') | trim -%}
    {%- if roots == '*' or roots == '' -%}
        true
    {%- else -%}
        regexp_replace({{ root }}, '[0-9]+$', '') in (
            {%- for r in roots.split(',') %}'{{ r | trim | upper | replace("'", "") }}'{{ ', ' if not loop.last }}{% endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{#-
    day_aggs_fields(): the price, volume and time columns of a flat-file landing row as the staging models
    type them, the same for stocks and options (the REST bars' types: volume a double, like `v`).
-#}
{% macro day_aggs_fields() -%}
        cast(open as double) as open,
        cast(high as double) as high,
        cast(low as double) as low,
        cast(close as double) as close,
        cast(volume as double) as volume,
        cast(transactions as bigint) as transactions,
        {{ epoch_to_timestamp('window_start', 'ns') }} as bar_ts,
{%- endmacro %}

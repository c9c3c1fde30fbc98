{{
    config(
        unique_key=['underlying', 'trade_date'],
    )
}}
-- Options positioning, one row per underlying and trading day: put/call ratios by volume and by open interest
-- (NULL, not an error, when there are no calls), open interest, net gamma exposure, and the max pain of the
-- nearest expiry after the day (the day's own expiry has settled by the snapshot at the close).
-- Incremental runs rebuild the underlying-days whose strikes or max pain were rewritten since the last run.

with

strikes as (

    select * from {{ ref('int_polygon__option_strikes_daily') }}

),

max_pain as (

    select * from {{ ref('int_polygon__option_max_pain') }}

),

{% if is_incremental() %}

affected_days as (

    select underlying, trade_date from strikes
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    union
    select underlying, trade_date from max_pain
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}

),

{% endif %}

days as (

    select
        s.underlying,
        s.trade_date,
        max(s.underlying_price) as underlying_price,
        sum(s.call_volume) as call_volume,
        sum(s.put_volume) as put_volume,
        sum(s.call_open_interest) as call_open_interest,
        sum(s.put_open_interest) as put_open_interest,
        sum(s.call_gamma_exposure) as call_gamma_exposure,
        sum(s.put_gamma_exposure) as put_gamma_exposure,
        sum(s.net_gamma_exposure) as net_gamma_exposure,
        sum(s.net_volume_gamma_exposure) as net_volume_gamma_exposure,
        count(distinct s.expiration_date) as expiration_count,
        sum(s.contract_count) as contract_count,
        {{ greeks_source_of_group('s.greeks_source') }} as greeks_source,
        {{ aggregate_source('s.source') }} as source
    from strikes as s
    {% if is_incremental() %}
    inner join affected_days as a
        on a.underlying = s.underlying
        and a.trade_date = s.trade_date
    {% endif %}
    group by s.underlying, s.trade_date

),

nearest_expiry as (

    select m.*
    from max_pain as m
    {% if is_incremental() %}
    inner join affected_days as a
        on a.underlying = m.underlying
        and a.trade_date = m.trade_date
    {% endif %}
    where m.expiration_date > m.trade_date
    qualify row_number() over (partition by m.underlying, m.trade_date order by m.expiration_date) = 1

),

final as (

    select
        d.underlying,
        d.trade_date,
        d.underlying_price,
        d.call_volume,
        d.put_volume,
        coalesce(d.call_volume, 0) + coalesce(d.put_volume, 0) as total_volume,
        round({{ safe_divide('d.put_volume', 'd.call_volume') }}, 6) as put_call_volume_ratio,
        d.call_open_interest,
        d.put_open_interest,
        coalesce(d.call_open_interest, 0) + coalesce(d.put_open_interest, 0) as total_open_interest,
        round({{ safe_divide('d.put_open_interest', 'd.call_open_interest') }}, 6) as put_call_open_interest_ratio,
        round(d.call_gamma_exposure, 2) as call_gamma_exposure,
        round(d.put_gamma_exposure, 2) as put_gamma_exposure,
        round(d.net_gamma_exposure, 2) as net_gamma_exposure,
        round(d.net_volume_gamma_exposure, 2) as net_volume_gamma_exposure,
        d.expiration_count,
        d.contract_count,
        n.expiration_date as nearest_expiration_date,
        n.max_pain_strike as nearest_expiry_max_pain_strike,
        n.max_pain_distance as nearest_expiry_max_pain_distance,
        d.greeks_source,
        d.source,
        {{ batch_timestamp() }} as _batch_at
    from days as d
    left join nearest_expiry as n
        on n.underlying = d.underlying
        and n.trade_date = d.trade_date

)

select * from final

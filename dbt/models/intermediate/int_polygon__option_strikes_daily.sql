{{
    config(
        unique_key=['underlying', 'trade_date'],
    )
}}
-- One row per underlying, trading day, expiry and strike: calls and puts side by side (open interest, volume,
-- implied volatility, gamma exposure). Shared by the volatility surface, open interest by strike, max pain
-- and positioning marts.
--
-- Implied volatility and gamma are the vendor's where it gave them, else smelt's computed ones (greeks_source:
-- vendor, computed, or mixed within the strike).
--
-- Gamma exposure is the dollar change of the dealers' delta for a 1% move of the underlying, assuming
-- customers are long calls and short puts: gamma * open interest * multiplier * S^2 * 0.01, calls positive,
-- puts negative. Polygon serves no historical open interest, so a backfilled day has none: there the
-- exposure is NULL, and volume_gamma_exposure (the same formula over the day's traded volume instead of open
-- interest: the gamma that changed hands, a common proxy when open interest is stale or missing) is what a
-- history can show. It is never mixed into gamma_exposure. Incremental runs replace whole (underlying, day)
-- groups: unique_key is the group, so that a strike dropped from a re-built group cannot linger.

with

chain as (

    select * from {{ ref('int_options__option_greeks_daily') }}

),

{% if is_incremental() %}

affected_days as (

    select distinct underlying, trade_date
    from chain
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}

),

{% endif %}

contracts as (

    select
        c.*,
        c.gamma * c.open_interest * c.shares_per_contract * c.underlying_price * c.underlying_price * 0.01
            as gamma_exposure,
        c.gamma * c.volume * c.shares_per_contract * c.underlying_price * c.underlying_price * 0.01
            as volume_gamma_exposure
    from chain as c
    {% if is_incremental() %}
    inner join affected_days as a
        on a.underlying = c.underlying
        and a.trade_date = c.trade_date
    {% endif %}
    where c.contract_type in ('call', 'put')
      and c.expiration_date is not null
      and c.strike_price is not null

),

strikes as (

    select
        underlying,
        trade_date,
        expiration_date,
        strike_price,
        max(days_to_expiry) as days_to_expiry,
        max(underlying_price) as underlying_price,
        max(shares_per_contract) as contract_multiplier,
        sum(case when contract_type = 'call' then open_interest end) as call_open_interest,
        sum(case when contract_type = 'put' then open_interest end) as put_open_interest,
        sum(case when contract_type = 'call' then volume end) as call_volume,
        sum(case when contract_type = 'put' then volume end) as put_volume,
        max(case when contract_type = 'call' then implied_volatility end) as call_implied_volatility,
        max(case when contract_type = 'put' then implied_volatility end) as put_implied_volatility,
        max(case when contract_type = 'call' then option_price end) as call_price,
        max(case when contract_type = 'put' then option_price end) as put_price,
        sum(case when contract_type = 'call' then gamma_exposure end) as call_gamma_exposure,
        -sum(case when contract_type = 'put' then gamma_exposure end) as put_gamma_exposure,
        sum(case when contract_type = 'call' then volume_gamma_exposure end) as call_volume_gamma_exposure,
        -sum(case when contract_type = 'put' then volume_gamma_exposure end) as put_volume_gamma_exposure,
        count(*) as contract_count,
        {{ greeks_source_of_group('greeks_source') }} as greeks_source,
        {{ aggregate_source('source') }} as source
    from contracts
    group by underlying, trade_date, expiration_date, strike_price

),

final as (

    select
        underlying,
        trade_date,
        expiration_date,
        strike_price,
        days_to_expiry,
        underlying_price,
        contract_multiplier,
        case when strike_price > 0 then round(underlying_price / strike_price, 8) end as moneyness,
        case when strike_price > 0 and underlying_price > 0
            then round(ln(underlying_price / strike_price), 8) end as log_moneyness,
        call_open_interest,
        put_open_interest,
        call_volume,
        put_volume,
        call_implied_volatility,
        put_implied_volatility,
        call_price,
        put_price,
        round(call_gamma_exposure, 2) as call_gamma_exposure,
        round(put_gamma_exposure, 2) as put_gamma_exposure,
        -- no open interest (backfilled days: the vendor has no historical open interest), no exposure: NULL, not 0
        case when call_gamma_exposure is not null or put_gamma_exposure is not null
            then round(coalesce(call_gamma_exposure, 0) + coalesce(put_gamma_exposure, 0), 2) end
            as net_gamma_exposure,
        case when call_volume_gamma_exposure is not null or put_volume_gamma_exposure is not null
            then round(coalesce(call_volume_gamma_exposure, 0) + coalesce(put_volume_gamma_exposure, 0), 2) end
            as net_volume_gamma_exposure,
        contract_count,
        greeks_source,
        source,
        {{ batch_timestamp() }} as _batch_at
    from strikes

)

select * from final

{{ config(unique_key=['curve_date', '_ingest_date']) }}

-- One row per curve date and landing day: US Treasury par yields in percent by maturity.
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_treasury_yields'), [json_field('record', 'date', 'date'), 'trade_date']) }}

),

renamed as (

    select
        {{ json_field('record', 'date', 'date') }} as curve_date,
        {% for name in ['1_month', '3_month', '6_month', '1_year', '2_year', '3_year', '5_year', '7_year', '10_year', '20_year', '30_year'] -%}
        {{ json_field('record', 'yield_' ~ name, 'double') }} as yield_{{ name }},
        {% endfor -%}
        trade_date as _ingest_date,
        {{ landing_lineage() }}

    from source

)

select * from renamed
where curve_date is not null

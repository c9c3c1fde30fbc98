{#-
    to_exchange_date(utc_timestamp): the calendar date in the exchange's time zone (var exchange_timezone,
    America/New_York) of a UTC timestamp without time zone. Polygon stamps daily range bars at 00:00 New York
    (04:00Z or 05:00Z) and grouped daily bars at the session end (20:00Z or 21:00Z): both give the bar's day.
-#}
{% macro to_exchange_date(utc_timestamp) -%}
    {{ return(adapter.dispatch('to_exchange_date', 'smelt')(utc_timestamp)) }}
{%- endmacro %}

{% macro default__to_exchange_date(utc_timestamp) -%}
    cast(convert_timezone('UTC', '{{ var("exchange_timezone") }}', {{ utc_timestamp }}) as date)
{%- endmacro %}

{% macro duckdb__to_exchange_date(utc_timestamp) -%}
    cast(timezone('{{ var("exchange_timezone") }}', timezone('UTC', {{ utc_timestamp }})) as date)
{%- endmacro %}

{% macro snowflake__to_exchange_date(utc_timestamp) -%}
    cast(convert_timezone('UTC', '{{ var("exchange_timezone") }}', {{ utc_timestamp }}) as date)
{%- endmacro %}

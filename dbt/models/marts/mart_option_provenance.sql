-- The chain of custody of each option contract-day, one row per contract and trading day: the landing row its
-- prices came from (lake part and line), the request that fetched it (id, path and query; never a key), the
-- manifest that listed the part and its sha256 (the load ledger's), and the same for the underlying's bar
-- (the spot). The dashboard's provenance panel reads it; `smelt trace` reads the same rows and follows them
-- into the raw tables and the lake. Times are ISO 8601 UTC text (the same type on every warehouse).

select
    option_ticker,
    trade_date,
    underlying,
    data_origin,
    source,
    landing_table,
    source_file,
    cast(source_row as bigint) as source_row,
    request_id,
    request,
    endpoint,
    {{ iso_utc('fetched_at') }} as fetched_at,
    {{ iso_utc('loaded_at') }} as loaded_at,
    source_etag,
    manifest_key,
    manifest_sha256,
    underlying_landing_table,
    underlying_source_file,
    cast(underlying_source_row as bigint) as underlying_source_row,
    underlying_request_id,
    underlying_request
from {{ ref('int_options__provenance') }}

"""Schema checks: drift is a warning once, a wrong type is a clear error, a cut body is retried."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest

from tests.polygon.support import FakeApi, RecordingSleep, drain, respond, run_fake_time, sequence
from workflows.polygon import PolygonResponseError, PolygonSchemaError, parse_page
from workflows.polygon import endpoints as ep

GROUPED = "/v2/aggs/grouped/locale/us/market/stocks/{date}"
BAR = {"T": "AAPL", "o": 1.0, "h": 2.0, "l": 0.5, "c": 1.5, "v": 100, "t": 1704229200000, "vw": 1.2, "n": 7}


def grouped(body: dict[str, Any] | bytes, **options: Any) -> tuple[list[Any], FakeApi]:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    api = FakeApi(sequence(respond(200, content=content)))

    async def main() -> list[Any]:
        async with api.client(**options) as client:
            return await drain(client.grouped_daily("2024-01-02"))

    return run_fake_time(main()), api


def drift_lines(output: io.StringIO) -> list[dict[str, Any]]:
    lines = [orjson.loads(line) for line in output.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line.get("event") == "polygon.schema_drift"]


def test_unknown_fields_are_kept_and_logged_once_per_field_set(log_output: io.StringIO) -> None:
    drifted = {**BAR, "otc_flag": True}
    body = {"status": "OK", "request_id": "r1", "results": [drifted, drifted]}
    [page], _ = grouped(body)
    assert page.items == [drifted, drifted]  # verbatim, new field included
    grouped(body)  # the same drift again: no second warning
    other = {"status": "OK", "request_id": "r3", "results": [{**BAR, "halted": False}]}
    grouped(other)
    lines = drift_lines(log_output)
    assert [(line["endpoint"], line["new_fields"]) for line in lines] == [
        (GROUPED, ["otc_flag"]),
        (GROUPED, ["halted"]),
    ]
    assert lines[0]["request_id"] == "r1" and lines[0]["level"] == "warning"


def test_nested_drift_is_named_by_path(log_output: io.StringIO) -> None:
    item = {
        "details": {
            "ticker": "O:SPY240315C00500000",
            "contract_type": "call",
            "expiration_date": "2024-03-15",
            "strike_price": 500,
            "style": "x",
        },
        "greeks": {"delta": 0.5, "rho": 0.01},
    }
    content = orjson.dumps({"status": "OK", "request_id": "r", "results": [item]})
    page = parse_page(ep.OPTION_CHAIN, content, url="https://api.polygon.io/v3/snapshot/options/SPY")
    assert page.items == [item]
    [line] = drift_lines(log_output)
    assert line["new_fields"] == ["details.style", "greeks.rho"]


def test_wrong_type_on_a_required_field_names_endpoint_field_index_and_request_id() -> None:
    body = {"status": "OK", "request_id": "req-42", "results": [BAR, {**BAR, "c": "1.5"}]}
    with pytest.raises(PolygonSchemaError) as info:
        grouped(body)
    err = info.value
    assert (err.endpoint, err.field, err.item_index, err.request_id) == (GROUPED, "c", 1, "req-42")
    text = str(err)
    assert GROUPED in text and "'c'" in text and "item 1" in text and "req-42" in text


def test_a_missing_required_field_is_a_schema_error_and_not_retried() -> None:
    body = {"status": "OK", "request_id": "req-7", "results": [{k: v for k, v in BAR.items() if k != "T"}]}
    with pytest.raises(PolygonSchemaError, match="field 'T'") as info:
        grouped(body)
    assert info.value.item_index == 0


def test_the_index_counts_item_errors_too() -> None:
    missing = {"error": "NOT_FOUND", "message": "Ticker not found.", "ticker": "ZZZZ"}
    body = {"status": "OK", "request_id": "r", "results": [missing, BAR, {**BAR, "t": 1.5}]}
    with pytest.raises(PolygonSchemaError) as info:
        grouped(body)
    assert (info.value.item_index, info.value.field) == (2, "t")


def test_missing_results_means_no_rows() -> None:
    [page], _ = grouped({"status": "OK", "request_id": "holiday", "queryCount": 0, "resultsCount": 0})
    assert page.items == [] and page.item_errors == [] and page.request_id == "holiday"


def test_results_of_the_wrong_shape_is_a_schema_error() -> None:
    with pytest.raises(PolygonSchemaError, match="'results' should be an array"):
        grouped({"status": "OK", "request_id": "r", "results": {"T": "AAPL"}})


def test_a_truncated_body_is_retried_then_succeeds(sleeps: RecordingSleep) -> None:
    full = orjson.dumps({"status": "OK", "request_id": "r", "results": [BAR]})
    api = FakeApi(sequence(respond(200, content=full[:40]), respond(200, content=full)))

    async def main() -> None:
        async with api.client(sleep=sleeps) as client:
            [page] = await drain(client.grouped_daily("2024-01-02"))
            assert page.items == [BAR] and page.retries == 1

    run_fake_time(main())
    assert len(api.requests) == 2 and len(sleeps.delays) == 1


def test_a_body_that_stays_truncated_is_a_response_error() -> None:
    full = orjson.dumps({"status": "OK", "request_id": "r", "results": [BAR]})
    with pytest.raises(PolygonResponseError, match="truncated or malformed JSON") as info:
        grouped(full[:-3], max_attempts=3)
    assert info.value.attempts == 3 and info.value.endpoint == GROUPED


def test_an_html_page_with_status_200_is_a_response_error() -> None:
    with pytest.raises(PolygonResponseError, match="an HTML page"):
        grouped(b"<html><body>maintenance</body></html>", max_attempts=2)

"""Every callback of every page, called as Dash calls it, with good inputs, inputs that find no data, and bad
inputs: values of the wrong kind and SQL-injection strings. A bad value must come back as a message naming
what was wrong, never as a traceback, and must never reach the warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from dash import no_update

from dashboard import app as app_module
from dashboard.config import load_dashboard_settings
from dashboard.inputs import InputError
from dashboard.pages import PAGES, chain, common, market, positioning, quality, strategy, volatility
from dashboard.queries import Queries
from tests.dashboard.support import END, HOLIDAY, INJECTIONS, START, WRONG_KINDS, is_refused, note_text

D = END.isoformat()
BEFORE = (START - dt.timedelta(days=1)).isoformat()  # a trading day (Thursday) before the history starts
BACKFILLED = (END - dt.timedelta(days=7)).isoformat()  # a past day: its chain came from the backfill path


def expiry(q: Queries, ticker: str = "AAPL", index: int = 3) -> str:
    return str(q.expiries(ticker, END)["expiration_date"].iloc[index])[:10]


def legs(q: Queries) -> str:
    rows = q.contracts("AAPL", END, dt.date.fromisoformat(expiry(q)))
    spot = float(rows["underlying_price"].iloc[0])
    calls = rows[rows["contract_type"] == "call"]
    near = calls.iloc[(calls["strike_price"] - spot).abs().argsort()[:2]]
    first, second = sorted(near["option_ticker"])
    return f"{first}*1,{second}*-1"


@dataclass
class Chart:
    """A chart callback: its arguments after ``q`` by name (callables get ``q``), output groups, grid or not."""

    fn: Callable[..., tuple[Any, ...]]
    args: dict[str, Any]
    groups: int = 1
    grid: bool = False
    extra: int = 0  # outputs after the chart groups
    empty_day_arg: str | None = "day"
    lenient: set[str] = field(default_factory=set)  # arguments for which None or "" mean "nothing chosen yet"

    def call(self, q: Queries, **changes: Any) -> tuple[Any, ...]:
        values = {k: (v(q) if callable(v) else v) for k, v in self.args.items()}
        values.update(changes)
        return self.fn(q, *values.values())


CHARTS: dict[str, Chart] = {
    "market": Chart(market.market_chart, {"ticker": "AAPL", "day": D, "range_": "3m", "adj": "adjusted",
                                          "overlays": ["sma20", "bollinger", "move"], "theme": "dark"},
                    lenient={"overlays"}),
    "chain": Chart(chain.chain_table, {"ticker": "SPY", "day": D, "expiry": expiry, "money": "10", "theme": "light"},
                   grid=True, lenient={"expiry"}),
    "smile": Chart(volatility.smile_chart, {"ticker": "AAPL", "day": D,
                                            "expiries": lambda q: [expiry(q, index=1), expiry(q, index=4)],
                                            "theme": "light"}, lenient={"expiries"}),
    "term": Chart(volatility.term_chart, {"ticker": "AAPL", "day": D, "theme": "light"}),
    "surface": Chart(volatility.surface_chart, {"ticker": "SPY", "day": D, "view": "heatmap", "theme": "dark"}),
    "surface3d": Chart(volatility.surface_chart, {"ticker": "SPY", "day": D, "view": "3d", "theme": "light"}),
    "rv": Chart(volatility.rv_chart, {"ticker": "AAPL", "day": D, "range_": "1y", "theme": "light"}),
    "strikes": Chart(positioning.strike_charts, {"ticker": "SPY", "day": D, "expiry": "all", "metric": "oi",
                                                 "band": "20", "theme": "light"}, groups=2, lenient={"expiry"}),
    "strikes_one_expiry": Chart(positioning.strike_charts, {"ticker": "SPY", "day": D, "expiry": expiry,
                                                            "metric": "volume", "band": "10", "theme": "light"},
                                groups=2, lenient={"expiry"}),
    "history": Chart(positioning.history_charts, {"ticker": "AAPL", "day": D, "range_": "6m", "theme": "dark"},
                     groups=2),
    "pick": Chart(strategy.pick_grid, {"ticker": "AAPL", "day": D, "expiry": expiry, "theme": "light"}, grid=True,
                  lenient={"expiry"}),
    "position": Chart(strategy.position, {"ticker": "AAPL", "day": D, "legs": legs, "rate": 4.0, "theme": "light"},
                      extra=2, lenient={"legs", "rate"}),
    "quality": Chart(quality.quality_view, {"theme": "light"}, extra=6, empty_day_arg=None),
}  # fmt: skip


def note_kind(outputs: tuple[Any, ...], group: int = 0) -> str | None:
    note = outputs[group * 4 + 1]
    return getattr(note, "className", None)


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_good_inputs_draw_from_the_marts(q: Queries, name: str) -> None:
    spec = CHARTS[name]
    outputs = spec.call(q)
    for group in range(spec.groups):
        drawn, note, style, source = outputs[group * 4 : group * 4 + 4]
        assert "notice" not in (getattr(note, "className", "") or ""), note_text(outputs, group * 4 + 1)
        assert style.get("display") != "none"
        assert source == "simulator"  # the banner's cue
        if spec.grid:
            assert isinstance(drawn, list) and drawn and all(isinstance(r, dict) for r in drawn)
        else:
            assert isinstance(drawn, dict) and len(drawn["data"]) > 0


@pytest.mark.parametrize("name", sorted(n for n, s in CHARTS.items() if "day" in s.args))
def test_a_backfilled_day_draws_without_a_failure(q: Queries, name: str) -> None:
    """Past days come from the backfill path: no vendor Greeks and no open interest (Polygon keeps none), so
    every chart must draw from computed Greeks or say what is missing, never fail on the NULLs."""
    spec = CHARTS[name]
    outputs = spec.call(q, day=BACKFILLED)
    kinds = [note_kind(outputs, group) for group in range(spec.groups)]
    assert "notice notice-error" not in kinds, [note_text(outputs, g * 4 + 1) for g in range(spec.groups)]
    assert any(outputs[g * 4 + 3] == "simulator" for g in range(spec.groups))  # something was drawn


@pytest.mark.parametrize("name", sorted(n for n, s in CHARTS.items() if s.empty_day_arg))
@pytest.mark.parametrize("day", [HOLIDAY.isoformat(), BEFORE])
def test_a_day_without_data_says_so_and_how_to_get_it(q: Queries, name: str, day: str) -> None:
    spec = CHARTS[name]
    changes: dict[str, Any] = {"day": day}
    if "expiry" in spec.args:
        changes["expiry"] = None if spec.fn is not positioning.strike_charts else "all"
    if "expiries" in spec.args:
        changes["expiries"] = []
    outputs = spec.call(q, **changes)
    if name == "position":  # the legs have no quote that day
        assert "no quote on" in note_text(outputs)
        return
    assert note_kind(outputs) == "notice notice-empty"
    text = note_text(outputs)
    if day == HOLIDAY.isoformat():
        assert "not an NYSE trading day" in text
    else:
        assert f"on {day}: run smelt run --start {day} --end {day}" in text
    assert outputs[2] == {"display": "none"}
    assert outputs[3] is None


def _bad_values(spec: Chart, arg: str) -> list[Any]:
    values: list[Any] = [
        *INJECTIONS,
        *(v for v in WRONG_KINDS if not (v in (None, "") and arg in spec.lenient)),
    ]
    if arg == "rate":
        values.remove(3.5)  # a fine rate, in percent
    if arg in ("overlays", "expiries"):
        values += [[s] for s in INJECTIONS]
    return values


CASES = [(name, arg) for name, spec in sorted(CHARTS.items()) for arg in spec.args]


@pytest.mark.parametrize(("name", "arg"), CASES)
def test_bad_inputs_are_refused_before_any_sql(q: Queries, source, name: str, arg: str) -> None:  # type: ignore[no-untyped-def]
    spec = CHARTS[name]
    spec.call(q)  # warm: the lists that validation checks against are cached now
    for bad in _bad_values(spec, arg):
        before = len(source.statements)
        outputs = spec.call(q, **{arg: bad})
        assert len(outputs) == 4 * spec.groups + spec.extra
        kinds = {note_kind(outputs, g) for g in range(spec.groups)}
        if (isinstance(bad, str) and bad in INJECTIONS) or isinstance(bad, list):
            assert kinds == {"notice notice-refused"}, (arg, bad, note_text(outputs))
        else:  # the wrong kind of value: refused, or (for optional inputs) an honest empty state
            assert kinds <= {"notice notice-refused", "notice notice-empty"}, (arg, bad, note_text(outputs))
        for sql, params in source.statements[before:]:
            text = sql + repr(params)
            assert not any(s in text for s in INJECTIONS), (
                f"{name}({arg}={bad!r}) reached SQL: {sql} {params}"
            )


def test_iv_rank_on_the_first_day_of_history(q: Queries) -> None:
    """One day of history has no IV range: the chart still draws and says why there is no rank."""
    outputs = CHARTS["rv"].call(q, day=START.isoformat())
    assert note_kind(outputs) is None and outputs[3] == "simulator"
    assert "IV rank needs more history than 1 trading day(s)" in outputs[1]


def test_a_backfilled_day_shows_the_volume_proxy_for_gamma(q: Queries) -> None:
    """Polygon keeps no open interest for past days: the exposure chart says so and draws gamma x volume."""
    outputs = CHARTS["strikes"].call(q, day=BACKFILLED, metric="volume")
    gex, note = outputs[4], note_text(outputs, 5)
    assert "volume proxy" in gex["layout"]["title"]["text"] and "no open interest on" in note
    assert any(abs(y) > 0 for y in gex["data"][0]["y"])
    snapshot = CHARTS["strikes"].call(q)  # the latest session has open interest: the real exposure
    assert "net gamma exposure" in snapshot[4]["layout"]["title"]["text"]


def test_a_refusal_names_the_control_and_the_value(q: Queries) -> None:
    outputs = CHARTS["market"].call(q, ticker="AAPL'; DROP TABLE x; --")
    assert is_refused(outputs)
    assert note_text(outputs).startswith("""ticker "AAPL'; DROP TABLE x; --" is not a ticker""")
    outputs = CHARTS["chain"].call(q, money="15")
    assert note_text(outputs) == "strikes '15' is not one of: 5, 10, 20, all"
    outputs = CHARTS["chain"].call(q, expiry="2031-01-17")
    assert note_text(outputs) == f"expiry 2031-01-17 is not listed for SPY on {D}"
    outputs = CHARTS["market"].call(q, ticker="ZZZZ")
    assert note_text(outputs) == "ticker ZZZZ has no data in this warehouse"
    long = CHARTS["market"].call(q, ticker="A" * 5000)
    assert len(note_text(long)) < 120  # a pasted wall of text is not echoed back


def test_control_option_callbacks(q: Queries, source) -> None:  # type: ignore[no-untyped-def]
    options, value = common.day_choices(q, "SPY", D, "option")
    assert value == D and options[0]["value"] == D and len(options) == len(q.option_days("SPY"))
    options, value = common.day_choices(q, "SPY", HOLIDAY.isoformat(), "stock")
    assert value == D  # a day the ticker lacks falls back to its newest
    options, value = chain.expiries_for(q, "SPY", D, "30", None)
    assert options and all(int(o["label"].split("(")[1].rstrip("d)")) <= 30 for o in options)
    assert value in [o["value"] for o in options]
    kept = options[0]["value"]
    assert chain.expiries_for(q, "SPY", D, "all", kept)[1] == kept
    options, chosen = volatility.expiry_choices(q, "AAPL", D, None)
    assert 1 <= len(chosen) <= volatility.MAX_EXPIRIES
    options, value = positioning.expiry_choices(q, "AAPL", D, "all")
    assert value == "all" and options[0]["value"] == "all"
    for bad in [*INJECTIONS, *WRONG_KINDS]:
        before = len(source.statements)
        assert common.day_choices(q, bad, D, "option") == (no_update, no_update)
        assert chain.expiries_for(q, bad, D, "all", None) == ([], None)
        assert chain.expiries_for(q, "SPY", bad, "all", None) == ([], None)
        assert chain.expiries_for(q, "SPY", D, bad, None) == ([], None)
        assert volatility.expiry_choices(q, "SPY", bad, None) == ([], [])
        assert strategy.expiry_choices(q, bad, D, None) == ([], None)
        assert positioning.expiry_choices(q, "SPY", bad, "all")[1] == "all"
        for sql, params in source.statements[before:]:
            assert not any(s in sql + repr(params) for s in INJECTIONS)


def test_editing_strategy_legs(q: Queries) -> None:
    start = legs(q)
    first, second = (part.split("*")[0] for part in start.split(","))
    args = {"legs": start, "selected": [], "changed": None, "preset": "straddle", "ticker": "AAPL", "day": D,
            "expiry": expiry(q)}  # fmt: skip

    def edit(trigger: str, **changes: Any) -> str:
        values = {**args, **changes}
        return strategy.edit_legs(q, trigger, *values.values())

    assert edit("strat-buy", selected=[{"option_ticker": first}]) == f"{first}*2,{second}*-1"
    assert edit("strat-sell", selected=[{"option_ticker": second}]) == f"{first}*1,{second}*-2"
    assert edit("strat-legs-grid", changed=[{"data": {"option_ticker": second}, "value": 0}]) == f"{first}*1"
    assert edit("strat-clear") == ""
    assert edit("strat-ticker", ticker="SPY") == ""  # another underlying starts afresh
    straddle = edit("strat-add-preset", legs="")
    assert [part.split("*")[1] for part in straddle.split(",")] == ["1", "1"]
    assert {part[12] for part in straddle.split(",")} == {"C", "P"}  # a call and a put, same strike
    condor = edit("strat-add-preset", legs="", preset="condor")
    assert sorted(int(part.split("*")[1]) for part in condor.split(",")) == [-1, -1, 1, 1]
    for bad in INJECTIONS:
        with pytest.raises(InputError):
            edit("strat-buy", selected=[{"option_ticker": bad}])
        with pytest.raises(InputError):
            edit("strat-add-preset", preset=bad)
        with pytest.raises(InputError):
            edit("strat-legs-grid", changed=[{"data": {"option_ticker": first}, "value": bad}])
        with pytest.raises(InputError):
            edit("strat-clear", legs=bad)
    with pytest.raises(InputError, match="is not on AAPL"):
        edit("strat-buy", selected=[{"option_ticker": "O:SPY261218C00600000"}])


def test_position_reports_premium_breakevens_and_greeks(q: Queries) -> None:
    outputs = CHARTS["position"].call(q)
    rows, kpis = outputs[4], outputs[5]
    assert [r["quantity"] for r in rows] == [1, -1]
    labels = [item.children[0].children for item in kpis]
    assert labels[:2] == ["net premium", "breakevens"]
    assert kpis[0].children[1].children.startswith("debit ")  # a bull call spread costs money
    empty = CHARTS["position"].call(q, legs="")
    assert "no legs yet" in note_text(empty)


def test_position_defaults_to_the_days_treasury_rate(q: Queries) -> None:
    """Without an entered rate the legs are priced at the published curve's rate, not a fixed one."""
    rows = q.legs("AAPL", END, [leg.split("*")[0] for leg in legs(q).split(",")])
    published = float(rows["risk_free_rate"].iloc[0])
    kpis = {
        item.children[0].children: item.children[1].children
        for item in CHARTS["position"].call(q, rate="")[5]
    }
    assert kpis["rate at the first expiry"] == f"Treasury {published:.2%}"
    entered = {item.children[0].children: item.children[1].children for item in CHARTS["position"].call(q)[5]}
    assert entered["rate at the first expiry"] == "4.00% (entered)"
    assert (
        CHARTS["position"].call(q, rate="")[0]["data"][1]["y"]
        != CHARTS["position"].call(q)[0]["data"][1]["y"]
    )  # today


def test_routes_urls_to_pages_and_refuses_bad_parameters(q: Queries) -> None:
    page = app_module.route(q, "/chain", f"?ticker=AAPL&date={D}&money=5", None)
    text = str(page)
    assert "'AAPL'" in text and "'5'" in text
    hostile = app_module.route(q, "/market", "?ticker=" + INJECTIONS[0].replace(" ", "%20"), None)
    assert "is not a ticker" in str(hostile) and "showing SPY" in str(hostile)
    missing = app_module.route(q, "/nowhere<script>", "", None)
    assert "is not a page of this dashboard" in str(missing)
    # A query the page wrote itself does not re-render the page; browser navigation does.
    assert app_module.route(q, "/chain", "?a", "?a", frozenset({"url.search"})) is no_update
    assert app_module.route(q, "/chain", "?a", "?b", frozenset({"url.search"})) is not no_update


def test_navigation_carries_ticker_and_day(q: Queries, built_home) -> None:  # type: ignore[no-untyped-def]
    """Through the app's own callback endpoint: the test reaches the callback the browser reaches."""
    client = app_module.create_app(built_home, load_dashboard_settings(), q).server.test_client()

    def navigate(pathname: str, search: str | None) -> tuple[list[str], list[str]]:
        links = [(f"nav-{p.PREFIX}", prop) for prop in ("href", "className") for p in PAGES]
        response = client.post("/_dash-update-component", json={
            "output": ".." + "...".join(f"{i}.{prop}" for i, prop in links) + "..",
            "outputs": [{"id": i, "property": prop} for i, prop in links],
            "inputs": [{"id": "url", "property": "pathname", "value": pathname},
                       {"id": "url", "property": "search", "value": search}],
            "changedPropIds": ["url.pathname"],
        })  # fmt: skip
        assert response.status_code == 200, response.get_data(as_text=True)
        answer = response.get_json()["response"]
        return ([answer[f"nav-{p.PREFIX}"]["href"] for p in PAGES],
                [answer[f"nav-{p.PREFIX}"]["className"] for p in PAGES])  # fmt: skip

    hrefs, classes = navigate("/chain", f"?ticker=AAPL&date={D}&expiry=2026-12-18")
    assert hrefs[0] == f"/market?ticker=AAPL&date={D}"
    assert classes[1] == "nav-link active" and classes.count("nav-link active") == 1
    hrefs, classes = navigate("/x", None)
    assert hrefs[0] == "/market" and classes[0] == "nav-link active"


def test_banner_shows_while_any_shown_row_is_simulated() -> None:
    assert app_module.banner_hidden([]) is True
    assert app_module.banner_hidden(["polygon", None]) is True
    assert app_module.banner_hidden(["polygon", "simulator"]) is False

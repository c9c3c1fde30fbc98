"""The Dash application: the page shell, the router, URL state, theme, the simulated-data banner, health
routes and security. ``create_app()`` builds it from the environment; tests pass their own queries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update
from flask import Response, jsonify, request

from dashboard import state
from dashboard.config import DashboardSettings, load_dashboard_settings
from dashboard.freshness import FreshnessSla
from dashboard.layout import SOURCE_STORE, notice
from dashboard.marts import NoSnapshotError, SourceUnavailableError, open_source
from dashboard.pages import PAGES
from dashboard.pages.common import page_error
from dashboard.queries import Queries
from dashboard.security import BasicAuth, install_headers
from workflows import logs
from workflows.settings import Settings, load_settings

log = logs.get_logger("smelt.dashboard")

ASSETS = Path(__file__).parent / "assets"
HOME = PAGES[0].PATH
BANNER = (
    "Simulated data: the rows on this page come from smelt's built-in market simulator, not from Polygon. "
    "Prices, Greeks and open interest are synthetic."
)


def create_app(
    settings: Settings | None = None,
    dashboard: DashboardSettings | None = None,
    queries: Queries | None = None,
) -> Dash:
    """Build the app. Nothing here queries the marts: a worker opens the snapshot on its first request."""
    settings = settings or load_settings()
    dashboard = dashboard or load_dashboard_settings()
    q = queries or Queries.over(open_source(settings, dashboard), dashboard.cache_entries)
    q.sla = FreshnessSla.from_settings(settings)
    app = Dash(
        __name__,
        title="smelt options analytics",
        update_title=None,
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,
        compress=False,
    )
    app.layout = shell()
    _register_shell(app, q)
    for page in PAGES:
        page.register(app, q)
        _register_url_writer(app, page)
    install_headers(app.server, app.csp_hashes())
    if dashboard.auth == "basic" and dashboard.users_file is not None:
        BasicAuth(dashboard.users_file).install(app.server)
    _health_routes(app, q)
    app.server.config["SMELT_QUERIES"] = q
    return app


def shell() -> html.Div:
    nav = [
        dcc.Link(page.TITLE, href=page.PATH, id=f"nav-{page.PREFIX}", className="nav-link") for page in PAGES
    ]
    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="url-written"),
        dcc.Store(id="theme", storage_type="local", data="light"),
        html.A("Skip to content", href="#page", className="skip-link"),
        html.Header([
            html.Nav([
                html.Span("smelt", className="brand"),
                html.Div(nav, className="nav-links"),
                html.Button("Dark theme", id="theme-toggle", type="button", className="theme-toggle",
                            title="Switch between light and dark themes"),
            ], className="navbar", **{"aria-label": "pages"}),
        ]),
        html.Div(BANNER, id="sim-banner", className="sim-banner", role="alert", hidden=True),
        html.Main(id="page", className="page", tabIndex="-1"),
    ], className="app")  # fmt: skip


def route(
    q: Queries, pathname: Any, search: Any, written: Any, triggered: frozenset[str] = frozenset()
) -> Any:
    """The page for the URL; a query the page itself just wrote changes nothing (no re-render)."""
    if triggered and "url.pathname" not in triggered and search == written:
        return no_update
    page = next((p for p in PAGES if pathname == p.PATH), PAGES[0] if pathname in ("/", None, "") else None)
    if page is None:
        links = [html.Li(dcc.Link(p.TITLE, href=p.PATH)) for p in PAGES]
        return html.Div([html.H1("Page not found"), notice(f"{str(pathname)[:80]} is not a page of this dashboard."),
                         html.Ul(links)])  # fmt: skip
    try:
        return html.Div([html.H1(page.TITLE, className="page-title"), page.layout(q, state.parse(search))])
    except (NoSnapshotError, SourceUnavailableError) as exc:
        return page_error(exc)


def _register_shell(app: Dash, q: Queries) -> None:
    app.callback(
        Output("page", "children"),
        Input("url", "pathname"),
        Input("url", "search"),
        State("url-written", "data"),
    )(
        lambda pathname, search, written: route(
            q, pathname, search, written, frozenset(ctx.triggered_prop_ids)
        )
    )

    app.callback(
        [Output(f"nav-{p.PREFIX}", "href") for p in PAGES] + [Output(f"nav-{p.PREFIX}", "className") for p in PAGES],
        Input("url", "pathname"), Input("url", "search"),
    )(nav_links)  # fmt: skip

    app.callback(Output("sim-banner", "hidden"), Input({"type": SOURCE_STORE, "chart": ALL}, "data"))(
        banner_hidden
    )
    app.clientside_callback(
        ClientsideFunction("smelt", "toggleTheme"),
        Output("theme", "data"), Input("theme-toggle", "n_clicks"), State("theme", "data"), prevent_initial_call=True,
    )  # fmt: skip
    app.clientside_callback(
        ClientsideFunction("smelt", "applyTheme"), Output("theme-toggle", "children"), Input("theme", "data")
    )


def nav_links(pathname: Any, search: Any) -> list[str]:
    """Each page's link keeps the ticker and day of the current view; the current page is marked."""
    carried = state.shared(search if isinstance(search, str) else None)
    current = pathname if any(pathname == p.PATH for p in PAGES) else HOME
    hrefs = [p.PATH + carried for p in PAGES]
    classes = ["nav-link active" if current == p.PATH else "nav-link" for p in PAGES]
    return hrefs + classes


def banner_hidden(sources: list[Any]) -> bool:
    """Shown while any chart on the page drew a simulated row."""
    return "simulator" not in (sources or [])


def _register_url_writer(app: Dash, page: Any) -> None:
    keys = list(page.STATE)

    def write(*values: Any) -> tuple[str, str]:
        search = state.encode(dict(zip(keys, values, strict=True)))
        return search, search

    app.callback(
        Output("url", "search", allow_duplicate=True),
        Output("url-written", "data", allow_duplicate=True),
        [Input(component, prop) for component, prop in page.STATE.values()],
        prevent_initial_call=True,
    )(write)


class NotReady(RuntimeError):
    """A readiness check failed; the message is /readyz's reason."""


def marts_answer(q: Queries) -> dict[str, Any]:
    """Readiness: the marts answer a cheap query. No snapshot yet, or Snowflake not answering (within
    ``SMELT_DASHBOARD_SNOWFLAKE_TIMEOUT_SECONDS``), raises: the pod leaves the Service while /healthz stays up.
    Each probe makes one round trip that needs no running warehouse (see ``Queries.ready``)."""
    return {"version": q.version(), "positioning_rows": q.ready()}


def marts_on_time(q: Queries) -> dict[str, Any]:
    """The freshness SLA (dashboard/freshness.py): the newest session due is in the marts."""
    verdict = q.freshness()
    if not verdict.fresh:
        raise NotReady(verdict.message)
    return {"newest_day": str(verdict.newest), "expected_day": str(verdict.expected)}


#: What /readyz checks, in order: each returns details for the body, or raises with the reason it is not ready.
READINESS_CHECKS: tuple[Callable[[Queries], dict[str, Any]], ...] = (marts_answer,)
#: What /readyz reports without leaving the Service over it (decision 103): late marts are still worth reading,
#: and the pages say they are late. ``/readyz?strict=1`` (for uptime monitors) fails on them too.
SLA_CHECKS: tuple[Callable[[Queries], dict[str, Any]], ...] = (marts_on_time,)


def _health_routes(app: Dash, q: Queries) -> None:
    server = app.server

    @server.route("/healthz")
    def _healthz() -> Response:
        return Response("ok\n", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"})

    @server.route("/readyz")
    def _readyz() -> tuple[Response, int]:
        body: dict[str, Any] = {"ready": True}
        for check in READINESS_CHECKS:
            try:
                body.update(check(q))
            except Exception as exc:  # not ready, whatever the reason; the reason is the body
                return jsonify({"ready": False, "check": check.__name__, "reason": str(exc)[:300]}), 503
        for check in SLA_CHECKS:
            try:
                body.update(check(q))
            except Exception as exc:  # reported; a failure only where the caller asked for the SLA
                body.update({"on_time": False, "check": check.__name__, "reason": str(exc)[:300]})
                if request.args.get("strict"):
                    return jsonify(body | {"ready": False}), 503
            else:
                body["on_time"] = True
        return jsonify(body), 200

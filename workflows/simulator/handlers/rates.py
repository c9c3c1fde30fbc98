"""The rates endpoint: the Treasury par-yield curve of each session, as the vendor's /fed/v1/treasury-yields."""

from __future__ import annotations

from workflows.simulator import render
from workflows.simulator.http.context import Ctx, listed, paginate
from workflows.simulator.http.params import choice, epoch_days, page_size, parse_date, range_filter
from workflows.simulator.http.replies import Reply
from workflows.simulator.market import ordinals


def treasury_yields(ctx: Ctx) -> Reply:
    """The simulated par-yield curve of each session up to the request's day, newest first by default."""
    p = ctx.params
    limit = page_size(p, 100, 50000)
    order = choice(p, "order", ("desc", "asc"))
    ctx.pin(_now=ctx.day.isoformat())
    m = ctx.sim.market
    days = ordinals(m.sessions)
    mask = days <= epoch_days(ctx.day)
    mask &= range_filter(p, "date", days, lambda v: epoch_days(parse_date(v, "date")))
    chosen = days[mask]
    if order == "desc":
        chosen = chosen[::-1]
    window, next_url = paginate(ctx, len(chosen), limit)
    page = chosen[window]
    return listed(ctx, render.treasury_yields(page, ctx.sim.options.carry.curve(page)), next_url)

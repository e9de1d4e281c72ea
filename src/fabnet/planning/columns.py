"""Steps 2-4 of flow.py: the restricted network seeded, solved and priced (column
generation) until nothing prices out, the bound is close, the LP tails off or ``stop``
says the time is spent: the restricted LP's optimum and the best bound found."""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from fabnet.planning.arcs import Arcs, Floats, Solution, Stop
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.knapsack import worth_seeking
from fabnet.planning.network import FlowSolver, Ints, Network
from fabnet.planning.pricing import day_prices, price_out
from fabnet.planning.seeds import candidates, room_candidates
from fabnet.planning.time_model import TimeModel

log = logging.getLogger(__name__)

# pricing.SCALES cost a pricing pass a few per cent more (medium, round 1: 3.5 s against
# 3.4 s): not once the bound is within this share of the restricted LP
SHARES_UNTIL = 0.01
# once ``stop`` ends the rounds, the network solved last is still priced, for the bound
# alone, where the round before's search took at most this share of the time so far
# (large: 16 s for 1,639.6M against round 4's 1,615.0M; its first search took 131 s)
LAST_SEARCH_SHARE = 0.1


def solve_model(
    model: TimeModel,
    solver: FlowSolver,
    stop: Stop,
    *,
    warm: tuple[Ints, Ints] | None = None,
    start: Arcs | None = None,
    bound_sought: bool = True,
) -> Solution:
    """The restricted network, priced until nothing prices out or the bound is close.
    ``bound_sought=False``: no search for the bound alone (by worth, the knapsack's
    prices); with ``pricing`` off, one network solved and not priced at all (the
    solution's bound is then -inf and it has no prices)."""
    opts = model.options
    arcs = _first_arcs(model, warm) if start is None else start
    cost = model.unit_cost(arcs)
    keep = cost < model.d.unmet[arcs.a]  # an arc dearer than leaving the unit is never used
    arcs, cost = arcs.take(keep), cost[keep]
    bound = -math.inf
    rounds = 0
    history: list[float] = []  # the restricted LP of each round
    started, search_s = time.perf_counter(), math.inf
    while True:
        rounds += 1
        t0 = time.perf_counter()
        net = model.network(arcs, cost)
        result = net.solve(solver)
        prices: Floats | None = None  # of the last network solved, once worked out
        lp = model.flow_cost(arcs, cost, result.flows, net)
        net_s = time.perf_counter() - t0
        # the bound at shares of the prices too, until it is within SHARES_UNTIL of the LP
        # (then the prices' own is the best: medium, round 3)
        shares = not (lp > 0 and lp - bound <= SHARES_UNTIL * lp)
        if stop() and rounds > 1:
            if search_s <= LAST_SEARCH_SHARE * (time.perf_counter() - started):
                prices = day_prices(model, net, result.flows)
                bound = max(bound, _priced_once(model, prices, arcs, cost, shares))
            log.info("round %d: time is up; restricted LP %.0f, bound %.0f", rounds, lp, bound)
            break
        history.append(lp)
        if not (opts.pricing or bound_sought):
            break
        if tailed_off(history, opts):
            log.debug("flow round %d: the LP tails off, pricing stops", rounds)
            break
        prices = day_prices(model, net, result.flows)
        new, bound, search_s = _priced(model, (arcs, cost, prices), rounds, shares, bound, stop)
        _said(opts, rounds, len(arcs), (lp, bound, net_s, search_s))
        close = lp > 0 and (lp - bound) <= 0.25 * opts.gap_tolerance * lp
        if not opts.pricing or not len(new) or close or rounds >= opts.max_rounds or stop():
            break
        arcs = arcs.plus(new)
        cost = np.concatenate([cost, model.unit_cost(new)])
        # the network solved, its flows and the arcs just added (now in ``arcs``) are not
        # needed again: let them go before the next network is built and solved
        del net, result, new
    last = (net, result.flows, prices)
    prices, bound = _after_rounds(model, last, arcs, cost, bound, stop, bound_sought)
    # copies: the network and its flows are let go
    made = (net.arc_flows(result.flows).copy(), net.unmet_flows(result.flows).copy())
    return Solution(arcs, made[0], made[1], prices, lp, bound, rounds)


def _priced(
    model: TimeModel,
    network: tuple[Arcs, Floats, Floats],
    rounds: int,
    shares: bool,
    bound: float,
    stop: Stop,
) -> tuple[Arcs, float, float]:
    """One pricing round over the restricted ``network`` (its arcs, their unit costs, its
    day prices): the arcs that price out, the better of ``bound`` and the round's, and the
    seconds of its first search (the one a round after ``stop`` would repeat)."""
    arcs, cost, prices = network
    exact = rounds >= model.options.max_rounds
    t0 = time.perf_counter()
    new, found = price_out(model, arcs, cost, prices, exact=exact, shares=shares)
    search_s = time.perf_counter() - t0
    if math.isnan(found) and not len(new) and not stop():
        # nothing near has time: search every capable machine, for the bound
        new, found = price_out(model, arcs, cost, prices, exact=True, shares=shares)
    return new, bound if math.isnan(found) else max(bound, found), search_s


def _said(opts: FlowOptions, rounds: int, n_arcs: int, figures: tuple[float, ...]) -> None:
    """A pricing round in one line: its arcs, restricted LP, bound and seconds."""
    lp, bound, net_s, search_s = figures
    log.log(
        logging.INFO if opts.pricing else logging.DEBUG,  # unpriced: a search's candidate
        "round %d: %d arcs, restricted LP %.0f, bound %.0f, network %.1f s, search %.1f s",
        rounds,
        n_arcs,
        lp,
        bound,
        net_s,
        search_s,
    )


def _after_rounds(
    model: TimeModel,
    last: tuple[Network, Ints, Floats | None],
    arcs: Arcs,
    cost: Floats,
    bound: float,
    stop: Stop,
    bound_sought: bool,
) -> tuple[Floats | None, float]:
    """The prices of the ``last`` network solved (its flows, its prices if worked out) and
    the bound once the rounds are over: the bound by worth added where it is sought."""
    net, flows, prices = last
    opts = model.options
    by_worth = bound_sought and opts.whole_unit_arcs and opts.pricing and not stop()
    knapsack = bound_sought and opts.knapsack_s > 0 and worth_seeking(model)
    if prices is None and (by_worth or knapsack):
        # the loop stopped before pricing its last network: priced where the prices may
        # be used (at large the potentials of 8.4M arcs are not worked out for nothing)
        prices = day_prices(model, net, flows)
    if by_worth and prices is not None:
        # pricing stopped when no arc was cheaper than a demand's cheapest one; the bound
        # counts every arc below what a unit is worth (a search as wide as a round's)
        _, worth_bound = price_out(model, arcs, cost, prices, exact=True, by_worth=True)
        bound = max(bound, worth_bound)
    return prices, bound


def _first_arcs(model: TimeModel, warm: tuple[Ints, Ints] | None) -> Arcs:
    """The first network's arcs: each demand's nearest ``k`` machines (or machines with
    room, ``room_seed``) and the ``warm`` pairs, each pair's first usable day (every
    usable day where seeded by room, unpriced, or warm)."""
    opts = model.options
    pa, pm = (room_candidates if opts.room_seed else candidates)(model, opts.k)
    warmed = warm is not None and warm[0].size > 0
    if warm is not None and warmed:
        pa, pm = np.concatenate([pa, warm[0]]), np.concatenate([pm, warm[1]])
    arcs = model.arcs_of_pairs(pa, pm, every_day=opts.room_seed or not opts.pricing)
    if warm is not None and warmed:
        arcs = arcs.plus(model.arcs_of_pairs(warm[0], warm[1], every_day=True))
    return model.dedupe(arcs)


def _priced_once(model: TimeModel, prices: Floats, arcs: Arcs, cost: Floats, shares: bool) -> float:
    """The bound at the prices of a network solved when ``stop`` ended the rounds: one
    search, no arc added (-inf where it gives none)."""
    _, bound = price_out(model, arcs, cost, prices, shares=shares)
    return -math.inf if math.isnan(bound) else bound


def tailed_off(history: list[float], opts: FlowOptions) -> bool:
    """True when the last ``tail_rounds`` rounds lowered the LP by at most ``tail_off`` of
    it (or of ``tail_off_of`` where that is larger) in all."""
    n = opts.tail_rounds
    if opts.tail_off <= 0 or len(history) <= n:
        return False
    scale = max(abs(history[-1]), opts.tail_off_of)
    return history[-1 - n] - history[-1] <= opts.tail_off * scale

"""The flow planner's options (flow.py): how wide the first network, how far pricing
goes, how whole units are found, when a plan is certified."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fabnet.domain.errors import InvalidInput


@dataclass(frozen=True)
class FlowOptions:
    k: int = 8  # first candidates per demand
    margin: float = 3.0  # widen until candidates have margin x the demand's machine time
    widen: bool = True
    # first candidates with room: demand after demand (earliest last day first), the
    # nearest machines whose time left by the pair's last usable day covers ``margin`` times
    # the demand's, each demand's time taken off them before the next looks (a re-plan,
    # where the machines nearest a displaced line are mostly full); every usable day of
    # these pairs is an arc; a whole plan too beyond ``room_seed_pairs`` lines x machines
    # (large: 5 pricing rounds in 600 s instead of 3, a gap of 2.7% instead of 27%).
    # Off: the nearest machines, each demand on its own
    room_seed: bool = False
    # ``margin`` of a whole plan seeded by room (beyond ``room_seed_pairs``: ``solve``; a
    # re-plan keeps ``margin``) ...
    room_margin: float = 12.0
    # ... and each pricing round's new arcs per demand there (``max_new_per_demand``
    # elsewhere): at that size a network's time hardly grows with its arcs (large: 2.5M
    # arcs 105 s, 4.8M 111 s), so fewer, fuller rounds pay. Large, the LP phase's 600 s
    # (lab, two at once), 4 rounds each, the restricted LP and the bound apart: margin 6
    # and 32 arcs 1.19%, 12 and 64 0.46%, 20 and 64 0.14%, 6 and 128 0.13%, 12 and 128
    # 0.033% (8.4M arcs in the last network)
    room_new_per_demand: int = 128
    aggregate: bool = True  # merge identical demand
    pricing: bool = True  # price out every capable machine (certify optimality)
    max_rounds: int = 30
    # stop when the restricted LP fell by at most this share over the last `tail_rounds`
    # rounds (the tailing-off of column generation; 0: never): the plan keeps the bound
    # of the rounds that gave one and is certified only when that bound is close
    tail_off: float = 0.0
    tail_rounds: int = 3
    # ... a share of this objective where it is larger than the LP's: a re-plan measures
    # its tailing-off against the whole plan it keeps, whose gap it reports
    tail_off_of: float = 0.0
    max_new_per_demand: int = 32
    # ... or more where demands are few (a re-plan's displaced lines): about this many
    # new arcs a round in all
    new_arcs_per_round: int = 300_000
    # a round whose demands priced near their unmet cost would search more (demand,
    # machine) pairs than this offers them their nearest machines with time instead
    pricing_pairs: int = 20_000_000
    gap_tolerance: float = 1e-3  # certified when (objective - bound) / objective <= this
    # seed the first candidates with a greedy plan's pairs too (at most ``room_seed_pairs``
    # lines x machines). Off by default (ADR 0028): a network seeded by greedy reaches the
    # LP in fewer rounds with fewer arcs, and whole units have less to choose from; without
    # it, of 18 benchmark and OKW problems six of the eight uncertified got a cheaper plan
    # (small seed 1 0.133% -> 0.097%, seed 5 1.14% -> 0.94%, the OKW 400-line ones 1.28% ->
    # 1.04% and 2.27% -> 2.10%; medium and tiny seed 2 about the same), the certified ones
    # stayed so
    warm_start: bool = False
    # beyond this many lines x machines the first candidates are machines with room
    # (``room_seed``), and greedy is never run: it scans machine after machine in Python,
    # minutes at 100,000 lines x 10,000 machines, longer than pricing saves
    room_seed_pairs: int = 20_000_000
    # whole units: each class of one print time planned again on the time the others leave, kept
    # where cheaper (``rounding.sweep_classes``)
    sweep_classes: bool = True
    # whole units by HiGHS's MIP over the priced arcs when rounding misses the tolerance
    # and the arcs are this few (rounding alone above it)
    polish_max_arcs: int = 5_000
    polish_time_s: float = 2.0
    # then at most this many seconds re-planning neighbourhoods of a few machines by
    # HiGHS's MIP (neighbourhood.py; 0: never): those nearest each line rounding left
    # units of unmet, then those where the LP and the plan differ most for the lines whose
    # units cost most above the LP's, until the plan is within the tolerance
    neighbourhood_s: float = 60.0
    # ... their MIPs in this many worker processes at once where they would take long
    # enough (None: the CPUs this process may use, at most 4; 1: in this process)
    neighbourhood_workers: int | None = None
    # ... the second kind (lines above the LP) too: off, only lines rounding left short
    above_lp_lines: bool = True
    # each arc carries at most the whole units its machine can make by its day (a bound
    # every plan keeps: time in pieces smaller than a unit is no room). A re-plan's room
    # is such pieces between the kept work: without it the LP made units of them that no
    # plan can (large: 895 units the LP placed, 2,890 unmet once whole, 170 s; with it
    # 2,001 unmet, 72 s). Pricing then stops when no arc is cheaper than a demand's
    # cheapest one (a full arc may be), and the bound is counted once more at the end
    # with every arc below what a unit is worth under the last prices, each at its cap
    whole_unit_arcs: bool = False
    # where the plan is not certified against the LP bound: at most this many seconds on
    # the knapsack bound (knapsack.py: whole units on each machine, never below the LP
    # bound; 0: never): its first pass at most a quarter of the time the plan took until
    # then (at least 1 s), better prices (where that pass was quick) at most as long as
    # the plan took (at least 2 s)
    knapsack_s: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.neighbourhood_s) and self.neighbourhood_s >= 0):
            raise InvalidInput("neighbourhood_s", "must be a finite number of seconds >= 0")
        if not (math.isfinite(self.tail_off) and self.tail_off >= 0):
            raise InvalidInput("tail_off", "must be a finite share >= 0 (0: never stop early)")
        if not (math.isfinite(self.tail_off_of) and self.tail_off_of >= 0):
            raise InvalidInput("tail_off_of", "must be a finite objective >= 0 (0: the LP's own)")
        if self.neighbourhood_workers is not None and self.neighbourhood_workers < 1:
            raise InvalidInput("neighbourhood_workers", "must be at least 1 (or None: the CPUs)")
        if not (math.isfinite(self.room_margin) and self.room_margin > 0):
            raise InvalidInput("room_margin", "must be a finite share > 0")
        if not (math.isfinite(self.knapsack_s) and self.knapsack_s >= 0):
            raise InvalidInput("knapsack_s", "must be a finite number of seconds >= 0")
        if self.max_new_per_demand < 1 or self.room_new_per_demand < 1:
            field = "max_new_per_demand" if self.max_new_per_demand < 1 else "room_new_per_demand"
            raise InvalidInput(field, "must be at least 1 arc a round")
        if self.tail_rounds < 1:
            raise InvalidInput("tail_rounds", "must be at least 1")

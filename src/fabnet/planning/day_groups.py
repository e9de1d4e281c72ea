"""Lines due by the same day, in groups small enough for one MIP each: the neighbourhoods
(neighbourhood.py) that move every unit of a day's lines over every machine at once."""

from __future__ import annotations

import numpy as np

from fabnet.planning.arcs import Arcs, Floats
from fabnet.planning.network import Ints
from fabnet.planning.time_model import TimeModel

# each group has at most this many of the LP's arcs (the lines of a day the dearest
# first, in as many groups as that takes; a line with more is left out, so that no MIP
# grows with a line's arcs)
DAY_ARCS = 6_000


def lines_by_day(model: TimeModel, excess: Floats, lp_arcs: Arcs, dear: Ints) -> list[Ints]:
    """The lines due by each day that holds a line of ``dear`` (the dearest such days
    first, by the excess of their dear lines): all of that day's lines, the dearest first,
    in groups of at most ``DAY_ARCS`` of the LP's arcs (a line with more is in none; the
    dear lines' neighbourhoods still take it).

    Rounding and the neighbourhoods of a few machines each leave a line that the LP split
    over many machines short: each of them ends its day with a piece of time too small
    for the line's part, which a shorter part due the same day could have used. Only the
    lines competing for the same days, moved together over every machine, make room
    (the OKW sample's facilities, 200 lines, every machine on probation: 36 units unmade
    after rounding; 14 after the neighbourhoods of a few machines, 27% above the bound;
    none with the lines by day, 2.2%)."""
    if dear.size == 0:
        return []
    d = model.d
    per_line = np.bincount(lp_arcs.a, minlength=d.quantity.size)
    worth = np.bincount(d.lo[dear], weights=excess[dear], minlength=d.lo.max() + 1)
    out: list[Ints] = []
    for day in np.argsort(-worth, kind="stable")[: np.count_nonzero(worth > 0)].tolist():
        lines = np.flatnonzero(d.lo == day)
        lines = lines[np.argsort(-excess[lines], kind="stable")]
        ends = np.cumsum(per_line[lines])
        while lines.size:
            take = int(np.searchsorted(ends, DAY_ARCS, side="right"))
            if take:
                out.append(np.sort(lines[:take]))
            take = max(take, 1)  # a line with more arcs than a group may hold: left out
            lines, ends = lines[take:], ends[take:] - ends[take - 1]
    return out

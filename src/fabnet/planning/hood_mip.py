"""The MIP of one neighbourhood (neighbourhood.py), run in this process or a worker's:
HiGHS through SciPy over the neighbourhood's arcs, each line's units made or unmet, each
machine's work within the time the rest of the plan leaves it by each day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fabnet.planning.arcs import Arcs, Floats, job_room
from fabnet.planning.network import Ints
from fabnet.planning.time_model import TimeModel


@dataclass(frozen=True)
class Sizes:
    """What a neighbourhood's MIP needs of the model, all a worker process is given
    (the model itself is 33 MB pickled at the large benchmark size)."""

    ticks: Ints  # a unit's ticks, per demand
    unmet: Floats  # a unit's unmet cost, per demand
    job_cap: Ints  # a machine on probation's job size (0: none)
    held: tuple[Ints, Ints]  # what lines already hold of their jobs (TimeModel.job_room)
    horizon: int

    @staticmethod
    def of(model: TimeModel) -> Sizes:
        held = (model.held_keys, model.held_units)
        return Sizes(model.d.ticks, model.d.unmet, model.job_cap, held, model.horizon)


def solve_hood(
    shared: Sizes,
    arcs: Arcs,
    cost: Floats,
    lines: Ints,
    target: Ints,
    near: Ints,
    room: Ints,
    time_s: float,
) -> tuple[Ints, Ints] | None:
    """HiGHS's MIP over ``arcs``: each line's ``target`` units made or unmet, on each
    machine of ``near`` (increasing) the work due by each day within ``room`` (its row of
    cumulative ticks). Whole units per arc and unmet units per line, or None."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    from fabnet.planning.quiet import stdout_to_stderr

    horizon = shared.horizon
    n_x, n_l = len(arcs), lines.size
    if n_x == 0:
        return None
    n = n_x + n_l
    line_pos = np.searchsorted(lines, arcs.a)
    job = job_room(shared.job_cap, shared.held, arcs.a, arcs.m)
    most = np.where(shared.job_cap[arcs.m] > 0, np.minimum(job, target[line_pos]), target[line_pos])
    upper = np.concatenate([most, target]).astype(np.float64)
    c = np.concatenate([cost, shared.unmet[lines]])
    eq = coo_matrix(
        (np.ones(n), (np.concatenate([line_pos, np.arange(n_l)]), np.arange(n))), shape=(n_l, n)
    )
    # on machine j by day k: the work of the arcs of j due by day k
    span = horizon - arcs.d + 1
    rep = np.repeat(np.arange(n_x), span)
    day = arcs.d[rep] + np.arange(rep.size) - np.repeat(np.cumsum(span) - span, span)
    by_day = coo_matrix(
        (
            shared.ticks[arcs.a[rep]].astype(np.float64),
            (np.searchsorted(near, arcs.m[rep]) * horizon + day - 1, rep),
        ),
        shape=(near.size * horizon, n),
    )
    wanted = target.astype(np.float64)
    with stdout_to_stderr():
        result = milp(
            c,
            constraints=[
                LinearConstraint(eq.tocsr(), wanted, wanted),
                LinearConstraint(by_day.tocsr(), -np.inf, room.ravel().astype(np.float64)),
            ],
            integrality=np.ones(n),
            bounds=Bounds(0, upper),
            options={"time_limit": time_s, "mip_rel_gap": 1e-3},
        )
    if result.x is None:
        return None
    x = np.rint(result.x).astype(np.int64)
    units, unmet = x[:n_x], x[n_x:]
    made = np.bincount(line_pos, weights=units, minlength=n_l).astype(np.int64)
    if (made + unmet != target).any() or (units < 0).any() or (unmet < 0).any():
        return None
    return units, unmet

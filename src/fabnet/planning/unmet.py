"""Why units of a line could not be placed: the reason reported with unmet demand."""

from __future__ import annotations

from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, deadline_day


def why_unmet(problem: Problem, demand: Demand) -> str:
    same_process = [s for s in problem.supplies if s.process is demand.process]
    if not same_process:
        return f"no available machine does {demand.process.value}"
    with_material = [s for s in same_process if demand.material in s.materials]
    if not with_material:
        return f"no available {demand.process.value} machine works {demand.material}"
    fitting = [s for s in with_material if demand.size.fits_in(s.build_volume)]
    if not fitting:
        return "the part fits in no available machine's build volume"
    capable = [s for s in fitting if s.machine_id not in demand.excluded_machines]
    if not capable:
        return "every capable machine has declined or failed this line"
    costs = problem.costs
    if costs.transit:
        nearest = min(capable, key=lambda s: s.place.distance_km(demand.destination))
        km = nearest.place.distance_km(demand.destination)
        transit = costs.transit_days(km)
        horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
        last = min(horizon, deadline_day(demand.due_s) - (transit or 0) + costs.late_window_days)
        if transit is None:
            return (
                f"no capable machine can reach the destination: the nearest is {km:,.0f} km "
                f"away, beyond the farthest transit band ({costs.transit[-1][0]:,.0f} km)"
            )
        if last < 1:
            return (
                f"no capable machine can deliver in time: the nearest is {km:,.0f} km away, "
                f"{transit} days in transit, and the line is due on day "
                f"{deadline_day(demand.due_s)} with {costs.late_window_days} days' grace"
            )
    return "not enough machine capacity within the planning horizon"

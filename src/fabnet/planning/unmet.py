"""Why units of a line could not be placed: the reason reported with unmet demand."""

from __future__ import annotations

from fabnet.planning.problem import Demand, Problem


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
    if all(s.machine_id in demand.excluded_machines for s in fitting):
        return "every capable machine has declined or failed this line"
    return "not enough machine capacity within the planning horizon"

"""Pure planning: ``Problem -> solve(problem, stop=..., seed=...) -> Plan``.

No framework, no store: the services build a :class:`Problem` from the world as it is,
call a solver, and turn the :class:`Plan` into job offers.
"""

from fabnet.planning.plan import Assignment, Plan, Unmet
from fabnet.planning.problem import Demand, Problem, Supply
from fabnet.planning.solve import solve

__all__ = ["Assignment", "Demand", "Plan", "Problem", "Supply", "Unmet", "solve"]

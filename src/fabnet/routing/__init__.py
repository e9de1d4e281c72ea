"""Routing: how parts travel from the makers to the people who need them.

Pure: the modes of transport with their sourced emission factors (modes.py), the vehicle
routing problem with time windows and its solver port (instance.py), a reader of VRPLIB
files (vrplib.py) and a checker that recomputes a solution's cost and feasibility from the
instance alone. The solver behind the port is PyVRP (adapters/solvers/pyvrp_routing.py).
"""

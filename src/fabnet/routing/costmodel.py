"""The logistics cost model the production planner prices transport with: money per kg
and per kg-km by distance band, from the modes and from routing runs.

- Within a hub's reach (``local_radius_km``) parcels travel on couriers' consolidated
  routes. What a kg-km costs there is measured, not assumed: a routing run's cost (km
  and stops at the mode's prices) over the kg-km it moved (each parcel's mass times its
  distance from the hub): ``courier_rate``. The default in LogisticsPolicy is the one
  measured by benchmarks/routing.py (RESULTS.md), and a hub can measure its own.
- Farther, the parcel carrier: its price per parcel and per km, shared by mass over a
  full parcel (its capacity), as the carrier's tonne-km emission factor is.

Shares are by mass because that is how a route's cost and CO2 are shared among its
parcels (routing/hub_routes.py: tonne-km allocation).
"""

from __future__ import annotations

from collections.abc import Sequence

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Place
from fabnet.routing.deliveries import DeliveryReport, Parcel
from fabnet.routing.policy import CARRIER_MODE, LogisticsPolicy

Band = tuple[float, float, float]  # up to km, money per kg, money per kg-km


def courier_rate(report: DeliveryReport, parcels: Sequence[Parcel], hub: Place) -> float:
    """Money per kg-km of a routing run: its cost over the kg-km it moved."""
    kg_km = sum(p.mass_g / 1000 * hub.distance_km(p.place) for p in parcels)
    if kg_km <= 0:
        raise InvalidInput("parcels", "a calibration run needs parcels away from the hub")
    return report.cost / kg_km


def transport_bands(policy: LogisticsPolicy) -> tuple[Band, ...]:
    """The planner's transport bands: the courier band, then the carrier to the farthest
    transit band."""
    carrier = policy.mode(CARRIER_MODE)
    farthest = max((km for km, _ in policy.transit), default=20_040.0)
    bands: list[Band] = [(policy.local_radius_km, 0.0, policy.courier_cost_per_kg_km)]
    if farthest > policy.local_radius_km:
        bands.append(
            (
                farthest,
                carrier.cost_per_stop / carrier.capacity_kg,
                policy.carrier_cost_per_kg_km
                if policy.carrier_cost_per_kg_km is not None
                else policy.courier_cost_per_kg_km,
            )
        )
    return tuple(bands)

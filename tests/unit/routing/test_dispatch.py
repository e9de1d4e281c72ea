"""A routing wave: mode choice per parcel (courier through a hub, drone, parcel carrier),
the airspace's no-fly and weather areas, reasons for what waits, routes within each
courier's capacity and shift; PyVRP's routes against nearest neighbour on the same wave."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.adapters.solvers.pyvrp_routing import PyVrpSolver
from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Place
from fabnet.routing.airspace import Airspace
from fabnet.routing.dispatch import choose, plan_wave
from fabnet.routing.modes import DRONE, MODES, VAN
from fabnet.routing.nearest import NearestNeighbour
from fabnet.routing.policy import LogisticsPolicy, Weights
from fabnet.routing.wave import Courier, Waiting

NOW = datetime(2026, 12, 3, 8, tzinfo=UTC)
HUB = Place(52.52, 13.405)  # Berlin
NEAR = Place(52.55, 13.45)


def box(lat0: float, lon0: float, lat1: float, lon1: float) -> list[list[float]]:
    return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]


def airspace(*features: dict) -> Airspace:
    return Airspace.from_geojson({"type": "FeatureCollection", "features": list(features)})


def area(kind: str, name: str, rings: list, **props: object) -> dict:
    return {
        "type": "Feature",
        "properties": {"kind": kind, "name": name, **props},
        "geometry": {"type": "Polygon", "coordinates": rings},
    }


def parcel(pid: str, origin: Place, dest: Place, *, mass_g: int = 500, days: float = 2) -> Waiting:
    return Waiting(pid, origin, dest, mass_g, 2000, NOW + timedelta(days=days))


def test_a_point_in_a_hole_is_outside_and_a_flight_across_an_area_is_caught():
    ring = box(52.0, 13.0, 53.0, 14.0)
    hole = box(52.4, 13.3, 52.6, 13.5)
    space = airspace(area("no_fly", "airport", [ring, hole]))
    (a,) = space.areas
    assert a.contains(Place(52.2, 13.1)) and not a.contains(Place(52.5, 13.4))
    small = airspace(area("no_fly", "tegel", [box(52.54, 13.40, 52.56, 13.42)]))
    assert "tegel" in small.why_not([Place(52.55, 13.30), Place(52.55, 13.50)])
    assert small.why_not([Place(52.50, 13.30), Place(52.50, 13.50)]) == ""


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"type": "Feature"}, "airspace"),
        ({"type": "FeatureCollection", "features": [{"type": "Feature"}]}, "kind"),
        (
            {
                "type": "FeatureCollection",
                "features": [area("no_fly", "x", [[[0, 0], [1, 0], [0, 0]]])],
            },
            "coordinates[0]",
        ),
        (
            {"type": "FeatureCollection", "features": [area("no_fly", "x", [box(0, 0, 1, 200)])]},
            "coordinates[0]",
        ),
        (
            {"type": "FeatureCollection", "features": [area("weather", "", [box(0, 0, 1, 1)])]},
            "name",
        ),
    ],
)
def test_bad_airspace_names_the_field(doc, field):
    with pytest.raises(InvalidInput) as err:
        Airspace.from_geojson(doc)
    assert field in err.value.field


def test_a_light_parcel_in_range_flies_unless_the_airspace_says_no():
    drone = Courier("cou_d", DRONE, HUB)
    p = parcel("p", Place(52.53, 13.42), Place(52.54, 13.44), mass_g=400)
    policy = LogisticsPolicy(weights=Weights(value_of_time_per_h=2000))
    pick = choose(p, now=NOW, hubs={}, drones=[drone], policy=policy)
    assert not isinstance(pick, str) and pick.kind == "drone"
    no_fly = LogisticsPolicy(
        weights=policy.weights,
        airspace=airspace(area("no_fly", "zoo", [box(52.525, 13.40, 52.545, 13.46)])),
    )
    pick = choose(p, now=NOW, hubs={}, drones=[drone], policy=no_fly)
    assert not isinstance(pick, str) and pick.kind == "carrier"
    grounded = LogisticsPolicy(
        weights=policy.weights,
        airspace=airspace(area("weather", "berlin", [box(52.3, 13.0, 52.7, 13.8)], flyable=False)),
    )
    wave = plan_wave([p], [drone], now=NOW, policy=grounded, solver=NearestNeighbour())
    assert wave.legs["p"].mode == "parcel_carrier"
    flyable = LogisticsPolicy(
        weights=policy.weights, airspace=grounded.airspace.with_weather("berlin", True)
    )
    wave = plan_wave([p], [drone], now=NOW, policy=flyable, solver=NearestNeighbour())
    assert wave.legs["p"].mode == "drone" and wave.legs["p"].courier_id == "cou_d"


def test_beyond_range_or_payload_a_drone_is_not_asked():
    drone = Courier("cou_d", DRONE, HUB)
    far = parcel("far", Place(52.60, 13.40), Place(52.40, 13.40))  # 22 km apart
    heavy = parcel("heavy", NEAR, Place(52.53, 13.41), mass_g=5000)
    wave = plan_wave(
        [far, heavy], [drone], now=NOW, policy=LogisticsPolicy(), solver=NearestNeighbour()
    )
    assert {leg.mode for leg in wave.legs.values()} == {"parcel_carrier"}


def test_a_parcel_heavier_than_any_vehicle_waits_with_the_reason():
    p = parcel("huge", NEAR, HUB, mass_g=2_000_000)
    wave = plan_wave(
        [p],
        [Courier("cou_v", VAN, HUB)],
        now=NOW,
        policy=LogisticsPolicy(),
        solver=NearestNeighbour(),
    )
    assert "heavier than any vehicle" in wave.waiting["huge"]


def test_an_unreachable_destination_waits_with_the_reason():
    policy = LogisticsPolicy(transit=((50.0, 0),))  # a hub that ships 50 km at most
    p = parcel("far", HUB, Place(48.14, 11.58))  # Munich
    wave = plan_wave([p], [], now=NOW, policy=policy, solver=NearestNeighbour())
    assert "unreachable" in wave.waiting["far"]


def test_local_parcels_go_through_the_hub_and_far_ones_by_carrier():
    couriers = [Courier("cou_v", VAN, HUB)]
    local = parcel("local", Place(52.45, 13.30), Place(52.56, 13.50))
    to_hub = parcel("hospital", Place(52.45, 13.30), HUB)
    far = parcel("far", Place(48.14, 11.58), HUB, days=5)
    wave = plan_wave(
        [local, to_hub, far], couriers, now=NOW, policy=LogisticsPolicy(), solver=NearestNeighbour()
    )
    assert wave.legs["local"].to_hub and wave.legs["local"].to == HUB
    assert not wave.legs["hospital"].to_hub  # the destination is the hub: one leg
    assert wave.legs["far"].mode == "parcel_carrier"
    assert wave.legs["far"].eta == NOW + timedelta(days=1)  # 504 km: one day
    # at the hub, the second echelon delivers it
    second = Waiting("local", HUB, local.destination, 500, 2000, local.due, at_hub=True)
    wave = plan_wave(
        [second], couriers, now=NOW, policy=LogisticsPolicy(), solver=NearestNeighbour()
    )
    assert not wave.legs["local"].to_hub and wave.legs["local"].to == local.destination


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.integers(1, 3))
def test_routes_keep_capacity_and_every_parcel_is_routed_or_says_why(seed, n, vans):
    rng = random.Random(seed)
    small_van = VAN.with_(capacity_kg=10.0, shift_h=3.0)
    couriers = [Courier(f"cou_{i}", small_van, HUB) for i in range(vans)]
    parcels = [
        parcel(
            f"p{i}",
            Place(HUB.lat + rng.uniform(-0.2, 0.2), HUB.lon + rng.uniform(-0.3, 0.3)),
            HUB,
            mass_g=rng.randint(100, 4000),
        )
        for i in range(n)
    ]
    wave = plan_wave(
        parcels, couriers, now=NOW, policy=LogisticsPolicy(), solver=NearestNeighbour()
    )
    assert set(wave.legs) | set(wave.waiting) == {p.id for p in parcels}
    assert not set(wave.legs) & set(wave.waiting)
    mass = {p.id: p.mass_g for p in parcels}
    for route in wave.routes:
        on = [pid for pid, leg in wave.legs.items() if leg.route_id == route.route_id]
        assert sum(mass[pid] for pid in on) <= 10_000
        assert route.ends - route.starts <= timedelta(hours=3)
    km = sum(r.distance_km for r in wave.routes)
    shares = sum(leg.distance_km for leg in wave.legs.values() if leg.mode == "van")
    assert shares == pytest.approx(km)  # the routes' km shared out, none lost


def test_pyvrp_routes_a_wave_no_longer_than_nearest_neighbour():
    rng = random.Random(3)
    couriers = [Courier(f"cou_{i}", VAN, HUB) for i in range(3)]
    parcels = [
        parcel(
            f"p{i}",
            Place(HUB.lat + rng.uniform(-0.15, 0.15), HUB.lon + rng.uniform(-0.25, 0.25)),
            HUB,
        )
        for i in range(60)
    ]
    policy = LogisticsPolicy(budget_s=2.0)
    nn = plan_wave(parcels, couriers, now=NOW, policy=policy, solver=NearestNeighbour())
    vrp = plan_wave(parcels, couriers, now=NOW, policy=policy, solver=PyVrpSolver())
    assert not vrp.waiting and not nn.waiting
    vrp_km = sum(r.distance_km for r in vrp.routes)
    nn_km = sum(r.distance_km for r in nn.routes)
    assert vrp_km <= nn_km * 1.0001


def test_an_unset_emission_factor_is_refused_by_name():
    bike = Courier("cou_b", MODES["cargo_bike"], HUB)
    p = parcel("p", Place(52.50, 13.38), HUB)
    with pytest.raises(InvalidInput) as err:
        plan_wave([p], [bike], now=NOW, policy=LogisticsPolicy(), solver=NearestNeighbour())
    assert err.value.field == "modes.cargo_bike.co2_kg_per_km"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.floats(13.0, 13.6), st.floats(52.3, 52.7)), min_size=3, max_size=8),
    st.tuples(st.floats(12.8, 13.8), st.floats(52.1, 52.9)),
    st.tuples(st.floats(12.8, 13.8), st.floats(52.1, 52.9)),
)
def test_the_bounding_box_shortcut_never_changes_the_answer(ring, a, b):
    """An area's box lets a flight far from it skip its vertices: the answer must be the
    one the full test gives (containment, then every edge)."""
    from fabnet.routing.airspace import _in_polygon, _segments_cross

    closed = (*ring, ring[0])
    zone = airspace(area("no_fly", "zone", [[list(p) for p in closed]])).areas[0]
    pa, pb = Place(a[1], a[0]), Place(b[1], b[0])
    (poly,) = zone.polygons
    full = (
        _in_polygon(pa.lon, pa.lat, poly)
        or _in_polygon(pb.lon, pb.lat, poly)
        or any(
            _segments_cross(pa, pb, r[i], r[(i + 1) % len(r)]) for r in poly for i in range(len(r))
        )
    )
    assert zone.crossed_by(pa, pb) == full


def test_a_hub_routes_a_bounded_number_of_stops_a_wave_the_earliest_due_first():
    rng = random.Random(5)
    parcels = [
        Waiting(
            f"p{i}",
            Place(HUB.lat + rng.uniform(-0.2, 0.2), HUB.lon + rng.uniform(-0.3, 0.3)),
            HUB,
            200,
            500,
            NOW + timedelta(hours=10 + i),
        )
        for i in range(30)
    ]
    policy = LogisticsPolicy(max_stops_per_hub=10)
    couriers = [Courier(f"cou_{i}", VAN, HUB) for i in range(3)]
    wave = plan_wave(parcels, couriers, now=NOW, policy=policy, solver=NearestNeighbour())
    assert set(wave.legs) == {f"p{i}" for i in range(10)}  # the ten due first
    assert all("over the 10 stops" in wave.waiting[f"p{i}"] for i in range(10, 30))
    with pytest.raises(InvalidInput) as err:
        LogisticsPolicy(max_stops_per_hub=0)
    assert err.value.field == "logistics.max_stops_per_hub"

"""Transit time counts against the deadline at the hub (Policy.transit)."""

from fabnet.services import commands as cmd
from tests.conftest import World


def test_an_order_no_producer_can_deliver_in_time_is_left_unmet_with_the_reason(world: World):
    """As a new user found: an order due in three days in Nairobi, the makers in Cairo
    (3,500 km) and Berlin (6,400 km): it was planned from both without a word; now it is
    left unmet, saying that no capable machine can deliver in time and why."""
    world.producer("cairo", 30.04, 31.24)
    world.producer("berlin", 52.52, 13.40)
    design = world.design(print_time_s=600)
    order_id = world.order(design, 20, days=3, lat=-1.2921, lon=36.8219)
    with world.uow() as uow:
        assert [j for j in uow.jobs.all(order_id=order_id) if j.is_live] == []
    report = world.bus.handle(cmd.PlanOrders((order_id,)))
    ((_, why),) = report.unmet.items()
    assert "deliver in time" in why and "10 days in transit" in why


def test_transit_bands_come_from_the_settings_and_bad_ones_are_refused():
    import pytest

    from fabnet.bootstrap import policy_from
    from fabnet.config import Settings
    from fabnet.domain.errors import InvalidInput
    from fabnet.services.ports import HUB_TRANSIT

    assert policy_from(Settings()).transit == HUB_TRANSIT
    assert policy_from(Settings(transit="[[100, 0], [20040, 3]]")).transit == ((100, 0), (20040, 3))
    for text, field in [
        ("{}", "transit"),
        ("[[100, 1], [50, 2]]", "costs.transit[1]"),
        ("[[100, -1]]", "costs.transit[0]"),
        ("nope", "transit"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            policy_from(Settings(transit=text))
        assert caught.value.field == field, text


def test_logistics_settings_are_read_and_bad_ones_refused_by_name():
    import json

    import pytest

    from fabnet.bootstrap import policy_from
    from fabnet.config import Settings
    from fabnet.domain.errors import InvalidInput
    from fabnet.routing.costmodel import transport_bands

    zone = {
        "type": "Feature",
        "properties": {"kind": "weather", "name": "north", "flyable": False},
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
    }
    text = json.dumps(
        {
            "weights": {"value_of_time_per_h": 500, "co2_price_per_kg": 0},
            "local_radius_km": 25,
            "modes": {"cargo_bike": {"co2_kg_per_km": 0.01}},
            "airspace": {"type": "FeatureCollection", "features": [zone]},
        }
    )
    policy = policy_from(Settings(logistics=text, transit="[[100, 0], [20040, 3]]"))
    logistics = policy.logistics
    assert logistics.weights.value_of_time_per_h == 500 and logistics.local_radius_km == 25
    assert logistics.mode("cargo_bike").co2_kg_per_km == 0.01
    assert logistics.airspace.areas[0].flyable is False
    assert logistics.transit == ((100, 0), (20040, 3))  # the planner's bands, one source
    assert transport_bands(logistics)[0][0] == 25  # the courier band is the hubs' reach
    for bad, field in [
        ('{"speed": 3}', "logistics.speed"),
        ('{"weights": {"value_of_time_per_h": -1}}', "logistics.weights.value_of_time_per_h"),
        ('{"modes": {"hovercraft": {}}}', "logistics.modes.hovercraft"),
        ('{"modes": {"van": {"speed_kmh": 0}}}', "modes.van.speed_kmh"),
        ('{"airspace": {"type": "Feature"}}', "logistics.airspace"),
        ('{"local_radius_km": 0}', "logistics.local_radius_km"),
        ("[1]", "logistics"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            policy_from(Settings(logistics=bad))
        assert caught.value.field == field, bad

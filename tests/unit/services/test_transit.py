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

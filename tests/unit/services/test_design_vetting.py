"""Design vetting: a line can require a reviewed design, and the planner waits for it."""

from datetime import timedelta

import pytest

from fabnet.domain import events as ev
from fabnet.domain.errors import Forbidden, InvalidInput, NotFound
from fabnet.domain.states import JobState, ReviewStatus
from fabnet.services import commands as cmd
from tests.conftest import ALICE, OPERATOR, World, producer_actor


def offered(world: World):
    with world.uow() as uow:
        return [j for j in uow.jobs.all() if j.state is JobState.OFFERED]


def order_needing(world: World, design: str, status: ReviewStatus) -> tuple[str, object]:
    line = cmd.LineRequest(
        design, "PLA", 10, world.clock.now() + timedelta(days=5),
        52.5, 13.4, min_review=status,
    )  # fmt: skip
    order_id = world.bus.handle(cmd.PlaceOrder(ALICE, (line,)))
    return order_id, line


def test_a_line_needing_clinical_review_waits_with_the_reason_then_is_planned(world: World):
    world.producer("maker", 52.5, 13.4)
    design = world.design()
    world.order(design, 5)  # no review needed: planned at once
    assert len(offered(world)) == 1
    order_id, _ = order_needing(world, design, ReviewStatus.CLINICAL_USE)
    report = world.bus.handle(cmd.PlanOrders((order_id,)))
    ((_, why),) = report.unmet.items()
    assert "not reviewed" in why and "clinical use" in why
    assert len(offered(world)) == 1
    world.bus.handle(cmd.ReviewDesign(OPERATOR, design, ReviewStatus.COMMUNITY_USE, "fit ok"))
    assert len(offered(world)) == 1  # community use is not enough
    world.bus.handle(cmd.ReviewDesign(OPERATOR, design, ReviewStatus.CLINICAL_USE, "ISO 10993"))
    jobs = offered(world)
    assert len(jobs) == 2 and any(j.order_id == order_id for j in jobs)
    with world.uow() as uow:
        reviewed = uow.designs.get(design)
        assert reviewed.review_status is ReviewStatus.CLINICAL_USE
        assert reviewed.extra["review_notes"] == "ISO 10993"


def test_every_verdict_is_an_event_of_the_design(world: World):
    design = world.design()
    world.bus.handle(cmd.ReviewDesign(OPERATOR, design, ReviewStatus.COMMUNITY_USE))
    with world.uow() as uow:
        d = uow.designs.get(design)
        assert d.review_status is ReviewStatus.COMMUNITY_USE and d.extra["reviewed_by"]
    assert ev.EVENT_TYPES["DesignReviewed"] is ev.DesignReviewed


def test_only_a_reviewer_sets_the_status(world: World):
    pid = world.producer("maker", 52.5, 13.4)
    design = world.design()
    for who in (ALICE, producer_actor(pid)):
        with pytest.raises(Forbidden):
            world.bus.handle(cmd.ReviewDesign(who, design, ReviewStatus.CLINICAL_USE))
    with pytest.raises(NotFound):
        world.bus.handle(cmd.ReviewDesign(OPERATOR, "dsg_nope", ReviewStatus.CLINICAL_USE))
    with pytest.raises(InvalidInput, match="notes"):
        world.bus.handle(cmd.ReviewDesign(OPERATOR, design, ReviewStatus.CLINICAL_USE, "x" * 3000))
    with world.uow() as uow:
        assert uow.designs.get(design).review_status is ReviewStatus.NOT_REVIEWED

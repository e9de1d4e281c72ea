"""Quotes through the bus: options per producer class, lead time from capacity, exactness."""

from __future__ import annotations

import pytest

from fabnet.adapters.slicer import FakeSlicer
from fabnet.domain.errors import InvalidInput, NotFound
from fabnet.domain.pricing import PriceRule, ProducerClass
from fabnet.services import commands as cmd
from fabnet.sim.parts import box_stl
from tests.conftest import ALICE, OPERATOR, facility, printer

PART = box_stl(40, 40, 10)


def quote(world, **kw):
    kw.setdefault("filename", "part.stl")
    kw.setdefault("data", PART if "design_id" not in kw else b"")
    if "design_id" in kw:
        kw["filename"] = ""
    return world.bus.handle(cmd.RequestQuote(actor=ALICE, **kw))


def add(world, name, cls, *machines, pricing=None):
    spec = facility(name, 52.5, 13.4, *machines)
    spec = cmd.FacilitySpec(**{**spec.__dict__, "producer_class": cls, "pricing": pricing})
    return world.bus.handle(cmd.RegisterProducer(OPERATOR, spec))


def test_a_quote_gives_one_option_per_class_with_the_producers_own_prices(world):
    own = {"material_per_kg_minor": 100_000, "machine_per_hour_minor": 0}
    add(world, "maker a", "maker", printer())
    add(world, "maker b", "maker", printer(), pricing=own)
    add(world, "lab", "fablab", printer(materials=("PETG",)))
    q = quote(world, quantity=10)
    by = {o.producer_class: o for o in q.options}
    assert by[ProducerClass.MAKER].producers == 2
    default = world.bus.dependencies["policy"].price_rules[ProducerClass.MAKER]
    cheap = default.price(
        filament_g=q.estimate.filament_g, print_time_s=q.estimate.print_time_s, quantity=10
    )
    dear = PriceRule(100_000, 0).price(
        filament_g=q.estimate.filament_g, print_time_s=1, quantity=10
    )
    assert by[ProducerClass.MAKER].price_min == cheap
    assert {
        by[ProducerClass.MAKER].price_min.minor,
        by[ProducerClass.MAKER].price_median.minor,
    } <= {
        cheap.minor,
        dear.minor,
    }
    assert by[ProducerClass.FABLAB].producers == 0  # its printer has no PLA
    assert by[ProducerClass.FABLAB].lead_time_days is None
    assert q.machines_checked == 3 and q.machines_able == 2
    assert q.unprintable_reasons == {"the machine has no PLA (it has PETG)": 1}


def test_lead_time_grows_with_quantity_and_with_work_already_planned(world):
    add(world, "maker", "maker", printer(hours_per_day=10))
    one = quote(world, quantity=1).options[0]
    many = quote(world, quantity=400).options[0]
    assert one.lead_time_days == 1
    assert many.lead_time_days > one.lead_time_days
    design = world.design(print_time_s=8 * 3600, size=(50, 50, 20))
    world.order(design, 20, days=30)  # 160 h of work now planned on the same printer
    later = quote(world, quantity=400).options[0]
    assert later.lead_time_days > many.lead_time_days


def test_quotes_from_a_design_id_and_refusals(world):
    design = world.design(size=(30, 20, 10))
    q = quote(world, design_id=design)
    assert q.facts.bbox_mm == pytest.approx((30, 20, 10))
    with pytest.raises(InvalidInput, match="either a file or a design_id"):
        world.bus.handle(
            cmd.RequestQuote(actor=ALICE, design_id=design, filename="a.stl", data=PART)
        )
    with pytest.raises(NotFound):
        quote(world, design_id="0" * 64)
    with pytest.raises(InvalidInput) as caught:
        quote(world, material="WOOD")
    assert caught.value.field == "material"
    with pytest.raises(InvalidInput) as caught:
        quote(world, quantity=0)
    assert caught.value.field == "quantity"


def test_exact_quotes_ask_the_slicer_and_say_so_when_there_is_none(world):
    with pytest.raises(InvalidInput, match="no slicer"):
        quote(world, exact=True)
    world.bus.dependencies["slicer"] = FakeSlicer(time_factor=1.1)
    q = quote(world, exact=True)
    assert q.slicer == "FakeSlicer"
    assert q.slicer_print_time_s == pytest.approx(q.estimate.print_time_s * 1.1)


def test_a_quote_stores_nothing(world):
    add(world, "maker", "maker", printer())
    events = len(world.db.events)
    quote(world)
    with pytest.raises(InvalidInput):
        quote(world, data=b"solid junk")
    assert len(world.db.events) == events
    assert world.blobs.blobs == {}
    with world.uow() as uow:
        assert uow.designs.count() == 0


def test_each_option_states_the_co2_of_its_printing_electricity():
    from fabnet.services.ports import Policy
    from fabnet.services.quotes import printing_co2_kg

    policy = Policy()
    # one hour on the reference machine: 189.5 W x 1 h x 0.177 kg/kWh (figures.md 4, 1a)
    assert printing_co2_kg(3600, 1.0, policy) == round(0.1895 * 0.177, 4)
    assert printing_co2_kg(3600 * 10, 2.0, policy) == round(5 * 0.1895 * 0.177, 4)

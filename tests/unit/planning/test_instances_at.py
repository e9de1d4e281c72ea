"""Instances on given places (sim/instances.generate_at): what the OKW benchmark plans."""

from __future__ import annotations

import pytest

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Place
from fabnet.planning.problem import SECONDS_PER_DAY
from fabnet.sim.instances import AT_DUE_DAYS, AT_UNITS, PARTS, generate_at

PLACES = [Place(34.43, 70.45), Place(49.18, -0.35), Place(-33.9, 18.4), Place(40.7, -74.0)]


def test_one_machine_at_each_place_and_every_line_sent_to_one_of_them():
    problem = generate_at(PLACES, orders=50, seed=3)
    assert [s.place for s in problem.supplies] == PLACES
    assert len({s.machine_id for s in problem.supplies}) == len(PLACES)
    assert len(problem.demands) == 50
    for d in problem.demands:
        assert d.destination in PLACES
        assert d.units in AT_UNITS
        assert (d.unit_time_s, d.unit_mass_g) in PARTS
        assert 0 <= d.due_s <= AT_DUE_DAYS * SECONDS_PER_DAY
        if d.material == "PLA":  # every machine prints PLA, some PETG too
            assert all(s.can_make(d) for s in problem.supplies)


def test_the_same_seed_gives_the_same_instance_and_another_seed_another():
    one = generate_at(PLACES, orders=30, seed=1)
    assert one == generate_at(PLACES, orders=30, seed=1)
    assert one.demands != generate_at(PLACES, orders=30, seed=2).demands


def test_no_place_or_a_negative_count_is_refused_by_name():
    with pytest.raises(InvalidInput, match="places"):
        generate_at([], orders=3, seed=1)
    with pytest.raises(InvalidInput, match="orders"):
        generate_at(PLACES, orders=-1, seed=1)
    assert generate_at(PLACES, orders=0, seed=1).demands == ()

"""The telemetry anomaly rules, on simulated labelled traces (sim/traces.py)."""

import pytest

from fabnet.domain.errors import InvalidInput
from fabnet.fabrication.anomaly import DetectorSettings, JobWatch, Sample, failure_streak
from fabnet.sim.traces import FAULTS, KINDS, trace


def flags_of(t):
    watch = JobWatch(t.expected_s)
    return [f for s in t.samples for f in watch.feed(s)]


@pytest.mark.parametrize("seed", range(12))
def test_normal_prints_raise_nothing(seed):
    assert flags_of(trace(None, seed)) == []


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("seed", range(6))
def test_each_fault_is_caught_by_its_rule_after_it_starts(fault, seed):
    t = trace(fault, 100 + seed)
    found = flags_of(t)
    kinds = [f.kind for f in found]
    assert KINDS[fault] in kinds, (fault, kinds)
    first = next(f for f in found if f.kind == KINDS[fault])
    assert first.at_s >= t.fault_at_s


def test_heating_up_is_not_an_excursion_and_each_flag_is_raised_once():
    watch = JobWatch(3600)
    cold = [
        Sample(float(t), "printing", 0.0, {"tool0": (25 + t, 210.0)}) for t in range(0, 180, 10)
    ]
    assert [f for s in cold for f in watch.feed(s)] == []
    hot = [
        Sample(200.0 + t, "printing", 0.01, {"tool0": (150.0, 210.0)}) for t in range(0, 300, 10)
    ]
    assert [f.kind for s in hot for f in watch.feed(s)] == []  # never reached its target
    watch2 = JobWatch(3600)
    reached = [
        Sample(float(t), "printing", t / 1e5, {"tool0": (210.0, 210.0)}) for t in range(0, 100, 10)
    ]
    dropped = [
        Sample(100.0 + t, "printing", 0.01, {"tool0": (150.0, 210.0)}) for t in range(0, 300, 10)
    ]
    flags = [f for s in reached + dropped for f in watch2.feed(s)]
    assert [f.kind for f in flags] == ["temperature"]


def test_out_of_order_samples_are_ignored():
    watch = JobWatch(3600)
    watch.feed(Sample(100.0, "printing", 0.1))
    assert watch.feed(Sample(50.0, "error")) == []


def test_failure_streak():
    assert failure_streak([True, False, False, False])
    assert not failure_streak([False, False, True])
    assert not failure_streak([False, False])


@pytest.mark.parametrize(
    ("field", "value"), [("temp_band_c", 0), ("behind_ratio", 1.0), ("repeat_failures", 1)]
)
def test_bad_settings_name_their_field(field, value):
    with pytest.raises(InvalidInput) as caught:
        DetectorSettings(**{field: value})
    assert caught.value.field == f"anomaly.{field}"

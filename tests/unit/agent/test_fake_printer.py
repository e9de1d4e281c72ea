"""The fake printer (the simulator's and the agent tests'), on a clock the test moves."""

from __future__ import annotations

import pytest

from fabnet.adapters.octoprint.fake import FakeMachineLink
from fabnet.domain.errors import MachineUnreachable


class Seconds:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_print_progresses_with_the_clock_and_pauses_stop_it():
    clock = Seconds()
    link = FakeMachineLink(print_s=600, clock=clock)
    link.upload("a.gcode", b"G1")
    link.start("a.gcode")
    clock.now += 150
    assert link.status().progress == pytest.approx(0.25)
    link.pause()
    clock.now += 1000  # paused time does not count
    assert link.status().progress == pytest.approx(0.25)
    link.resume()
    clock.now += 450
    done = link.status()
    assert (done.state, link.printed) == ("idle", ["a.gcode"])


def test_a_print_fails_where_it_is_told_to_and_an_unplugged_printer_does_not_answer():
    clock = Seconds()
    link = FakeMachineLink(print_s=100, fail_at=0.5, clock=clock)
    link.upload("a.gcode", b"G1")
    link.start("a.gcode")
    clock.now += 60
    status = link.status()
    assert status.state == "error" and "thermal" in status.error
    link.reachable = False
    with pytest.raises(MachineUnreachable):
        link.status()

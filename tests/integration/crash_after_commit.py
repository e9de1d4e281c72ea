"""Run by test_reactions.py as its own process: does one step of an order's life on the
store at FABNET_DATABASE_URL, then dies (os._exit) right after the command commits and
before any reaction runs, as a power cut would."""

from __future__ import annotations

import os
import sys
from datetime import timedelta

from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.domain import events as ev
from fabnet.services import commands as cmd
from fabnet.sim.parts import box_stl
from tests.conftest import ALICE, OPERATOR, facility, printer, producer_actor


def die_after(kind: type[ev.Event]):
    def listener(event: ev.Event) -> None:
        if isinstance(event, kind):
            sys.stdout.flush()
            os._exit(9)  # the command committed; its reactions never ran

    return listener


def main(step: str) -> None:
    app = bootstrap(Settings())
    bus = app.bus()
    if step == "order":
        bus.handle(cmd.RegisterProducer(OPERATOR, facility("a", 52.5, 13.4, printer())))
        bus.handle(cmd.RegisterProducer(OPERATOR, facility("b", 52.4, 13.3, printer())))
        design = bus.handle(
            cmd.RegisterDesign(OPERATOR, "p.stl", box_stl(50, 50, 10), "p", "fdm", ("PLA",), 600)
        )
        now = app.clock.now()
        line = cmd.LineRequest(design, "PLA", 30, now + timedelta(days=5), 52.5, 13.4)
        bus.listeners.append(die_after(ev.OrderPlaced))
        order_id = bus.handle(cmd.PlaceOrder(ALICE, (line,)))
        print(order_id)
    elif step == "finish":
        order_id, job_id, producer_id = sys.argv[2:5]
        actor = producer_actor(producer_id)
        for move in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
            bus.handle(move(actor, job_id))
        bus.listeners.append(die_after(ev.UnitsMade))
        bus.handle(cmd.FinishJob(actor, job_id))
    raise SystemExit("the process should have died after the commit")


if __name__ == "__main__":
    main(sys.argv[1])

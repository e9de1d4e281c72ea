"""The message bus: runs a command's handler, then reacts to the events it raised.

Handlers declare their dependencies as keyword-only parameters (``uow``, ``clock``,
``ids``, ``blobs``, ``mesh``, ``policy``); the bus passes what each one names. Reactions
to events are follow-up commands; re-planning requests of one round are merged into one.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from fabnet.domain import events as ev
from fabnet.services import (
    access,
    designs,
    escrow,
    jobs,
    machines,
    orders,
    planning,
    producers,
    quotes,
)
from fabnet.services import commands as cmd
from fabnet.services.ports import UnitOfWork

log = logging.getLogger(__name__)

HANDLERS: dict[type[cmd.Command], Callable[..., Any]] = {
    cmd.RegisterProducer: producers.register_producer,
    cmd.ImportFacilities: producers.import_facilities,
    cmd.UpdateProducer: producers.update_producer,
    cmd.AddMachine: producers.add_machine,
    cmd.SetMachineStatus: producers.set_machine_status,
    cmd.RegisterDesign: designs.register_design,
    cmd.RequestQuote: quotes.request_quote,
    cmd.ApplyAgentEvent: machines.apply_agent_event,
    cmd.HearMachine: machines.hear_machine,
    cmd.SweepHeartbeats: machines.sweep_heartbeats,
    cmd.SendMachineCommand: machines.send_machine_command,
    cmd.PlaceOrder: orders.place_order,
    cmd.CancelOrder: orders.cancel_order,
    cmd.PlanOrders: planning.plan_orders,
    cmd.AcceptJob: jobs.accept_job,
    cmd.DeclineJob: jobs.decline_job,
    cmd.QueueJob: jobs.queue_job,
    cmd.StartJob: jobs.start_job,
    cmd.FinishJob: jobs.finish_job,
    cmd.FailJob: jobs.fail_job,
    cmd.CancelJob: jobs.cancel_job,
    cmd.ExpireOffers: jobs.expire_offers,
    cmd.CreateApiKey: access.create_api_key,
    cmd.FundEscrow: escrow.fund_escrow,
    cmd.RejectUnits: escrow.reject_units,
    cmd.AcceptDelivery: escrow.accept_delivery,
    cmd.OpenDispute: escrow.open_dispute,
    cmd.DecideDispute: escrow.decide_dispute,
    cmd.SweepEscrows: escrow.sweep_escrows,
}


def _replan(event: ev.Event) -> cmd.Command | None:
    order_id = getattr(event, "order_id", None)
    return cmd.PlanOrders(order_ids=(order_id,)) if order_id else None


# Units that go back to a line are planned again; a new order is planned at once.
REACTIONS: dict[type[ev.Event], Callable[[ev.Event], cmd.Command | None]] = {
    ev.OrderPlaced: _replan,
    ev.JobDeclined: _replan,
    ev.JobExpired: _replan,
    ev.JobFailed: _replan,
    ev.JobCancelled: _replan,
}


class MessageBus:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        react: bool = True,
        listeners: list[Callable[[ev.Event], None]] | None = None,
        **dependencies: Any,
    ) -> None:
        self.uow = uow
        self.react = react
        self.listeners = listeners if listeners is not None else []
        self.dependencies: dict[str, Any] = {"uow": uow, **dependencies}

    def handle(self, command: cmd.Command) -> Any:
        """Run ``command``; returns what its handler returns. Reactions run after it."""
        result = self._run(command)
        self._react()
        return result

    def _run(self, command: cmd.Command) -> Any:
        handler = HANDLERS[type(command)]
        wanted = inspect.signature(handler).parameters
        kwargs = {name: self.dependencies[name] for name in wanted if name in self.dependencies}
        return handler(command, **kwargs)

    def _react(self) -> None:
        for _ in range(10):  # a bound on cascades: plans that fail that re-plan...
            replan: set[str] = set()
            for event in self.uow.collect_events():
                for listener in self.listeners:
                    listener(event)
                reaction = REACTIONS.get(type(event)) if self.react else None
                follow = reaction(event) if reaction else None
                if isinstance(follow, cmd.PlanOrders):
                    replan.update(follow.order_ids)
            if not replan:
                return
            try:
                self._run(cmd.PlanOrders(order_ids=tuple(sorted(replan))))
            except Exception:  # a failed reaction must not undo the command that ran
                log.exception("re-planning orders %s failed", sorted(replan))

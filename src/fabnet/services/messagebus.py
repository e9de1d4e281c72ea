"""The message bus: runs a command's handler in its transaction, then the reactions to
what was committed (services/reactions.py, driven from the stored events).

Handlers declare their dependencies as keyword-only parameters (``uow``, ``clock``,
``ids``, ``blobs``, ``mesh``, ``policy``...); the bus passes what each one names.
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
    quality,
    quotes,
    reactions,
    shipments,
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
    cmd.ConfirmMachine: producers.confirm_machine,
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
    cmd.RestockMaterial: jobs.restock_material,
    cmd.InspectLot: quality.inspect_lot,
    cmd.FlagJob: quality.flag_job,
    cmd.QualifyMachine: quality.qualify_machine,
    cmd.ReviewDesign: designs.review_design,
    cmd.QueueJob: jobs.queue_job,
    cmd.StartJob: jobs.start_job,
    cmd.FinishJob: jobs.finish_job,
    cmd.FailJob: jobs.fail_job,
    cmd.CancelJob: jobs.cancel_job,
    cmd.ExpireOffers: jobs.expire_offers,
    cmd.CreateApiKey: access.create_api_key,
    cmd.InviteProducer: access.invite_producer,
    cmd.Enrol: access.enrol,
    cmd.RevokeApiKey: access.revoke_api_key,
    cmd.FundEscrow: escrow.fund_escrow,
    cmd.RejectUnits: escrow.reject_units,
    cmd.AcceptDelivery: escrow.accept_delivery,
    cmd.OpenDispute: escrow.open_dispute,
    cmd.DecideDispute: escrow.decide_dispute,
    cmd.SweepEscrows: escrow.sweep_escrows,
    cmd.RegisterCourier: shipments.register_courier,
    cmd.PlanShipments: shipments.plan_shipments,
    cmd.RecordShipmentEvent: shipments.record_shipment_event,
    cmd.SwitchWeather: shipments.switch_weather,
}


class MessageBus:
    """Runs commands; hands every committed event to its listeners; and, when ``react``
    is on, drains the reactions (services/reactions.py) after each command, in this
    thread. A hub process that drains in the background turns it off for the API."""

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
        try:
            result = self._run(command)
        finally:
            self._notify()
        if self.react:
            try:
                self.drain()
            except Exception:  # a failed reaction must not undo the command that ran
                log.exception(
                    "reactions after %s failed; they run again later", type(command).__name__
                )
        return result

    def drain(self) -> reactions.DrainReport:
        """Run the reactions over every event they have not handled yet."""
        deps = {k: v for k, v in self.dependencies.items() if k != "uow"}
        return reactions.drain(self.uow, deps, on_commit=self._notify)

    def _run(self, command: cmd.Command) -> Any:
        handler = HANDLERS[type(command)]
        wanted = inspect.signature(handler).parameters
        kwargs = {name: self.dependencies[name] for name in wanted if name in self.dependencies}
        return handler(command, **kwargs)

    def _notify(self) -> None:
        for event in self.uow.collect_events():
            for listener in self.listeners:
                listener(event)

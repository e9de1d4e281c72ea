"""The escrow as a Vyper contract on an in-process EVM (web3 + eth-tester + py-evm).

``EvmEscrow.settle(events, producers)`` deploys the contract funded as the first event
says and drives it with the same escrow events the log holds; its balances must equal
``Escrow.replay`` of those events (tests/integration/test_chain_escrow.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fabnet.domain import events as ev
from fabnet.domain.errors import ExternalSystemError

SOURCE = Path(__file__).with_name("escrow.vy")
STATES = {
    1: "funded",
    2: "in_production",
    3: "delivered",
    4: "disputed",
    5: "released",
    6: "refunded",
}


@cache
def compiled() -> tuple[list[Any], str]:
    import vyper

    out = vyper.compile_code(SOURCE.read_text(), output_formats=["abi", "bytecode"])
    return out["abi"], out["bytecode"]


class EvmEscrow:
    def __init__(self) -> None:
        from web3 import EthereumTesterProvider, Web3

        self.w3 = Web3(EthereumTesterProvider())
        accounts: list[str] = [str(a) for a in self.w3.eth.accounts]
        self.hub, self.consumer, self.arbiter = accounts[0], accounts[1], accounts[2]
        self.spare: list[str] = list(accounts[3:])
        self.address_of: dict[str, str] = {}
        self.contract: Any = None

    def _producer(self, producer_id: str) -> str:
        if producer_id not in self.address_of:
            self.address_of[producer_id] = self.spare.pop(0)
        return self.address_of[producer_id]

    def _send(self, fn: Any, sender: str) -> None:
        try:
            tx = fn.transact({"from": sender})
        except Exception as exc:  # the EVM reverted: eth-tester and web3 raise their own
            raise ExternalSystemError("chain", f"the contract refused: {exc}") from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        if receipt["status"] != 1:
            raise ExternalSystemError("chain", "the transaction reverted")

    def apply(self, event: ev.EscrowEvent) -> None:
        if isinstance(event, ev.EscrowFunded):
            abi, bytecode = compiled()
            factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
            tx = factory.constructor(
                self.consumer,
                self.arbiter,
                event.units,
                event.inspection_window_s,
                event.arbiter_timeout_s,
                event.default_outcome == "release",
                event.late_penalty_minor_per_unit_day,
                event.penalty_cap_permille,
            ).transact({"from": self.hub, "value": event.amount_minor})
            receipt = self.w3.eth.wait_for_transaction_receipt(tx)
            self.contract = self.w3.eth.contract(address=receipt["contractAddress"], abi=abi)
            return
        f = self.contract.functions
        if isinstance(event, ev.EscrowProductionStarted):
            self._send(f.start(), self.hub)
        elif isinstance(event, ev.EscrowUnitsDelivered):
            self._send(
                f.deliver(self._producer(event.producer_id), event.units, event.days_late), self.hub
            )
        elif isinstance(event, ev.EscrowUnitsRejected):
            self._send(f.reject(self._producer(event.producer_id), event.units), self.hub)
        elif isinstance(event, ev.EscrowAccepted):
            self._send(f.accept(), self.consumer)
        elif isinstance(event, ev.EscrowDisputed):
            self._send(f.dispute(), self.consumer)
        elif isinstance(event, ev.EscrowArbitrated):
            self._send(f.arbitrate(event.producer_share_permille), self.arbiter)
        elif isinstance(event, ev.EscrowCancelled):
            self._send(f.cancel(), self.consumer)
        else:
            raise ValueError(f"no chain call for {type(event).__name__}")

    def balances(self) -> dict[str, object]:
        f = self.contract.functions
        paid = {pid: f.paid(addr).call() for pid, addr in self.address_of.items()}
        return {
            "held": f.held().call(),
            "paid": {k: v for k, v in sorted(paid.items()) if v},
            "refunded": f.refunded().call(),
            "state": STATES[f.state().call()],
        }

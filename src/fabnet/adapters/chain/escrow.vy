# pragma version ^0.4.0
# fabnet escrow: the same rules as fabnet.domain.contracts.Escrow, on an EVM.
# States: 1 funded, 2 in production, 3 delivered, 4 disputed, 5 released, 6 refunded.

hub: public(address)
consumer: public(address)
arbiter: public(address)
units: public(uint256)
amount: public(uint256)
unit_price: public(uint256)
late_penalty: public(uint256)
penalty_cap_permille: public(uint256)
inspection_window: public(uint256)
arbiter_timeout: public(uint256)
default_release: public(bool)
state: public(uint8)
delivered_at: public(uint256)
disputed_at: public(uint256)
producers: public(DynArray[address, 64])
delivered: public(HashMap[address, uint256])
rejected: public(HashMap[address, uint256])
late_unit_days: public(HashMap[address, uint256])
total_delivered: public(uint256)
total_rejected: public(uint256)
paid: public(HashMap[address, uint256])
withdrawn: public(HashMap[address, uint256])
refunded: public(uint256)
held: public(uint256)


@deploy
@payable
def __init__(consumer: address, arbiter: address, units: uint256, inspection_window: uint256,
             arbiter_timeout: uint256, default_release: bool, late_penalty: uint256,
             penalty_cap_permille: uint256):
    assert msg.value > 0, "nothing funded"
    assert units > 0, "no units"
    assert penalty_cap_permille <= 1000, "cap over 1000"
    self.hub = msg.sender
    self.consumer = consumer
    self.arbiter = arbiter
    self.units = units
    self.amount = msg.value
    self.held = msg.value
    self.unit_price = msg.value // units
    self.inspection_window = inspection_window
    self.arbiter_timeout = arbiter_timeout
    self.default_release = default_release
    self.late_penalty = late_penalty
    self.penalty_cap_permille = penalty_cap_permille
    self.state = 1


@external
def start():
    assert msg.sender == self.hub, "hub only"
    assert self.state == 1, "not funded"
    self.state = 2


@external
def deliver(producer: address, units: uint256, days_late: uint256):
    assert msg.sender == self.hub, "hub only"
    assert self.state == 1 or self.state == 2, "not in production"
    assert units > 0, "no units"
    assert self.total_delivered - self.total_rejected + units <= self.units, "more than ordered"
    if self.delivered[producer] == 0:
        self.producers.append(producer)
    self.delivered[producer] += units
    self.late_unit_days[producer] += units * days_late
    self.total_delivered += units
    self.state = 2
    if self.total_delivered - self.total_rejected == self.units:
        self.state = 3
        self.delivered_at = block.timestamp


@external
def reject(producer: address, units: uint256):
    assert msg.sender == self.hub, "hub only"
    assert self.state == 2 or self.state == 3, "nothing to inspect"
    assert units > 0, "no units"
    assert units <= self.delivered[producer] - self.rejected[producer], "more than delivered"
    self.rejected[producer] += units
    self.total_rejected += units
    self.state = 2  # the rejected units are made again before the order is delivered
    self.delivered_at = 0


@internal
def _settle(share: uint256):
    for p: address in self.producers:
        good: uint256 = self.delivered[p] - self.rejected[p]
        gross: uint256 = good * self.unit_price
        penalty: uint256 = self.late_unit_days[p] * self.late_penalty
        cap: uint256 = gross * self.penalty_cap_permille // 1000
        earned: uint256 = gross - min(penalty, cap)
        value: uint256 = earned * share // 1000
        self.paid[p] += value
        self.held -= value
    self.refunded += self.held
    self.held = 0


@external
def accept():
    assert msg.sender == self.consumer, "consumer only"
    assert self.state == 3, "not delivered"
    self._settle(1000)
    self.state = 5


@external
def accept_after_window():
    assert self.state == 3, "not delivered"
    assert block.timestamp >= self.delivered_at + self.inspection_window, "window open"
    self._settle(1000)
    self.state = 5


@external
def dispute():
    assert msg.sender == self.consumer, "consumer only"
    assert self.state == 3, "not delivered"
    assert block.timestamp <= self.delivered_at + self.inspection_window, "window closed"
    self.state = 4
    self.disputed_at = block.timestamp


@external
def arbitrate(share_permille: uint256):
    assert msg.sender == self.arbiter, "arbiter only"
    assert self.state == 4, "not disputed"
    assert share_permille <= 1000, "share over 1000"
    self._settle(share_permille)
    if share_permille > 0:
        self.state = 5
    else:
        self.state = 6


@external
def cancel():
    assert msg.sender == self.hub or msg.sender == self.consumer, "hub or consumer only"
    assert self.state == 1 or self.state == 2, "too late to cancel"
    self._settle(1000)
    self.state = 6


@external
def withdraw():
    owed: uint256 = self.paid[msg.sender] - self.withdrawn[msg.sender]
    if msg.sender == self.consumer:
        owed += self.refunded - self.withdrawn[self]
        self.withdrawn[self] = self.refunded
    assert owed > 0, "nothing owed"
    self.withdrawn[msg.sender] = self.paid[msg.sender]
    send(msg.sender, owed)

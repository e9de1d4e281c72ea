"""Every id has its own type. Ids are short strings with a kind prefix (``ord_``...)."""

from __future__ import annotations

from typing import NewType

ProducerId = NewType("ProducerId", str)
MachineId = NewType("MachineId", str)
DesignId = NewType("DesignId", str)  # dsg_...; older records: the SHA-256 of the file
OrderId = NewType("OrderId", str)
LineId = NewType("LineId", str)
JobId = NewType("JobId", str)
PrincipalId = NewType("PrincipalId", str)  # who holds an API key: a consumer, producer, operator
ApiKeyId = NewType("ApiKeyId", str)
EventId = NewType("EventId", str)
ShipmentId = NewType("ShipmentId", str)
CourierId = NewType("CourierId", str)  # also the principal id of the courier's keys

PREFIXES = {
    "producer": "prd",
    "machine": "mch",
    "order": "ord",
    "line": "lin",
    "job": "job",
    "principal": "usr",
    "key": "key",
    "event": "evt",
    "design": "dsg",
    "shipment": "shp",
    "courier": "cou",
}

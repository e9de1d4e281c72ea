"""The one error tree of fabnet.

::

    FabnetError
    +-- NotFound                      a thing with that id does not exist (or is not yours)
    +-- Conflict                      the request clashes with the current state
    |   +-- DuplicateOrder
    |   +-- InvalidTransition         a state machine refused a move
    |   +-- StaleUpdate               another writer changed the aggregate first
    +-- InvalidInput                  malformed or out-of-range input, names the field
    |   +-- BadMesh
    |   +-- PayloadTooLarge
    +-- CapabilityMismatch            no machine can make what was asked
    +-- Unauthorized                  no credentials or unknown credentials
    +-- Forbidden                     known credentials, not allowed to do this
    +-- LimitExceeded                 a quota or rate of the hub's policy (names the limit)
    +-- ExternalSystemError           an outside system failed
        +-- SlicerFailed
        +-- BrokerUnavailable
        +-- MachineUnreachable

Every exception carries its fields; one table in the entry points maps each class to an
HTTP status and a CLI exit code.
"""

from __future__ import annotations


class FabnetError(Exception):
    """Base of every error fabnet raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(FabnetError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind
        self.ident = ident


class Conflict(FabnetError):
    pass


class DuplicateOrder(Conflict):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} already exists")
        self.order_id = order_id


class InvalidTransition(Conflict):
    def __init__(self, kind: str, ident: str, current: str, target: str) -> None:
        current, target = str(current), str(target)  # a state enum's value, not its repr
        super().__init__(f"{kind} {ident!r} cannot go from {current!r} to {target!r}")
        self.kind = kind
        self.ident = ident
        self.current = current
        self.target = target


class StaleUpdate(Conflict):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} was changed by someone else; reload and retry")
        self.kind = kind
        self.ident = ident


class InvalidInput(FabnetError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class BadMesh(InvalidInput):
    pass


class PayloadTooLarge(InvalidInput):
    def __init__(self, field: str, limit_bytes: int) -> None:
        super().__init__(field, f"larger than the limit of {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


class CapabilityMismatch(FabnetError):
    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason


class Unauthorized(FabnetError):
    pass


class Forbidden(FabnetError):
    pass


class LimitExceeded(FabnetError):
    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit  # the setting that sets it, e.g. max_open_units_per_consumer


class ExternalSystemError(FabnetError):
    def __init__(self, system: str, message: str) -> None:
        super().__init__(f"{system}: {message}")
        self.system = system


class SlicerFailed(ExternalSystemError):
    pass


class BrokerUnavailable(ExternalSystemError):
    pass


class MachineUnreachable(ExternalSystemError):
    pass

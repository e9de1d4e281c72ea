"""The MQTT topic catalogue: every topic fabnet uses, built and parsed here only.

::

    fabnet/v1/<producer>/presence              agent -> hub   retained, QoS 1, last will
    fabnet/v1/<producer>/<machine>/state       agent -> hub   retained, QoS 1
    fabnet/v1/<producer>/<machine>/telemetry   agent -> hub   QoS 0, every heartbeat
    fabnet/v1/<producer>/<machine>/events      agent -> hub   QoS 1, ordered by seq
    fabnet/v1/<producer>/<machine>/commands    hub -> agent   QoS 1

A producer's broker account is named after its producer id; the broker's ACL lets it
write only the first four under its own id and read only its own commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ROOT = "fabnet/v1"


class Kind(StrEnum):
    PRESENCE = "presence"
    STATE = "state"
    TELEMETRY = "telemetry"
    EVENTS = "events"
    COMMANDS = "commands"


QOS = {Kind.PRESENCE: 1, Kind.STATE: 1, Kind.TELEMETRY: 0, Kind.EVENTS: 1, Kind.COMMANDS: 1}
RETAINED = frozenset({Kind.PRESENCE, Kind.STATE})


@dataclass(frozen=True, slots=True)
class Topic:
    producer_id: str
    machine_id: str | None
    kind: Kind

    def __str__(self) -> str:
        if self.machine_id is None:
            return f"{ROOT}/{self.producer_id}/{self.kind.value}"
        return f"{ROOT}/{self.producer_id}/{self.machine_id}/{self.kind.value}"


def machine_topic(producer_id: str, machine_id: str, kind: Kind) -> str:
    return str(Topic(producer_id, machine_id, kind))


def presence_topic(producer_id: str) -> str:
    return str(Topic(producer_id, None, Kind.PRESENCE))


def parse(topic: str) -> Topic | None:
    """The topic's parts, or None when it is not one of ours."""
    parts = topic.split("/")
    if len(parts) < 4 or "/".join(parts[:2]) != ROOT or any(not p for p in parts):
        return None
    try:
        kind = Kind(parts[-1])
    except ValueError:
        return None
    if len(parts) == 4 and kind is Kind.PRESENCE:
        return Topic(parts[2], None, kind)
    if len(parts) == 5 and kind is not Kind.PRESENCE:
        return Topic(parts[2], parts[3], kind)
    return None


# what the hub subscribes to (shared subscriptions can split these across replicas)
HUB_SUBSCRIPTIONS = (
    f"{ROOT}/+/+/{Kind.STATE.value}",
    f"{ROOT}/+/+/{Kind.TELEMETRY.value}",
    f"{ROOT}/+/+/{Kind.EVENTS.value}",
    f"{ROOT}/+/{Kind.PRESENCE.value}",
)


def agent_subscription(producer_id: str) -> str:
    return f"{ROOT}/{producer_id}/+/{Kind.COMMANDS.value}"


def acl_lines(hub_user: str) -> list[str]:
    """A Mosquitto ACL file: the hub reads and writes everything under the root; each
    producer (username = producer id) writes its own state, telemetry, events and
    presence and reads its own commands, nothing else."""
    return [
        f"user {hub_user}",
        f"topic readwrite {ROOT}/#",
        "",
        f"pattern write {ROOT}/%u/presence",
        f"pattern write {ROOT}/%u/+/state",
        f"pattern write {ROOT}/%u/+/telemetry",
        f"pattern write {ROOT}/%u/+/events",
        f"pattern read {ROOT}/%u/+/commands",
    ]

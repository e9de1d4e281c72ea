"""The agent lets go of the machine links it made from its config when it stops; links
handed to it belong to the caller, who closes them."""

from __future__ import annotations

from fabnet.adapters.octoprint import FakeMachineLink, OctoPrintLink
from fabnet.entrypoints.agent.agent import Agent
from fabnet.entrypoints.agent.config import AgentConfig, MachineConfig


class _Client:
    """An MQTT client that is never started: stop() only says goodbye to it."""

    def __init__(self) -> None:
        self.stopped = False

    def publish(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass

    def stop(self) -> None:
        self.stopped = True


class _Counted(FakeMachineLink):
    def __init__(self) -> None:
        super().__init__(print_s=1.0)
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def _config(tmp_path) -> AgentConfig:  # type: ignore[no-untyped-def]
    machines = [
        MachineConfig(id="mk4", url="http://127.0.0.1:9", api_key="k"),
        MachineConfig(id="mini", link="fake"),
    ]
    return AgentConfig(producer_id="anna", data_dir=tmp_path, machines=machines)


def test_links_made_from_the_config_are_closed_when_the_agent_stops(tmp_path):
    client = _Client()
    agent = Agent(_config(tmp_path), client=client, fetch=lambda spec: ("p.gcode", b""))
    octoprint = agent.links["mk4"]
    assert isinstance(octoprint, OctoPrintLink) and not octoprint._http.is_closed
    agent.stop()
    assert client.stopped and octoprint._http.is_closed


def test_links_handed_to_the_agent_stay_open_for_their_owner(tmp_path):
    given = {"mk4": _Counted(), "mini": _Counted()}
    agent = Agent(_config(tmp_path), links=given, client=_Client(), fetch=lambda s: ("p", b""))
    agent.stop()
    assert [link.closed for link in given.values()] == [0, 0]

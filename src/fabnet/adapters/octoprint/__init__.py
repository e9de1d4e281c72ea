"""Machines behind the MachineLink port: OctoPrint's REST API, and a fake printer."""

from fabnet.adapters.octoprint.fake import FakeMachineLink
from fabnet.adapters.octoprint.link import OctoPrintLink

__all__ = ["FakeMachineLink", "OctoPrintLink"]

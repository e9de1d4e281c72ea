"""OctoPrint's REST API behind the MachineLink port (tested against OctoPrint 1.11 and its
virtual printer)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from fabnet.domain.errors import MachineUnreachable
from fabnet.services.ports import LinkStatus

_WAIT_HEAT = re.compile(rb"^(M109|M190)\b", re.MULTILINE)


def speed_up_for_virtual(gcode: bytes) -> bytes:
    """OctoPrint's virtual printer sleeps for a share of each move's real time; feed and
    flow overrides and no waiting for heat make a sliced part print in seconds."""
    fast = _WAIT_HEAT.sub(lambda m: b"M104" if m.group(1) == b"M109" else b"M140", gcode)
    return b"M220 S100000\nM221 S100000\n" + fast


class OctoPrintLink:
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        port: str = "AUTO",
        baudrate: int | None = None,
        timeout_s: float = 10.0,
        virtual: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        self.port = port
        self.baudrate = baudrate
        self.virtual = virtual
        self._http = httpx.Client(
            base_url=self.url, headers={"X-Api-Key": api_key}, timeout=timeout_s
        )

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise MachineUnreachable("octoprint", f"{self.url}: {exc}") from None
        if response.status_code in (401, 403):
            raise MachineUnreachable("octoprint", f"{self.url}: the API key is not accepted")
        return response

    def connect(self) -> None:
        body: dict[str, Any] = {"command": "connect", "port": self.port, "autoconnect": True}
        if self.baudrate:
            body["baudrate"] = self.baudrate
        self._call("POST", "/api/connection", json=body)

    def status(self) -> LinkStatus:
        printer = self._call("GET", "/api/printer")
        if printer.status_code == 409:  # "printer is not operational": not connected
            self.connect()
            return LinkStatus("offline", error="not connected; connecting")
        if printer.status_code != 200:
            raise MachineUnreachable("octoprint", f"/api/printer answered {printer.status_code}")
        data = printer.json()
        flags = data.get("state", {}).get("flags", {})
        temps = {
            name: (float(t.get("actual") or 0.0), float(t.get("target") or 0.0))
            for name, t in data.get("temperature", {}).items()
            if isinstance(t, dict) and name in ("tool0", "tool1", "bed", "chamber")
        }
        job = self._call("GET", "/api/job").json()
        completion = (job.get("progress") or {}).get("completion")
        progress = None if completion is None else max(0.0, min(1.0, completion / 100))
        name = ((job.get("job") or {}).get("file") or {}).get("name")
        if flags.get("error") or (flags.get("closedOrError") and not flags.get("operational")):
            state = "error"
        elif flags.get("paused") and not flags.get("pausing"):
            state = "paused"
        elif flags.get("printing") or flags.get("cancelling") or flags.get("pausing"):
            state = "printing"
        elif flags.get("operational"):
            state = "idle"
        else:
            state = "offline"
        error = data.get("state", {}).get("error") or "" if state == "error" else ""
        return LinkStatus(state, progress, temps, name, str(error))

    def upload(self, name: str, gcode: bytes) -> None:
        data = speed_up_for_virtual(gcode) if self.virtual else gcode
        r = self._call("POST", "/api/files/local", files={"file": (name, data)})
        if r.status_code not in (200, 201):
            raise MachineUnreachable("octoprint", f"upload of {name} answered {r.status_code}")

    def start(self, name: str) -> None:
        r = self._call(
            "POST", f"/api/files/local/{name}", json={"command": "select", "print": True}
        )
        if r.status_code != 204:
            raise MachineUnreachable("octoprint", f"start of {name} answered {r.status_code}")

    def _job(self, body: dict[str, Any]) -> None:
        r = self._call("POST", "/api/job", json=body)
        if r.status_code not in (204, 409):  # 409: nothing to cancel/pause: fine
            raise MachineUnreachable("octoprint", f"job command answered {r.status_code}")

    def cancel(self) -> None:
        self._job({"command": "cancel"})

    def pause(self) -> None:
        self._job({"command": "pause", "action": "pause"})

    def resume(self) -> None:
        self._job({"command": "pause", "action": "resume"})

    def close(self) -> None:
        self._http.close()

"""The whole story on real parts: an order is planned, the agent slices the design with
PrusaSlicer for its machine, uploads it to OctoPrint's virtual printer, prints it to the
end, and the hub sees the job done."""

from __future__ import annotations

import httpx
import pytest

from fabnet.adapters.octoprint import OctoPrintLink
from fabnet.adapters.slicer import PrusaSlicer
from fabnet.domain.states import JobState, MachineStatus
from tests.integration.octoprint import octoprint
from tests.integration.site import Site, wait_for


@pytest.fixture(scope="module")
def printer_server(tmp_path_factory):
    with octoprint(tmp_path_factory.mktemp("octoprint")) as server:
        yield server


@pytest.fixture
def link(printer_server):
    """A link to the virtual printer as a user's would be (G-code not sped up), closed
    after the test."""
    url, key = printer_server
    made = OctoPrintLink(url, key, port="VIRTUAL", virtual=False)
    yield made
    made.close()


def test_a_sliced_part_prints_to_completion_through_the_agent(tmp_path, printer_server):
    url, key = printer_server
    site = Site(tmp_path)
    link = OctoPrintLink(url, key, port="VIRTUAL", virtual=True)
    try:
        site.producer("anna", "anna-mk4")
        site.start()
        agent = site.agent("anna", {"anna-mk4": link}, slicer=PrusaSlicer())
        order = site.order(site.design(size=(12, 12, 3), label="washer"))
        job = wait_for(lambda: (site.jobs(order) or [None])[0], what="a job")
        wait_for(lambda: site.job_state(job.id) is JobState.RUNNING, timeout_s=60, what="running")
        wait_for(lambda: site.job_state(job.id) is JobState.DONE, timeout_s=120, what="printed")
        files = httpx.get(f"{url}/api/files/local", headers={"X-Api-Key": key}).json()
        names = [f["name"] for f in files["files"]]
        assert f"{job.id}-1.gcode" in names
        with site.app.new_uow() as uow:
            assert uow.machines.get(job.machine_id).status is MachineStatus.IDLE
            done = [e for e in uow.order_events(order) if type(e).__name__ == "UnitsMade"]
        assert len(done) == 1
        started = [e for e in agent.store.sent_events() if e.type.value == "started"]
        assert started and len(started[0].profile_hash) == 64  # the G-code's hash
        live = wait_for(
            lambda: (s := site.app.telemetry.get(job.machine_id)) is not None and s.temps and s,
            what="temperatures from the printer",
        )
        assert set(live.temps) <= {"tool0", "bed"}
    finally:
        site.close()
        link.close()


def test_octoprint_link_reports_a_cancelled_print(link):
    wait_for(lambda: link.status().state == "idle", timeout_s=30, what="connected")
    gcode = b"G28\n" + b"G4 P250\nG1 X10 Y10 F600\n" * 200  # dwells: about 50 s
    link.upload("slow.gcode", gcode)
    link.start("slow.gcode")
    wait_for(lambda: link.status().state == "printing", timeout_s=30, what="printing")
    link.pause()
    wait_for(lambda: link.status().state == "paused", timeout_s=30, what="paused")
    link.resume()
    wait_for(lambda: link.status().state == "printing", timeout_s=30, what="printing again")
    link.cancel()
    status = wait_for(lambda: (s := link.status()).state == "idle" and s, timeout_s=30)
    assert status.progress is None or status.progress < 1.0


def _record(link, seconds: float, every_s: float = 0.5):
    """Telemetry samples of the print running on the virtual printer, as the agent reads
    them (state, progress, temperatures), with their time since the first."""
    import time

    from fabnet.fabrication.anomaly import Sample

    start, samples = time.monotonic(), []
    while time.monotonic() - start < seconds:
        status = link.status()
        samples.append(
            Sample(time.monotonic() - start, status.state, status.progress, dict(status.temps))
        )
        if status.state == "idle" and samples[-1].at_s > 2:
            break
        time.sleep(every_s)
    return samples


def _flags(samples, expected_s: float):
    from fabnet.fabrication.anomaly import DetectorSettings, JobWatch

    # thresholds scaled to a trace of a minute (the defaults are for prints of hours)
    rules = DetectorSettings(temp_band_c=15, temp_hold_s=5, stall_s=12, min_elapsed_s=10)
    watch = JobWatch(expected_s, rules)
    return [f for s in samples for f in watch.feed(s)]


def test_recorded_virtual_printer_traces_normal_and_stalled(link):
    """Traces recorded from OctoPrint's virtual printer: a normal print (heating, moves) is
    not flagged; a print stuck in a long dwell (its progress stops) is flagged as a stall."""
    wait_for(lambda: link.status().state == "idle", timeout_s=30, what="connected")
    heat = b"M104 S200\nM140 S60\nM109 S200\nM190 S60\nG28\n"
    moves = b"G1 X10 Y10 F3000\nG1 X50 Y50 F3000\nG4 P200\n" * 60
    link.upload("normal.gcode", heat + moves)
    link.start("normal.gcode")
    wait_for(lambda: link.status().state == "printing", timeout_s=30, what="printing")
    normal = _record(link, 90)
    assert len(normal) > 20 and any(s.temps for s in normal)
    assert _flags(normal, expected_s=max(normal[-1].at_s, 1.0)) == []
    wait_for(lambda: link.status().state == "idle", timeout_s=60, what="done")

    stuck = heat + b"G1 X10 Y10 F3000\n" * 40 + b"G4 S40\n" + b"G1 X20 Y20 F3000\n" * 40
    link.upload("stuck.gcode", stuck)
    link.start("stuck.gcode")
    wait_for(lambda: link.status().state == "printing", timeout_s=30, what="printing")
    stalled = _record(link, 45)
    link.cancel()
    kinds = [f.kind for f in _flags(stalled, expected_s=10.0)]
    assert "stall" in kinds, [(s.at_s, s.progress) for s in stalled][-10:]

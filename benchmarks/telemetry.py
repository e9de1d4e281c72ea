"""Telemetry ingest and dispatch latency, on a Mosquitto started for the run.

    python benchmarks/telemetry.py [--json] [--machines 10000] [--seconds 10] [--jobs 10]

msgs_per_s: telemetry messages per second that the hub ingested (parsed, checked
against the machine directory, written to the store as each machine's latest state in
batched upserts; SQLite, the embedded default), sent by simulated agents in separate
processes (one broker account per producer, the production ACL), over the steady window.
loopback_msgs_per_s: plain paho publishers and one plain paho subscriber that only
counts, same broker, same payloads, same run: the ceiling.
dispatch_p50_s / dispatch_p95_s: from an order placed (planned and offered at once) to
the print running on OctoPrint's virtual printer, through the broker, the agent (which
accepts, slices with PrusaSlicer, uploads) and OctoPrint.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import OPERATOR, facility, printer

from fabnet.adapters.mqtt.mosquitto import MosquittoBroker
from fabnet.bootstrap import bootstrap, connect_machines
from fabnet.config import Settings
from fabnet.domain.topics import Kind, machine_topic
from fabnet.services import commands as cmd
from fabnet.services.ports import SystemClock

PER_PRODUCER = 50


def payload(machine_id: str, i: int) -> bytes:
    return json.dumps(
        {
            "machine_id": machine_id,
            "at": datetime.now(UTC).isoformat(),
            "state": "printing",
            "job_id": None,
            "progress": (i % 100) / 100,
            "temps": {"tool0": [210.1, 210.0], "bed": [60.2, 60.0]},
        },
        separators=(",", ":"),
    ).encode()


def publisher(
    url: str,
    accounts: list[tuple[str, str, list[str]]],
    seconds: float,
    out: mp.Queue,  # type: ignore[type-arg]
    rate: float = 0.0,
) -> None:
    host, port = url.removeprefix("mqtt://").split(":")
    clients = []
    for pid, password, machines in accounts:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{pid}", protocol=mqtt.MQTTv5)
        c.username_pw_set(pid if password else None, password or None)
        c.max_queued_messages_set(0)
        c.connect(host, int(port))
        c.loop_start()
        topics = [(machine_topic(pid, m, Kind.TELEMETRY), m) for m in machines]
        clients.append((c, topics))
    time.sleep(0.5)
    sent = 0
    start = time.monotonic()
    end = start + seconds
    i = 0
    while time.monotonic() < end:
        for c, topics in clients:
            for topic, machine_id in topics:
                c.publish(topic, payload(machine_id, i), qos=0)
                sent += 1
            if rate:  # paced: every machine reports at its interval, no faster
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        i += 1
    for c, _ in clients:
        c.loop_stop()
        c.disconnect()
    out.put(sent)


def ingest(args: argparse.Namespace, root: Path) -> dict[str, float]:
    settings = Settings(data_dir=root / "hub", mqtt_password="hub-pw")
    app = bootstrap(settings, clock=SystemClock())
    bus = app.bus()
    producers: dict[str, list[str]] = {}
    for p in range(args.machines // PER_PRODUCER):
        specs = [printer(f"p{p}-m{j}") for j in range(PER_PRODUCER)]
        pid = bus.handle(cmd.RegisterProducer(OPERATOR, facility(f"maker {p}", 52.5, 13.4, *specs)))
        producers[pid] = []
    with app.new_uow() as uow:
        for m in uow.machines.all():
            producers[m.producer_id].append(m.id)
    accounts = {pid: f"pw-{pid[-6:]}" for pid in producers}
    broker = MosquittoBroker(root / "broker", {"hub": "hub-pw", **accounts}).start()
    app.settings = settings.model_copy(update={"mqtt_url": broker.url})
    try:
        bridge = connect_machines(app)
        assert bridge is not None
        items = [(pid, accounts[pid], ms) for pid, ms in producers.items()]
        procs = args.publishers
        chunks = [items[i::procs] for i in range(procs)]
        out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        rate = args.rate / procs if args.rate else 0.0
        workers = [
            mp.Process(target=publisher, args=(broker.url, chunk, args.seconds, out, rate))
            for chunk in chunks
        ]
        for w in workers:
            w.start()
        time.sleep(1.5)  # connected and sending
        start_count, t0 = bridge.accepted, time.monotonic()
        time.sleep(max(args.seconds - 2.5, 1.0))
        count, t1 = bridge.accepted, time.monotonic()
        sent = sum(out.get() for _ in workers)
        for w in workers:
            w.join()
        time.sleep(1.5)  # the last messages in, the last batch written
        bridge.flush()
        rate = (count - start_count) / (t1 - t0)
        with app.new_uow():
            pass
        states = [app.telemetry.get(m) for ms in producers.values() for m in ms[:5]]
        current = sum(1 for s in states if s is not None) / len(states)
        return {
            "machines": sum(len(v) for v in producers.values()),
            "offered_per_s": args.rate or "flood",
            "sent": sent,
            "kept_up_share": round(bridge.ingested / sent, 4),
            "ingested": bridge.ingested,
            "dropped": sum(bridge.counters.seen.values()),
            "msgs_per_s": round(rate),
            "state_current_share": round(current, 3),
        }
    finally:
        app.close()
        broker.stop()


def subscriber(url: str, seconds: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    host, port = url.removeprefix("mqtt://").split(":")
    counted = [0]
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-sink", protocol=mqtt.MQTTv5)
    c.username_pw_set("hub", "hub-pw")
    c.on_message = lambda *_: counted.__setitem__(0, counted[0] + 1)
    c.connect(host, int(port))
    c.subscribe("fabnet/v1/+/+/telemetry", qos=0)
    c.loop_start()
    time.sleep(1.5)
    start = counted[0]
    t0 = time.monotonic()
    time.sleep(max(seconds - 2.5, 1.0))
    out.put((counted[0] - start) / (time.monotonic() - t0))
    c.loop_stop()


def loopback(args: argparse.Namespace, root: Path) -> float:
    machines = args.machines
    producers = [f"prd_{i:06d}" for i in range(machines // PER_PRODUCER)]
    accounts = dict.fromkeys(producers, "pw")
    broker = MosquittoBroker(root / "loop", {"hub": "hub-pw", **accounts}).start()
    try:
        out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        sink = mp.Process(target=subscriber, args=(broker.url, args.seconds, out))
        sink.start()
        time.sleep(0.5)
        items = [(p, "pw", [f"mch_{p[-6:]}_{j}" for j in range(PER_PRODUCER)]) for p in producers]
        chunks = [items[i :: args.publishers] for i in range(args.publishers)]
        done: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        workers = [
            mp.Process(target=publisher, args=(broker.url, c, args.seconds, done)) for c in chunks
        ]
        for w in workers:
            w.start()
        rate = float(out.get())
        for w in workers:
            w.join()
        sink.join()
        return rate
    finally:
        broker.stop()


def dispatch(args: argparse.Namespace, root: Path) -> list[float]:
    from tests.integration.octoprint import octoprint
    from tests.integration.site import Site, wait_for

    from fabnet.adapters.octoprint import OctoPrintLink
    from fabnet.adapters.slicer import PrusaSlicer
    from fabnet.domain.states import JobState

    site = Site(root / "dispatch")
    site.producer("anna", "anna-mk4")
    site.start()
    times: list[float] = []
    try:
        with octoprint(root / "octoprint") as (url, key):
            link = OctoPrintLink(url, key, port="VIRTUAL", virtual=True)
            wait_for(lambda: link.status().state == "idle", timeout_s=60, what="printer connected")
            site.agent("anna", {"anna-mk4": link}, slicer=PrusaSlicer())
            design = site.design(size=(12, 12, 2), label="tag")
            for _ in range(args.jobs):
                t0 = time.monotonic()
                order = site.order(design)
                wait_for(lambda: link.status().state == "printing", timeout_s=60, what="printing")
                times.append(time.monotonic() - t0)
                job = site.jobs(order)[0]
                wait_for(lambda j=job: site.job_state(j.id) is JobState.DONE, timeout_s=120)
                site.app.bus().handle(cmd.SendMachineCommand(OPERATOR, job.machine_id, "bed_clear"))
    finally:
        site.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--machines", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--publishers", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument(
        "--rate",
        type=float,
        default=None,
        help="offered telemetry msgs/s (default: every machine once a second; 0: flood)",
    )
    args = ap.parse_args()
    if args.rate is None:
        args.rate = float(args.machines)  # ten thousand printers reporting every second
    with tempfile.TemporaryDirectory(prefix="fabnet-telemetry-") as tmp:
        root = Path(tmp)
        figures: dict[str, object] = dict(ingest(args, root))
        figures["loopback_msgs_per_s"] = round(loopback(args, root))
        figures["ingest_over_loopback"] = round(
            figures["msgs_per_s"] / figures["loopback_msgs_per_s"],
            3,  # type: ignore[operator]
        )
        times = dispatch(args, root) if args.jobs else []
    if times:
        ordered = sorted(times)
        figures["dispatch_jobs"] = len(times)
        figures["dispatch_p50_s"] = round(statistics.median(times), 3)
        figures["dispatch_p95_s"] = round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 3)
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        print()
    else:
        for key, value in figures.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()

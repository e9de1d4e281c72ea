"""The whole loop as separate processes, as they run for real: `fabnet serve` joined to a
Mosquitto with per-producer accounts, a producer's `fabnet agent` (a fake printer, the
real PrusaSlicer, designs fetched from the hub over HTTP), and a consumer over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx

from fabnet.adapters.mqtt.mosquitto import MosquittoBroker, free_port
from fabnet.sim.parts import box_stl
from tests.integration.site import wait_for


def _run(args, env):
    out = subprocess.run(
        [sys.executable, "-m", "fabnet", *args], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_an_order_is_made_by_an_agent_process_through_serve_and_the_broker(tmp_path):
    broker = MosquittoBroker(tmp_path / "broker", {"hub": "hub-pw"}).start()
    port = free_port()
    env = os.environ | {
        "FABNET_DATA_DIR": str(tmp_path / "hub"),
        "FABNET_MQTT_URL": broker.url,
        "FABNET_MQTT_PASSWORD": "hub-pw",
        "FABNET_HEARTBEAT_TIMEOUT_S": "20",
        "FABNET_HEARTBEAT_SWEEP_S": "1",
    }
    env.pop("FABNET_DATABASE_URL", None)
    operator = json.loads(
        _run(["keys", "create", "--role", "operator", "--name", "ops", "--json"], env)
    )
    consumer = json.loads(
        _run(["keys", "create", "--role", "consumer", "--name", "c", "--json"], env)
    )
    serve_log = (tmp_path / "serve.log").open("w")
    hub = subprocess.Popen(
        [sys.executable, "-m", "fabnet", "serve", "--port", str(port)],
        env=env, stdout=serve_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    agent = None
    base = f"http://127.0.0.1:{port}"
    ops = {"X-API-Key": operator["secret"]}
    try:
        wait_for(lambda: _up(base), timeout_s=60, what="the hub")
        body = {
            "name": "anna's workshop",
            "location": {"lat": 52.5, "lon": 13.4},
            "machines": [{"name": "mk4", "process": "fdm", "materials": ["PLA"],
                          "build_volume_mm": [250, 210, 220]}],
        }  # fmt: skip
        producer = httpx.post(f"{base}/producers", json=body, headers=ops).raise_for_status().json()
        machine = httpx.get(f"{base}/machines", headers=ops).json()["items"][0]["id"]
        key = httpx.post(
            f"{base}/keys",
            json={"name": "anna", "role": "producer", "producer_id": producer["id"]},
            headers=ops,
        ).json()
        broker.add_account(producer["id"], "anna-pw")
        config = tmp_path / "agent.toml"
        config.write_text(
            f'producer_id = "{producer["id"]}"\nheartbeat_s = 0.5\npoll_s = 0.1\n'
            f'[broker]\nurl = "{broker.url}"\npassword = "anna-pw"\n'
            f'[hub]\nurl = "{base}"\napi_key = "{key["secret"]}"\n'
            f'[[machines]]\nid = "{machine}"\nlink = "fake"\nprint_s = 1.0\n'
        )
        agent_log = (tmp_path / "agent.log").open("w")
        agent = subprocess.Popen(
            [sys.executable, "-m", "fabnet", "agent", "--config", str(config)],
            env=env, stdout=agent_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        me = {"X-API-Key": consumer["secret"]}
        design = (
            httpx.post(
                f"{base}/designs", files={"file": ("tag.stl", box_stl(15, 15, 3))}, headers=me
            )
            .raise_for_status()
            .json()
        )
        deadline = (datetime.now(UTC) + timedelta(days=10)).isoformat()
        line = {"design_id": design["id"], "material": "PLA", "quantity": 1,
                "deadline": deadline, "destination": {"lat": 52.5, "lon": 13.4}}  # fmt: skip
        order = (
            httpx.post(f"{base}/orders", json={"lines": [line]}, headers=me)
            .raise_for_status()
            .json()
        )
        wait_for(
            lambda: (
                httpx.get(f"{base}/orders/{order['id']}", headers=me).json()["state"] == "fulfilled"
            ),
            timeout_s=90,
            what="the order made",
        )
        live = httpx.get(f"{base}/machines/{machine}/live", headers=ops)
        assert live.status_code == 200 and live.json()["messages"] >= 1
        paused = httpx.post(
            f"{base}/machines/{machine}/commands", json={"type": "bed_clear"}, headers=ops
        )
        assert paused.status_code == 202 and paused.json()["command_id"]
        other = httpx.post(
            f"{base}/machines/{machine}/commands", json={"type": "explode"}, headers=ops
        )
        assert other.status_code == 422 and other.json()["error"]["field"] == "type"
    finally:
        if agent is not None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(20)
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(20)
        except subprocess.TimeoutExpired:
            hub.kill()
        broker.stop()
        serve_log.close()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        time.sleep(0.1)
        return False

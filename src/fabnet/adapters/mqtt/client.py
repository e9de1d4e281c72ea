"""A small MQTT 5 client over paho-mqtt: connect with a persistent session, publish and
learn the broker's verdict (PUBACK reason code), subscribe and learn the granted QoS,
receive with manual acknowledgement, and reconnect by itself."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from fabnet.domain.errors import BrokerUnavailable, InvalidInput

log = logging.getLogger(__name__)
NOT_AUTHORIZED = 135
NO_SUBSCRIBERS = 16  # accepted, but no subscription matched: nobody will receive it


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    mid: int
    retain: bool


def parse_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise InvalidInput("broker.url", f"{url!r}: use mqtt://host:port")
    return parts.hostname, parts.port or 1883


class MqttClient:
    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        clean_start: bool = False,
        session_expiry_s: int = 24 * 3600,
        will: tuple[str, bytes] | None = None,
        manual_ack: bool = False,
        keepalive_s: int = 5,
    ) -> None:
        self.host, self.port = parse_url(url)
        self.clean_start = clean_start
        self.session_expiry_s = session_expiry_s
        self.keepalive_s = keepalive_s
        self.connected = threading.Event()
        self._answered = threading.Event()
        self.refused: str | None = None
        self.handler: Callable[[Message], None] | None = None
        self.on_connected: Callable[[], None] | None = None
        self._acks: dict[int, tuple[threading.Event, list[int]]] = {}
        # answers that came before anyone waited, with when (packet ids wrap: a stale one
        # for an earlier packet of the same id is older than any real race)
        self._early: dict[int, tuple[float, list[int]]] = {}
        self._lock = threading.Lock()  # guards our dicts only; paho is never called under it
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        if will is not None:
            self._client.will_set(will[0], will[1], qos=1, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.max_inflight_messages_set(100)
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._connected
        self._client.on_disconnect = self._disconnected
        self._client.on_message = self._message
        self._client.on_publish = self._published
        self._client.on_subscribe = self._subscribed

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry_s
        try:
            self._client.connect(
                self.host,
                self.port,
                keepalive=self.keepalive_s,
                clean_start=self.clean_start,
                properties=props,
            )
        except OSError as exc:
            raise BrokerUnavailable("mqtt", f"{self.host}:{self.port}: {exc}") from None
        self._client.loop_start()
        if not self._answered.wait(timeout_s) or self.refused:
            self._client.loop_stop()
            self._client.disconnect()
            why = f"refused: {self.refused}" if self.refused else "no CONNACK"
            raise BrokerUnavailable("mqtt", f"{self.host}:{self.port}: {why}")

    def stop(self) -> None:
        """Disconnect cleanly: the broker does not publish the last will."""
        self._client.disconnect()
        self._client.loop_stop()

    def kill(self) -> None:
        """Drop the connection as a crash would: the broker publishes the last will."""
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()

    # -- publish / subscribe -----------------------------------------------------------

    def publish(
        self, topic: str, payload: bytes, *, qos: int, retain: bool = False, wait_s: float = 0
    ) -> int | None:
        """Publish; with ``wait_s`` wait for the broker's verdict and return its reason
        code (under 128: accepted, e.g. 16 "no subscribers"; 135: not authorised); None
        when no verdict came in time."""
        # paho holds its own locks while it calls back; never call paho under ours
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            raise BrokerUnavailable(
                "mqtt", f"publish refused locally: {mqtt.error_string(info.rc)}"
            )
        if not wait_s or qos == 0:
            return None
        return self._verdict(info.mid, wait_s)

    def _verdict(self, mid: int, wait_s: float) -> int | None:
        done = threading.Event()
        codes: list[int] = []
        with self._lock:
            early = self._fresh_early(mid)
            if early is not None:  # the answer came before we asked
                return early[0] if early else 0
            self._acks[mid] = (done, codes)
        if not done.wait(wait_s):
            with self._lock:
                self._acks.pop(mid, None)
            return None
        return codes[0] if codes else 0

    def subscribe(self, topics: list[tuple[str, int]], wait_s: float = 5.0) -> list[int]:
        """Subscribe; the granted QoS per topic (128 or more: refused). ``wait_s=0`` does
        not wait (and returns []): the only way from inside a paho callback."""
        rc, mid = self._client.subscribe(topics)
        if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise BrokerUnavailable("mqtt", "subscribe failed: not connected")
        if not wait_s:
            return []
        done = threading.Event()
        codes: list[int] = []
        with self._lock:
            early = self._fresh_early(mid)
            if early is not None:
                return early
            self._acks[mid] = (done, codes)
        if not done.wait(wait_s):
            raise BrokerUnavailable("mqtt", "no SUBACK")
        return codes

    def ack(self, mid: int, qos: int) -> None:
        self._client.ack(mid, qos)

    # -- paho callbacks ----------------------------------------------------------------

    def _connected(
        self, client: mqtt.Client, userdata: object, flags: object, rc: ReasonCode, props: object
    ) -> None:
        if rc.is_failure:
            log.warning("mqtt connect to %s:%s refused: %s", self.host, self.port, rc)
            if not self._answered.is_set():
                self.refused = str(rc)
                self._answered.set()
            return
        self.connected.set()
        self._answered.set()
        if self.on_connected is not None:
            self.on_connected()

    def _disconnected(
        self, client: mqtt.Client, userdata: object, flags: object, rc: ReasonCode, props: object
    ) -> None:
        self.connected.clear()

    def _message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if self.handler is not None:
            self.handler(Message(msg.topic, bytes(msg.payload), msg.qos, msg.mid, bool(msg.retain)))

    def _published(
        self, client: mqtt.Client, userdata: object, mid: int, rc: ReasonCode, props: object
    ) -> None:
        self._answer(mid, [rc.value])

    def _subscribed(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        codes: list[ReasonCode],
        props: object,
    ) -> None:
        self._answer(mid, [c.value for c in codes])

    def _fresh_early(self, mid: int) -> list[int] | None:
        found = self._early.pop(mid, None)
        if found is None or time.monotonic() - found[0] > 5.0:
            return None
        return found[1]

    def _answer(self, mid: int, codes: list[int]) -> None:
        with self._lock:
            waiter = self._acks.pop(mid, None)
            if waiter is None:
                self._early[mid] = (time.monotonic(), codes)
                if len(self._early) > 10_000:  # answers nobody waits for (QoS 0, no wait)
                    self._early.pop(next(iter(self._early)))
                return
        waiter[1].extend(codes)
        waiter[0].set()

"""Run a Mosquitto broker of our own: one account per producer (username = producer id),
one for the hub, and the ACL of domain/topics.py. Used by the tests and benchmarks (on a
free port, leaving the machine's broker alone) and as a template for operators."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from fabnet.domain.errors import BrokerUnavailable
from fabnet.domain.topics import acl_lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class MosquittoBroker:
    def __init__(
        self,
        workdir: Path,
        accounts: dict[str, str],
        *,
        hub_user: str = "hub",
        port: int | None = None,
        executable: str = "mosquitto",
    ) -> None:
        """``accounts``: username -> password, the hub's included."""
        self.dir = workdir
        self.accounts = accounts
        self.hub_user = hub_user
        self.port = port or free_port()
        found = shutil.which(executable) or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        if found is None:
            raise BrokerUnavailable("mosquitto", "not installed (apt install mosquitto)")
        self.executable = found
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "data").mkdir(exist_ok=True)
        passwd = self.dir / "passwd"
        passwd.write_text("")
        for user, password in self.accounts.items():
            subprocess.run(
                ["mosquitto_passwd", "-b", str(passwd), user, password],
                check=True,
                capture_output=True,
            )
        acl = self.dir / "acl"
        acl.write_text("\n".join(acl_lines(self.hub_user)) + "\n")
        conf = self.dir / "mosquitto.conf"
        conf.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous false",
                    f"password_file {passwd}",
                    f"acl_file {acl}",
                    "persistence true",
                    f"persistence_location {self.dir / 'data'}/",
                    "autosave_interval 1",
                    "max_queued_messages 1000000",
                    "max_inflight_messages 0",
                    f"log_dest file {self.dir / 'mosquitto.log'}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "user root",
                ]
            )
            + "\n"
        )
        return conf

    def add_account(self, user: str, password: str) -> None:
        """A new producer: into the password file, and the running broker reloads it."""
        self.accounts[user] = password
        subprocess.run(
            ["mosquitto_passwd", "-b", str(self.dir / "passwd"), user, password],
            check=True,
            capture_output=True,
        )
        if self.process is not None:
            self.process.send_signal(signal.SIGHUP)
            time.sleep(0.2)

    def start(self, timeout_s: float = 10.0) -> MosquittoBroker:
        conf = self.dir / "mosquitto.conf"
        if not conf.exists():
            self.write_config()
        self.process = subprocess.Popen(
            [self.executable, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.dir / "mosquitto.log").read_text(errors="replace")[-500:]
                raise BrokerUnavailable("mosquitto", f"exited: {log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise BrokerUnavailable("mosquitto", f"not listening on {self.port}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop(kill=True)
        self.start()

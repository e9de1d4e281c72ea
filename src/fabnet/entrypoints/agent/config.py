"""agent.toml: who the producer is, how to reach the broker and the hub, its machines."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from fabnet.domain.errors import InvalidInput


class BrokerConfig(BaseModel):
    url: str = "mqtt://127.0.0.1:1883"
    username: str = ""  # default: the producer id
    password: str = ""


class HubConfig(BaseModel):
    url: str = "http://127.0.0.1:8000"
    api_key: str = ""


class MachineConfig(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    link: Literal["octoprint", "fake"] = "octoprint"
    url: str = ""
    api_key: str = ""
    port: str = "AUTO"  # OctoPrint's serial port ("VIRTUAL" for its virtual printer)
    virtual: bool = False  # speed G-code up for OctoPrint's virtual printer
    print_s: float = Field(default=2.0, gt=0)  # the fake printer's print time
    bed_x_mm: float = Field(default=250, gt=0)
    bed_y_mm: float = Field(default=210, gt=0)
    height_mm: float = Field(default=220, gt=0)
    nozzle_mm: float = Field(default=0.4, gt=0)


class AgentConfig(BaseModel):
    producer_id: str = Field(min_length=1, max_length=64)
    data_dir: Path = Path(".fabnet-agent")
    heartbeat_s: float = Field(default=5.0, gt=0, le=300)
    poll_s: float = Field(default=0.25, gt=0, le=10)
    auto_accept: bool = True
    broker: BrokerConfig = BrokerConfig()
    hub: HubConfig = HubConfig()
    machines: list[MachineConfig] = Field(min_length=1)


MAX_CONFIG_BYTES = 1 << 20


def load_config(path: Path) -> AgentConfig:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InvalidInput("config", f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput("config", f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput("config", f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("config", f"{path}: not TOML: {exc}") from None
    except RecursionError:
        raise InvalidInput("config", f"{path}: nested too deeply") from None
    try:
        config = AgentConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(where or "config", first["msg"]) from None
    ids = [m.id for m in config.machines]
    if len(set(ids)) != len(ids):
        raise InvalidInput("machines", "machine ids must be unique")
    for i, m in enumerate(config.machines):
        if m.link == "octoprint" and not (m.url and m.api_key):
            raise InvalidInput(f"machines.{i}", "an OctoPrint machine needs url and api_key")
    if not config.data_dir.is_absolute():
        config.data_dir = (path.parent / config.data_dir).resolve()
    return config

"""Settings: the only place that reads the environment (prefix ``FABNET_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FABNET_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".fabnet"), description="where the SQLite file and designs live"
    )
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in data_dir")
    offer_ttl_s: float = Field(default=4 * 3600.0, gt=0)
    offer_sweep_s: float = Field(default=60.0, gt=0, description="how often `serve` expires offers")
    horizon_days: float = Field(default=30.0, gt=0, le=365)
    load_factor: float = Field(default=0.85, gt=0, le=1)
    solver: Literal["flow", "greedy"] = "flow"
    max_design_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_triangles: int = Field(default=2_000_000, gt=0)
    slicer: str = Field(default="prusa-slicer", description="the PrusaSlicer executable")
    slicer_timeout_s: float = Field(default=600.0, gt=0)
    price_rules: str = Field(
        default="",
        description='JSON {"maker": {"material_per_kg_minor": ..., "machine_per_hour_minor": '
        '..., "setup_minor": ..., "margin_pct": ..., "currency": "EUR"}, ...}; '
        "classes left out keep the placeholder defaults",
    )
    log_key_file: Path | None = Field(
        default=None, description="the hub's log signing key; default data_dir/log.key (made once)"
    )
    log_origin: str = Field(default="fabnet.local/log", description="key name of a new log key")
    witnesses: str = Field(
        default="", description="comma-separated URL|verifier-key pairs of witnesses to ask"
    )
    witness_quorum: int = Field(default=1, ge=0)
    checkpoint_s: float = Field(default=1.0, gt=0, description="how often `serve` checkpoints")
    mqtt_url: str = Field(
        default="", description="the machines' broker, mqtt://host:port; empty = none"
    )
    mqtt_username: str = "hub"
    mqtt_password: str = ""
    heartbeat_timeout_s: float = Field(
        default=30.0, gt=0, description="a machine silent this long is marked unreachable"
    )
    heartbeat_sweep_s: float = Field(default=5.0, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'fabnet.sqlite'}"

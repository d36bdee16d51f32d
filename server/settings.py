"""Server settings: one object, read from the environment (prefix ``BPVIZ_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the server. ``BPVIZ_MAX_SESSIONS=50`` overrides ``max_sessions``."""

    model_config = SettingsConfigDict(env_prefix="BPVIZ_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Websocket origins allowed besides the server's own (exact "scheme://host[:port]").
    allowed_origins: list[str] = Field(default_factory=list)
    max_sessions: int = Field(default=300, ge=1)
    max_message_bytes: int = Field(default=65_536, ge=1024)
    max_upload_bytes: int = Field(default=1_048_576, ge=1024)
    # Token bucket per connection: sustained messages per second and burst size.
    message_rate: float = Field(default=50.0, gt=0)
    message_burst: int = Field(default=200, ge=1)
    max_fps: int = Field(default=60, ge=1, le=120)
    # Threads that run training slices for all sessions (CPU work never runs on the loop).
    worker_threads: int = Field(default=2, ge=1, le=64)
    slice_seconds: float = Field(default=0.008, gt=0, le=0.1)
    grid_resolution: int = Field(default=48, ge=8, le=128)
    thumb_resolution: int = Field(default=20, ge=4, le=64)
    # A client that vanishes without a close frame is dropped after at most
    # interval + timeout seconds of unanswered pings (its session is then freed).
    ws_ping_interval: float = Field(default=15.0, gt=0)
    ws_ping_timeout: float = Field(default=20.0, gt=0)
    # Memory of one session's rewind checkpoints (the recent steps it can revisit).
    rewind_bytes: int = Field(default=8 * 1024 * 1024, ge=0)

    def uvicorn_options(self) -> dict[str, Any]:
        """How bpviz runs under uvicorn, in one place (CLI, tests and benchmarks use it)."""
        return {
            "ws": "websockets-sansio",  # pinned: the legacy implementation is deprecated
            "ws_per_message_deflate": False,  # a 50 KB frame would cost 1.5-3 ms of CPU
            "ws_max_size": self.max_upload_bytes + 4096,
            "ws_ping_interval": self.ws_ping_interval,
            "ws_ping_timeout": self.ws_ping_timeout,
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()

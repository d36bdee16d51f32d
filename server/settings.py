"""Server settings: one object, read from the environment (prefix ``BPVIZ_``)."""

from __future__ import annotations

import ipaddress
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .hosts import normalize_host

# A list read from the environment as JSON (``["a", "b"]``) or comma-separated (``a,b``).
NameList = Annotated[list[str], NoDecode]
# The URL schemes redis-py opens (redis.asyncio.connection.parse_url).
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# Settings whose value a startup error does not print (a URL's password).
SECRET_SETTINGS = frozenset({"redis_url"})


class Settings(BaseSettings):
    """Every knob of the server. ``BPVIZ_MAX_SESSIONS=50`` overrides ``max_sessions``."""

    # allow_inf_nan=False: "inf" or "nan" for a number of seconds or a rate is a startup
    # error, not a ping interval that never pings or a snapshot that never expires.
    model_config = SettingsConfigDict(env_prefix="BPVIZ_", extra="ignore", allow_inf_nan=False)

    host: str = "127.0.0.1"
    port: int = 8000
    # Websocket origins allowed besides the server's own (exact "scheme://host[:port]"),
    # read like the other lists: JSON (``["https://a"]``) or comma-separated.
    allowed_origins: NameList = Field(default_factory=list)
    # Sessions with a run of their own; a classroom room's followers are counted apart.
    max_sessions: int = Field(default=300, ge=1)
    # Followers of rooms (no run of their own, ~100 KiB each): a copy is a session again.
    max_followers: int = Field(default=2000, ge=1)
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

    # --- Host and proxies (DNS rebinding; forwarded headers; see server/hosts.py) -----
    # Host names the server answers to besides the loopback names (localhost, 127.0.0.1,
    # ::1) and its own IP addresses: "name", "*.example.edu", or "*" for any name.
    allowed_hosts: NameList = Field(default_factory=list)
    # Addresses (IPs or CIDR ranges) whose X-Forwarded-* headers are trusted; none by default.
    trusted_proxies: NameList = Field(default_factory=list)

    # --- Memory budgets ------------------------------------------------------------
    # Estimated bytes one session may use (network, optimizer state, batch buffers, trace,
    # rewind, grids); a config above it is refused before anything is built.
    session_memory_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    # Estimated bytes all sessions together may use; past it new sessions get close 1013.
    total_memory_bytes: int = Field(default=4 * 1024 * 1024 * 1024, ge=16 * 1024 * 1024)
    # Sessions per client address: 0 = no cap (a class behind one NAT shares an address).
    max_sessions_per_address: int = Field(default=0, ge=0)
    # Bytes queued for one client before it is closed as too slow.
    outbox_max_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024)
    # Largest `import` message: the default fits the export of the largest network the
    # limits allow (bpviz.server.budget.export_bytes_bound), CSV included.
    max_import_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    # --- What outlives a process ----------------------------------------------------
    # Session snapshots (SQLite) live here unless Redis is configured.
    data_dir: Path = Field(default_factory=lambda: default_data_dir())
    # Redis for snapshots and rooms shared by several processes or replicas.
    redis_url: str | None = None
    # Server processes on this port: set by `bpviz serve --workers N` for each of them
    # (without Redis, rooms and runs are per process; see docs/deploy.md).
    workers: int = Field(default=1, ge=1)
    # The CPU (an index among those the process may use) its event loop and lane share:
    # set by `bpviz serve` for each process (the Nth process: N−1); -1 = no CPU of its own.
    cpu: int = Field(default=-1, ge=-1)
    # Seconds a snapshot of a session is kept after its last write.
    snapshot_ttl: float = Field(default=24 * 3600.0, gt=0)
    # Seconds between snapshots of a playing session at most (each time a random 50–100 %
    # of it; also written on pause and shutdown).
    snapshot_interval: float = Field(default=3.0, gt=0)

    @field_validator("allowed_hosts", "trusted_proxies", "allowed_origins", mode="before")
    @classmethod
    def _name_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else text.split(",")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [e.strip() for e in value if e.strip()]

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        # an empty value is no Redis; any other must be a URL redis-py can open (checked
        # here: a wrong scheme found at startup was a traceback, "Application startup failed")
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(REDIS_SCHEMES):
            schemes = ", ".join(f"{s}…" for s in REDIS_SCHEMES)
            raise ValueError(f"not a Redis URL: it starts with one of {schemes}")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return [h for h in (normalize_host(e) for e in value) if h]

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        out = []
        for entry in (e.strip() for e in value):
            if entry:
                try:
                    out.append(str(ipaddress.ip_network(entry, strict=False)))
                except ValueError:
                    raise ValueError(f"not an IP address or CIDR range: {entry!r}") from None
        return out

    def uvicorn_options(self) -> dict[str, Any]:
        """How bpviz runs under uvicorn, in one place (CLI, tests and benchmarks use it)."""
        return {
            # X-Forwarded-* are the app's (server/hosts.py: trusted_proxies only); uvicorn
            # would otherwise believe them from loopback.
            "proxy_headers": False,
            "forwarded_allow_ips": "",
            "ws": "websockets-sansio",  # pinned: the legacy implementation is deprecated
            "ws_per_message_deflate": False,  # a 50 KB frame would cost 1.5-3 ms of CPU
            "ws_max_size": max(
                self.max_import_bytes,
                self.max_upload_bytes * 4 // 3 + 4096,
                self.max_message_bytes,
            )
            + 4096,
            "ws_ping_interval": self.ws_ping_interval,
            "ws_ping_timeout": self.ws_ping_timeout,
        }


def environment_problems(exc: ValidationError) -> str:
    """What is wrong with the ``BPVIZ_*`` variables, one problem per line, each naming
    its variable and the value it had (``bpviz serve`` prints it and exits)."""
    lines = []
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else ""
        message = str(err["msg"]).removeprefix("Value error, ")
        # a Redis URL may hold a password: named, not printed
        shown = "" if key in SECRET_SETTINGS else f"={err.get('input')!s}"
        lines.append(f"BPVIZ_{key.upper()}{shown}: {message}")
    return "\n".join(lines)


def default_data_dir() -> Path:
    """The user's data directory: ``$XDG_DATA_HOME/bpviz`` or ``~/.local/share/bpviz``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bpviz"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()

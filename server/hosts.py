"""Which host names the server answers to, and which proxies it believes.

DNS rebinding: a page on ``evil.example`` whose name later resolves to 127.0.0.1 reaches
this server from the learner's own browser, with ``Host: evil.example`` — and reads
whatever it serves, over HTTP as well as the websocket. So every request (pages, API,
websocket) is refused before anything else runs unless its Host names this server:

- the loopback names ``localhost``, ``127.0.0.1`` and ``[::1]``, with any port;
- the address the connection came in on: an IP address of this machine
  (``http://192.168.1.20:8000`` typed by a student; a rebinding page never sends an IP
  literal as its Host);
- the names in ``Settings.allowed_hosts`` (``bpviz serve --allowed-host NAME``):
  ``name`` exactly, ``*.example.edu`` for any name under it, ``*`` for any name at all.

A refused request gets HTTP 400 (a websocket handshake, 403). ``X-Forwarded-For``,
``-Proto`` and ``-Host`` are believed only from the addresses in
``Settings.trusted_proxies`` (IPs or CIDR ranges, none by default): behind such a proxy
the host checked is the one the client asked the proxy for.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

log = logging.getLogger("bpviz.hosts")

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
LOGGED_HOSTS = 64  # refused host names logged (once each), at most
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_name(value: str) -> str | None:
    """The name in a Host header (or an Origin's netloc): lower case, without the port,
    the brackets of an IPv6 literal and a final dot; ``None`` when it is malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, closed, rest = value[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    else:
        name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    name = name.removesuffix(".")
    return name or None


def ip_of(name: str | None) -> IPAddress | None:
    """``name`` as an IP address (IPv4-mapped IPv6 as IPv4), or ``None``."""
    if not name:
        return None
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def normalize_host(entry: str) -> str:
    """An ``allowed_hosts`` entry as it is matched: lower case, no port, no brackets."""
    text = entry.strip().lower()
    if text in ("*", "") or text.startswith("*."):
        return text
    name = host_name(text)
    if name is None:
        raise ValueError(f"not a host name: {entry!r}")
    return name


class Hosts:
    """The host names a request may carry in its Host header."""

    def __init__(self, allowed: Iterable[str]) -> None:
        entries = {normalize_host(e) for e in allowed} - {""}
        self.any = "*" in entries
        self.suffixes = tuple(e[1:] for e in entries if e.startswith("*."))  # ".example.edu"
        self.names = frozenset(e for e in entries if not e.startswith("*")) | LOOPBACK_NAMES

    def allows(self, name: str | None, local: str | None = None) -> bool:
        """Whether ``name`` (a host name, see :func:`host_name`) is this server's. ``local``
        is the address the connection came in on (the ASGI ``server``: an IP address
        under uvicorn), which the Host may always name."""
        if name is None:
            return False
        if self.any or name in self.names or name.endswith(self.suffixes):
            return True
        ip = ip_of(name)
        if ip is not None and ip.is_loopback:
            return True
        if local is None:
            return False
        return name == local.lower() or (ip is not None and ip == ip_of(local))

    def describe(self) -> str:
        """The allowed names, for the startup log."""
        extra = sorted(self.names - LOOPBACK_NAMES) + [f"*{s}" for s in sorted(self.suffixes)]
        if self.any:
            return "any name (allowed_hosts has *)"
        names = "localhost, 127.0.0.1, [::1], the machine's own IP addresses"
        return names + (", " + ", ".join(extra) if extra else "")


class Proxies:
    """The peers whose ``X-Forwarded-*`` headers are believed."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(e.strip(), strict=False) for e in entries]

    def trusts(self, peer: str | None) -> bool:
        ip = ip_of(peer)
        return ip is not None and any(ip in net for net in self.networks)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


REFUSED = (
    "bpviz: this server does not answer to the host name in this address. Open it as "
    "http://localhost:PORT on the server itself, by its IP address, or by a name the "
    "server was started with (bpviz serve --allowed-host NAME).\n"
)


class HostGuard:
    """ASGI middleware: refuse a request whose Host is not this server's (HTTP 400, a
    websocket 403) before any page, API call or session; believe ``X-Forwarded-*`` only
    from trusted proxies (For and Proto through uvicorn's ``ProxyHeadersMiddleware``,
    Host here: it replaces the Host header, so the Origin check compares with it)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str], proxies: Iterable[str]) -> None:
        self.hosts = Hosts(allowed_hosts)
        self.proxies = Proxies(proxies)
        self.logged: set[str | None] = set()
        trusted = [str(net) for net in self.proxies.networks]
        inner: Any = app
        self.app: Any = ProxyHeadersMiddleware(inner, trusted_hosts=trusted) if trusted else app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        peer = client[0] if client else None
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        host = _header(headers, b"host")
        if self.proxies.trusts(peer):
            forwarded = _header(headers, b"x-forwarded-host")
            if forwarded:
                host = forwarded.split(",")[-1].strip()  # the one the nearest proxy set
                headers = [(k, v) for k, v in headers if k != b"host"]
                headers.append((b"host", host.encode("latin-1")))
                scope = {**scope, "headers": headers}
        server = scope.get("server")
        local = server[0] if server else None
        if self.hosts.allows(host_name(host or ""), local):
            await self.app(scope, receive, send)
            return
        if host not in self.logged and len(self.logged) < LOGGED_HOSTS:  # no log flood
            self.logged.add(host)
            log.warning(
                "refused a %s request from %s: Host %r is not an allowed host name "
                "(add it with --allowed-host or BPVIZ_ALLOWED_HOSTS; said once per name)",
                scope["type"],
                peer,
                host,
            )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        body = REFUSED.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

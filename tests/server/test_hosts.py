"""Host names and proxies (server/hosts.py): DNS rebinding is refused before any page,
API call or session; X-Forwarded-* are believed from trusted proxies only."""

from __future__ import annotations

import http.client
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.websockets import WebSocketDisconnect

from bpviz.server.app import create_app
from bpviz.server.hosts import HostGuard, Hosts, Proxies, host_name
from bpviz.server.settings import Settings

from .conftest import LiveServer

PATHS = ["/", "/lab", "/healthz", "/api/schema", "/api/limits", "/static/js/shared/wire.js"]


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("localhost", "localhost"),
        ("LocalHost:8000", "localhost"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("bpviz.school.edu.", "bpviz.school.edu"),
        ("", None),
        (":8000", None),
        ("evil.example:http", None),
        ("[::1", None),
        ("[::1]x", None),
    ],
)
def test_host_name(value: str, name: str | None) -> None:
    assert host_name(value) == name


def test_loopback_names_and_the_servers_own_address_by_default() -> None:
    hosts = Hosts([])
    for name in ["localhost", "127.0.0.1", "::1", "127.0.0.2"]:
        assert hosts.allows(name)
    assert hosts.allows("192.168.1.20", local="192.168.1.20")  # the address dialled
    assert hosts.allows("192.168.1.20", local="::ffff:192.168.1.20")  # a dual-stack socket
    for name in ["evil.example", "192.168.1.21", "localhost.evil.example", "", None]:
        assert not hosts.allows(name, local="192.168.1.20")


def test_configured_names() -> None:
    hosts = Hosts(["bpviz.school.edu", "*.lab.example", "[fd00::1]"])
    assert hosts.allows("bpviz.school.edu")
    assert hosts.allows("pc7.lab.example") and not hosts.allows("lab.example")
    assert hosts.allows("fd00::1")
    assert not hosts.allows("school.edu")
    assert Hosts(["*"]).allows("anything.example")
    assert "bpviz.school.edu" in hosts.describe() and "*.lab.example" in hosts.describe()


def test_settings_read_names_and_proxies_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BPVIZ_ALLOWED_HOSTS", "BPVIZ.School.edu:8000, *.lab.example")
    monkeypatch.setenv("BPVIZ_TRUSTED_PROXIES", '["10.0.0.0/8", "192.168.1.5"]')
    settings = Settings()
    assert settings.allowed_hosts == ["bpviz.school.edu", "*.lab.example"]
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.168.1.5/32"]
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(trusted_proxies=["proxy.example"])
    with pytest.raises(ValueError, match="not a host name"):
        Settings(allowed_hosts=["bad:port"])


def test_proxies() -> None:
    proxies = Proxies(["10.0.0.0/8", "192.168.1.5/32"])
    assert proxies.trusts("10.1.2.3") and proxies.trusts("192.168.1.5")
    assert not proxies.trusts("192.168.1.6") and not proxies.trusts("127.0.0.1")
    assert not proxies.trusts("testclient") and not proxies.trusts(None)
    assert not Proxies([]).trusts("127.0.0.1")  # nothing by default, loopback included


def test_uvicorn_believes_no_forwarded_header() -> None:
    options = Settings(trusted_proxies=["10.0.0.0/8"]).uvicorn_options()
    assert options["proxy_headers"] is False  # the app decides (HostGuard), not uvicorn


# ---------------------------------------------------------------- the app


@pytest.fixture
def app_client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    settings = getattr(request, "param", None) or Settings()
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize("path", PATHS)
def test_a_foreign_host_gets_400_everywhere(app_client: TestClient, path: str) -> None:
    r = app_client.get(path, headers={"host": "evil.example:8000"})
    assert r.status_code == 400
    assert "--allowed-host" in r.text
    assert r.headers["x-content-type-options"] == "nosniff"  # security headers too
    assert app_client.get(path, headers={"host": "localhost:8000"}).status_code == 200


def test_a_refused_name_is_logged_once(
    app_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bpviz.hosts"):
        for _ in range(3):
            app_client.get("/", headers={"host": "evil.example"})
        app_client.get("/", headers={"host": "other.example"})
    refused = [r.getMessage() for r in caplog.records if r.name == "bpviz.hosts"]
    assert len(refused) == 2 and "'evil.example'" in refused[0]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "localhost"])
def test_loopback_hosts_are_served(app_client: TestClient, host: str) -> None:
    assert app_client.get("/healthz", headers={"host": host}).status_code == 200


def test_dns_rebinding_cannot_open_a_session(app_client: TestClient) -> None:
    """Host and Origin both the rebinding page's name: refused before any session."""
    runtime = app_client.app.state.runtime  # type: ignore[attr-defined]
    headers = {"host": "evil.example:8000", "origin": "http://evil.example:8000"}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        app_client.websocket_connect("/ws", headers=headers),
    ):
        pass
    assert refused.value.code == 1008
    assert runtime.session_count == 0
    own = {"host": "localhost:8000", "origin": "http://localhost:8000"}
    with app_client.websocket_connect("/ws", headers=own) as ws:
        assert ws.receive_json()["type"] == "hello"


@pytest.mark.parametrize(
    "app_client", [Settings(allowed_hosts=["bpviz.school.edu"])], indirect=True
)
def test_a_configured_name_is_served_and_its_origin_accepted(app_client: TestClient) -> None:
    host = {"host": "bpviz.school.edu:8000"}
    assert app_client.get("/", headers=host).status_code == 200
    with app_client.websocket_connect(
        "/ws", headers=host | {"origin": "http://bpviz.school.edu:8000"}
    ) as ws:
        assert ws.receive_json()["type"] == "hello"
    for origin in ["http://evil.example:8000", "http://bpviz.school.edu:9000", "null"]:
        with (
            pytest.raises(WebSocketDisconnect),
            app_client.websocket_connect("/ws", headers=host | {"origin": origin}),
        ):
            pass


def test_the_origin_check_does_not_believe_the_host_header() -> None:
    """Without the Host check in front, the Origin check alone still refuses a page whose
    Host and Origin are both its own name."""
    from bpviz.server.ws import origin_allowed

    def socket(name: str) -> Any:
        headers = {"origin": f"http://{name}:8000", "host": f"{name}:8000"}
        return SimpleNamespace(
            headers=headers, scope={"server": ("127.0.0.1", 8000)}, url=SimpleNamespace(scheme="ws")
        )

    assert not origin_allowed(socket("evil.example"), Settings(), Hosts([]))
    assert origin_allowed(socket("localhost"), Settings(), Hosts([]))


# ---------------------------------------------------------------- proxies


def echo_app(allowed: list[str], proxies: list[str]) -> Any:
    async def echo(request: Request) -> JSONResponse:
        client = request.client.host if request.client else None
        return JSONResponse(
            {"client": client, "scheme": request.url.scheme, "host": request.headers["host"]}
        )

    return HostGuard(Starlette(routes=[Route("/", echo)]), allowed, proxies)


FORWARDED = {
    "host": "127.0.0.1:8000",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "bpviz.school.edu",
}


def test_forwarded_headers_from_a_trusted_proxy() -> None:
    app = echo_app(["bpviz.school.edu"], ["10.0.0.0/8"])
    with TestClient(app, client=("10.0.0.2", 5000)) as c:
        assert c.get("/", headers=FORWARDED).json() == {
            "client": "203.0.113.7",
            "scheme": "https",
            "host": "bpviz.school.edu",
        }
    # the proxy forwards a name the server does not answer to: refused
    app = echo_app([], ["10.0.0.0/8"])
    with TestClient(app, client=("10.0.0.2", 5000)) as c:
        assert c.get("/", headers=FORWARDED).status_code == 400


@pytest.mark.parametrize("peer", ["127.0.0.1", "10.0.0.2", "testclient"])
def test_forwarded_headers_from_anyone_else_are_ignored(peer: str) -> None:
    app = echo_app(["bpviz.school.edu"], [])  # no proxy trusted: not even loopback
    with TestClient(app, client=(peer, 5000)) as c:
        assert c.get("/", headers=FORWARDED).json() == {
            "client": peer,
            "scheme": "http",
            "host": "127.0.0.1:8000",
        }
        evil = FORWARDED | {"host": "evil.example", "x-forwarded-host": "localhost"}
        assert c.get("/", headers=evil).status_code == 400


@pytest.mark.parametrize(
    "settings",
    [Settings(allowed_hosts=["bpviz.school.edu"], trusted_proxies=["10.0.0.0/8"])],
)
def test_a_websocket_through_a_tls_proxy(settings: Settings) -> None:
    """Behind a TLS proxy: Host is the upstream's, the page's origin is https://NAME."""
    with TestClient(create_app(settings), client=("10.0.0.2", 5000)) as c:
        headers = FORWARDED | {"origin": "https://bpviz.school.edu"}
        with c.websocket_connect("/ws", headers=headers) as ws:
            assert ws.receive_json()["type"] == "hello"
        with (
            pytest.raises(WebSocketDisconnect),
            c.websocket_connect("/ws", headers=headers | {"origin": "http://bpviz.school.edu"}),
        ):
            pass


# ---------------------------------------------------------------- a real server


def handshake(live: LiveServer, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    try:
        conn.putrequest("GET", "/ws", skip_host=True)
        upgrade = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        }
        for key, value in (upgrade | headers).items():
            conn.putheader(key, value)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def get(live: LiveServer, path: str, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_real_server_refuses_foreign_hosts(live: LiveServer) -> None:
    assert get(live, "/healthz", {"Host": "evil.example"}) == 400
    assert get(live, "/healthz", {"Host": f"127.0.0.1:{live.port}"}) == 200
    # loopback is no trusted proxy: its X-Forwarded-Host is not believed either way
    assert get(live, "/healthz", {"Host": "evil.example", "X-Forwarded-Host": "localhost"}) == 400
    assert handshake(live, {"Host": "evil.example:80", "Origin": "http://evil.example:80"}) == 403
    assert handshake(live, {"Host": f"localhost:{live.port}"}) == 101

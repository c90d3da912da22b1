"""The environment's proxy and CA settings are honoured (a studio's network goes through a proxy).

``SecureSession`` reads them once per host instead of at every request, as requests would.
A real forwarding proxy on 127.0.0.1 stands between the client and the sandbox.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from local_server import serving
from sandbox_control import PAID_KEY, Sandbox

from meshy_blender.api.client import MeshyClient
from meshy_blender.api.http import SecureSession

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class _ForwardingProxy(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.seen: list[str] = []


class _Forward(BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy: the request line names the whole URL; answered with the target's reply."""

    server: _ForwardingProxy

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        target = urlsplit(self.path)
        connection = http.client.HTTPConnection(target.netloc, timeout=10)
        headers = {name: value for name, value in self.headers.items() if name.lower() != "proxy-connection"}
        connection.request("GET", target.path + (f"?{target.query}" if target.query else ""), headers=headers)
        reply = connection.getresponse()
        body = reply.read()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        connection.close()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_ForwardingProxy]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    with serving(_ForwardingProxy()) as server:
        yield server


def test_requests_go_through_the_proxy_the_environment_names(
    proxy: _ForwardingProxy, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
    with MeshyClient(PAID_KEY, sandbox.url) as client:
        client.balance()
        client.balance()
    assert proxy.seen == [f"{sandbox.url}/openapi/v1/balance"] * 2


def test_a_host_in_no_proxy_is_reached_directly(
    proxy: _ForwardingProxy, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with MeshyClient(PAID_KEY, sandbox.url) as client:
        assert client.balance() >= 0
    assert proxy.seen == []


def test_a_ca_bundle_from_the_environment_verifies_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/studio/ca.pem")
    session = SecureSession()
    settings = session.merge_environment_settings("https://api.meshy.ai/openapi/v1/balance", {}, None, None, None)
    assert settings["verify"] == "/etc/studio/ca.pem"
    explicit = session.merge_environment_settings("https://api.meshy.ai/", {}, None, False, None)
    assert explicit["verify"] is False  # a request's own choice wins, as in requests

"""Send a client's Salesforce login host to the local org, and nothing else anywhere.

Many clients hard-code ``https://login.salesforce.com`` (tap-salesforce, Airbyte's
source-salesforce) or build ``https://{domain}.salesforce.com`` (simple-salesforce), then use
the ``instance_url`` or ``serverUrl`` the login answers. To run them unmodified against the
local org, only the login host needs redirecting: this is an HTTP ``CONNECT`` proxy on
127.0.0.1 that tunnels ``login.salesforce.com:443`` and ``test.salesforce.com:443`` (and the
org's own address) to the org, and refuses every other host with 403, so a client that
strays never reaches the network. TLS stays end to end: the org's certificate names the login
hosts too (``server.LOGIN_HOSTS``), issued by its own CA, which the client trusts through
``REQUESTS_CA_BUNDLE``. A client sees the proxy through ``HTTPS_PROXY`` (``client_env``).

    with LoginProxy(org) as proxy:
        subprocess.run(["tap-salesforce", ...], env=proxy.client_env())
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import socketserver
import threading
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.emulator.server import Emulator

LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")
_HEAD_LIMIT = 8192


class _Tunnel(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        client: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head and len(head) < _HEAD_LIMIT:
            chunk = client.recv(1024)
            if not chunk:
                return
            head += chunk
        method, _, rest = head.partition(b" ")
        target = rest.partition(b" ")[0].decode("latin-1")
        if method != b"CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if target.lower() not in self.server.allowed:
            self.server.refused.append(target)
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.tunnelled.append(target)
        try:
            upstream = socket.create_connection(self.server.upstream, timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(client, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    with sel:
        while True:
            for key, _ in sel.select(timeout=300):
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = source.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                key.data.sendall(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int], allowed: set[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.upstream = upstream
        self.allowed = allowed
        self.tunnelled: list[str] = []
        self.refused: list[str] = []


class LoginProxy:
    """The login-host redirect for one running local org (``with`` starts and stops it)."""

    def __init__(self, org: Emulator) -> None:
        self.org = org
        own = f"{org.host}:{org.port}"
        allowed = {f"{host}:443" for host in LOGIN_HOSTS} | {own, f"localhost:{org.port}"}
        self._server = _ProxyServer((org.host, org.port), allowed)
        self._thread = threading.Thread(target=self._server.serve_forever, name="login-proxy",
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def tunnelled(self) -> list[str]:
        """The ``host:port`` of every tunnel opened, in order."""
        return list(self._server.tunnelled)

    @property
    def refused(self) -> list[str]:
        """The hosts a client asked for that are neither a login host nor the org."""
        return list(self._server.refused)

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with the proxy and the org's CA."""
        env = dict(os.environ if base is None else base)
        for key in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
                    "no_proxy", "https_proxy", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
            env.pop(key, None)
        env.update(HTTPS_PROXY=self.url, NO_PROXY=f"{self.org.host},localhost",
                   REQUESTS_CA_BUNDLE=str(self.org.ca_file))
        return env

    def start(self) -> LoginProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoginProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

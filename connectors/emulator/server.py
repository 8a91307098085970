"""Run a local org over HTTPS: in-process for tests and the demo, or until stopped.

Clients reach the org exactly as they reach Salesforce (``https://host/services/...``), so
the server speaks TLS with a certificate from a throw-away CA (trustme) whose PEM is written
to ``ca.pem`` for clients to trust. ``Emulator`` is the handle: start/stop (or ``with``), the
connection settings a client needs, and the org itself for tests to turn knobs and read
API usage.

    with Emulator(seed="empty") as org:
        token = org.access_token()
        requests.get(org.instance_url + "/services/data/v59.0/limits", ...)
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import shutil
import socket
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO

import trustme
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from connectors.emulator.app import create_app
from connectors.emulator.auth import JwtKeyPair
from connectors.emulator.knobs import DEFAULT_DAILY_API_LIMIT, Knobs
from connectors.emulator.login_proxy import LOGIN_HOSTS
from connectors.emulator.org import Org
from connectors.emulator.profile import FLAT, Profile

API_VERSION = "59.0"
LOCK_FILE = "emulator.lock"


class EmulatorStartError(RuntimeError):
    """The org cannot start: its state directory cannot be made or is another org's, or the
    port is taken. The message is one line saying which, for the command to print."""


def _lock_state_dir(state_dir: Path) -> IO[str]:
    """Hold ``state_dir/emulator.lock`` for the life of the org, so a second org on the same
    directory is refused instead of rewriting the running org's env file, certificates and
    data; the lock goes with the process, however it ends."""
    handle = (state_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise EmulatorStartError(f"{state_dir} is in use by another local org ({holder}); "
                                 "stop it first or choose another --state-dir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


class NoDelayH11Protocol(H11Protocol):
    """HTTP/1.1 with Nagle's algorithm off.

    The response head and body go out as two TLS records; with Nagle on, the second waits
    for the client's delayed ACK (~40 ms), which would make every call of a local org slower
    than a real one.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def shutdown(self) -> None:
        """Close an idle keep-alive connection at once when the server stops.

        A TLS close waits for the client's close_notify, which an idle pooled client never
        sends: without the abort every stop would wait out the TLS shutdown timeout.
        """
        idle = self.cycle is None or self.cycle.response_complete
        super().shutdown()
        if idle:
            self.transport.abort()


def warm_up_soql() -> None:
    """Build the SOQL parser now, so the first query a client sends is not the slow one."""
    from connectors.emulator.soql import parse

    parse("SELECT Id FROM Account")


class Emulator:
    """A local Salesforce org served over HTTPS on 127.0.0.1."""

    def __init__(self, state_dir: Path | None = None, *, seed: str = "demo",
                 opportunities: int = 0, latency_ms: int = 0, fault_rate: float = 0.0,
                 fault_seed: int = 0, daily_api_limit: int | None = None, port: int = 0,
                 host: str = "127.0.0.1", knobs: Knobs | None = None,
                 metadata_dir: Path | None = None, today: date | None = None,
                 extra_route_modules: list[ModuleType] | None = None,
                 keys_dir: Path | None = None,
                 automation_dirs: list[Path] | None = None,
                 profile: Profile | None = None) -> None:
        """``keys_dir`` holds the JWT key pair (default ``state_dir``); tests share one
        directory to skip generating an RSA key per org. ``automation_dirs``: sfdx source
        trees whose validation rules the org enforces (a customer's, never the product's).
        ``profile``: how long the org takes (``profile.py``; default ``flat``)."""
        if knobs is None:
            knobs = Knobs.with_fault_rate(
                fault_rate, latency_ms=latency_ms,
                daily_api_limit=daily_api_limit or DEFAULT_DAILY_API_LIMIT,
                profile=profile or FLAT)
        self._own_dir = state_dir is None
        self.state_dir = Path(tempfile.mkdtemp(prefix="sf-org-")) if state_dir is None \
            else Path(state_dir)
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise EmulatorStartError(f"cannot create the state directory {self.state_dir}: "
                                     f"{err.strerror or err}") from None
        self._lock = None if self._own_dir else _lock_state_dir(self.state_dir)
        try:
            self._open_org(seed, opportunities, knobs, fault_seed, metadata_dir, today,
                           automation_dirs, keys_dir)
        except BaseException:
            self._release_lock()
            raise
        self.host = host
        self.port = port
        self._metadata_dir = metadata_dir
        self._extra = extra_route_modules
        self._app: Starlette | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _open_org(self, seed: str, opportunities: int, knobs: Knobs, fault_seed: int,
                  metadata_dir: Path | None, today: date | None,
                  automation_dirs: list[Path] | None, keys_dir: Path | None) -> None:
        self.org = Org(state_dir=None if self._own_dir else self.state_dir, seed=seed,
                       opportunities=opportunities, knobs=knobs, fault_seed=fault_seed,
                       metadata_dir=metadata_dir, today=today,
                       automation_dirs=automation_dirs)
        self._automation_dirs = automation_dirs
        self.jwt_keys = JwtKeyPair.load_or_create(keys_dir or self.state_dir)

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the flock
            self._lock = None

    # ---- lifecycle ------------------------------------------------------------------

    def start(self) -> Emulator:
        ca = trustme.CA(organization_name="mapsync local org CA")
        ca.cert_pem.write_to_path(str(self.ca_file))
        # the login hosts too, for clients whose login host is redirected here (login_proxy)
        leaf = ca.issue_cert(self.host, "localhost", "127.0.0.1", *LOGIN_HOSTS)
        cert_file, key_file = self.state_dir / "server.pem", self.state_dir / "server.key"
        cert_file.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(key_file))
        key_file.chmod(0o600)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as err:
            sock.close()
            reason = ("another process is listening there" if err.errno == errno.EADDRINUSE
                      else err.strerror or str(err))
            raise EmulatorStartError(f"cannot listen on {self.host}:{self.port}: {reason}; "
                                     "choose another --port (0: any free port)") from None
        self.port = sock.getsockname()[1]
        self.org.instance_url = f"https://{self.host}:{self.port}"
        self._app = create_app(self.org, self.jwt_keys, self._extra)
        config = uvicorn.Config(self._app,
                                ssl_certfile=str(cert_file), ssl_keyfile=str(key_file),
                                log_level="warning", access_log=False, lifespan="off",
                                timeout_keep_alive=30, timeout_graceful_shutdown=2,
                                http=NoDelayH11Protocol,
                                # the app sends Date itself, from the org's clock, cased as
                                # Salesforce does (app.py)
                                date_header=False, server_header=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="sf-org", daemon=True)
        self._thread.start()
        warm_up_soql()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local org did not start")
            time.sleep(0.01)
        return self

    def reset(self, *, seed: str = "empty", opportunities: int = 0, knobs: Knobs | None = None,
              fault_seed: int = 0, today: date | None = None) -> Org:
        """Replace the running org by a fresh in-memory one (same URL and credentials).

        Restarting a server per test costs ~0.2 s; swapping the org costs a few ms.
        """
        if not self._own_dir:
            raise RuntimeError("only an in-memory org can be reset")
        old = self.org
        self.org = Org(seed=seed, opportunities=opportunities, knobs=knobs or Knobs(),
                       fault_seed=fault_seed, metadata_dir=self._metadata_dir, today=today,
                       credentials=old.credentials, automation_dirs=self._automation_dirs)
        self.org.instance_url = old.instance_url
        if self._app is not None:
            self._app.state.org = self.org
        old.close()
        return self.org

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.org.close()
        self._release_lock()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def wait(self) -> None:
        """Block until the server stops (``stop`` from another thread or a signal)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> Emulator:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ---- what a client needs ------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        return self.org.instance_url

    @property
    def login_url(self) -> str:
        return self.org.instance_url

    @property
    def ca_file(self) -> Path:
        return self.state_dir / "ca.pem"

    @property
    def client_id(self) -> str:
        return self.org.credentials.client_id

    @property
    def client_secret(self) -> str:
        return self.org.credentials.client_secret

    @property
    def username(self) -> str:
        return self.org.credentials.username

    @property
    def password(self) -> str:
        return self.org.credentials.password

    @property
    def security_token(self) -> str:
        """The integration user's security token (a SOAP login sends password + token)."""
        return self.org.credentials.security_token

    def login_of(self, username: str) -> tuple[str, str]:
        """(password, security token) of any user of the org, for a SOAP login as them."""
        return self.org.credentials.login_of(username)

    @property
    def private_key_file(self) -> Path:
        return self.jwt_keys.private_key_file

    @property
    def certificate_file(self) -> Path:
        return self.jwt_keys.certificate_file

    def env(self, api_version: str = API_VERSION, jwt: bool = False) -> dict[str, str]:
        """The mapsync settings (the README's environment) that point at this org: the
        client-credentials flow, or with ``jwt`` the JWT bearer flow of the integration user."""
        env = {"SF_LOGIN_URL": self.login_url, "SF_CLIENT_ID": self.client_id,
               "SF_CLIENT_SECRET": self.client_secret, "SF_CA_BUNDLE": str(self.ca_file),
               "SF_API_VERSION": api_version}
        if jwt:
            del env["SF_CLIENT_SECRET"]
            env.update(SF_USERNAME=self.username, SF_PRIVATE_KEY_FILE=str(self.private_key_file))
        return env

    def write_env(self, path: Path | None = None) -> Path:
        path = path or self.state_dir / "emulator.env"
        # written whole or not at all: a reader polling for the file never sees half of it
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text("".join(f"{k}={v}\n" for k, v in self.env().items()))
        partial.replace(path)
        path.chmod(0o600)
        return path

    # ---- in-process handle --------------------------------------------------------------

    def access_token(self, user_id: str | None = None) -> str:
        """A fresh session id, without an OAuth round-trip."""
        return self.org.new_session(user_id).token

    @property
    def api_calls(self) -> int:
        return self.org.api_calls

    def set_knobs(self, **changes: object) -> None:
        self.org.set_knobs(**changes)

    def reset_api_usage(self, used: int = 0) -> None:
        self.org.reset_api_usage(used)

    def expire_sessions(self) -> None:
        self.org.expire_sessions()

    def reseed_faults(self, fault_seed: int) -> None:
        """Restart the fault sequence from ``fault_seed`` (replays a failing run)."""
        self.org.reseed_faults(fault_seed)

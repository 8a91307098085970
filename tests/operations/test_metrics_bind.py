"""The worker's metrics answer on loopback and nowhere else unless an address is configured.

``/metrics`` has no authentication, so a worker on a host with a public interface must not
serve it there by default. The non-loopback address is this machine's own (the interface a
packet to the outside would leave by); a machine with none checks the bound address only.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from config.settings import load_settings
from sync.jobs.metrics import WorkerMetrics
from tests.operations.ops import Ops, stop, wait_for
from tests.operations.test_worker import FAST, free_port


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (``None`` if it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address  # noqa: S104


def answers(address: str, port: int) -> bool:
    """Whether a TCP connection to ``address``:``port`` is accepted."""
    try:
        with socket.create_connection((address, port), timeout=5):
            return True
    except ConnectionRefusedError:
        return False


def test_metrics_listen_on_loopback_only_by_default() -> None:
    server = WorkerMetrics().serve(free_port())
    try:
        address, port = server.server_address[:2]
        assert address == "127.0.0.1"
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "mapsync_lease_held" in text
        other = non_loopback_address()
        if other is not None:
            assert not answers(other, int(port)), f"metrics answered on {other}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_address_is_a_setting() -> None:
    assert load_settings().mapsync_metrics_address == "127.0.0.1"
    settings = load_settings(mapsync_metrics_address="0.0.0.0")  # noqa: S104
    server = WorkerMetrics().serve(free_port(), settings.mapsync_metrics_address)
    try:
        assert server.server_address[0] == "0.0.0.0"  # noqa: S104
    finally:
        server.shutdown()
        server.server_close()
    problems = load_settings(mapsync_metrics_address="everywhere").general_problems()
    assert problems == ["MAPSYNC_METRICS_ADDRESS must be an IP address of this host, e.g. "
                        "127.0.0.1 or 0.0.0.0 (got 'everywhere')"]


@pytest.mark.parametrize("given_by", ["--metrics-port", "MAPSYNC_METRICS_PORT"])
def test_the_worker_serves_metrics_on_loopback_only(
    given_by: str, ops: Ops, tmp_path: Path
) -> None:
    other = non_loopback_address()
    port = free_port()
    flag = ["--metrics-port", str(port)] if given_by == "--metrics-port" else []
    env = {} if flag else {"MAPSYNC_METRICS_PORT": str(port)}
    worker = ops.start("worker", "--interval", "30", *flag, *FAST, log=tmp_path / "w.log",
                       **env)
    try:
        text = wait_for(lambda: _scrape(port), 30, what="the metrics endpoint")
        refused_elsewhere = other is None or not answers(other, port)
    finally:
        code, _ = stop(worker)
    assert "mapsync_runs_total" in text
    assert refused_elsewhere, f"metrics answered on {other}"
    assert code == 0


def test_a_metrics_port_already_taken_is_one_line(ops: Ops) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = ops.run("worker", "--no-reconcile", MAPSYNC_METRICS_PORT=str(port))
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.startswith("mapsync:")] == [
        f"mapsync: cannot serve metrics on 127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in done.stderr


def _scrape(port: int) -> str | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except requests.ConnectionError:
        return None


@pytest.fixture(autouse=True)
def _no_metrics_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MAPSYNC_METRICS_ADDRESS", raising=False)
    monkeypatch.delenv("MAPSYNC_METRICS_PORT", raising=False)
    monkeypatch.chdir(tmp_path)

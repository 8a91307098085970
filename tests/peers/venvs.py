"""Each peer client in a virtual environment of its own, installed once per machine.

A peer runs unmodified, with the dependencies it pins (tap-salesforce pins ``requests`` and
``singer-python`` exactly; Airbyte's source brings the Airbyte CDK), so it never shares
mapsync's environment. The environments live under ``MAPSYNC_PEERS_DIR`` (default
``~/.cache/mapsync/peers``), one per name and version, and are made by ``python -m venv`` and
``pip install NAME==VERSION`` from PyPI the first time they are asked for. A peer that cannot
be installed stops the run with one line saying which and why; it is never skipped quietly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Peer:
    """A client package pinned to one version, and the command it installs."""

    package: str
    version: str
    command: str | None = None  # the console script; None: a library, run with ``python``

    @property
    def label(self) -> str:
        return f"{self.package} {self.version}"


SIMPLE_SALESFORCE = Peer("simple-salesforce", "1.12.10")
TAP_SALESFORCE = Peer("tap-salesforce", "2.8.1", "tap-salesforce")
AIRBYTE_SALESFORCE = Peer("airbyte-source-salesforce", "2.10.3", "source-salesforce")


class PeerUnavailable(RuntimeError):
    """A peer's environment could not be made; the message is one line."""


def peers_dir() -> Path:
    raw = os.environ.get("MAPSYNC_PEERS_DIR")
    return Path(raw) if raw else Path.home() / ".cache" / "mapsync" / "peers"


def environment(peer: Peer) -> Path:
    return peers_dir() / f"{peer.package}-{peer.version}"


def install(peer: Peer) -> tuple[Path, float]:
    """The peer's environment (made now if missing) and the seconds spent making it."""
    venv = environment(peer)
    marker = venv / ".installed"
    if marker.is_file():
        return venv, 0.0
    started = time.perf_counter()
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [[sys.executable, "-m", "venv", "--clear", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
              "--disable-pip-version-check", f"{peer.package}=={peer.version}"]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            lines = [ln for ln in done.stderr.splitlines()
                     if ln.strip() and not ln.startswith("WARNING")]
            why = lines[-1].strip() if lines else f"exit status {done.returncode}"
            raise PeerUnavailable(f"{peer.label} cannot be installed in {venv}: {why}")
    marker.write_text(f"{peer.package}=={peer.version}\n")
    return venv, time.perf_counter() - started


def executable(peer: Peer) -> Path:
    """The peer's command (or its environment's python for a library), installed."""
    venv, _ = install(peer)
    return venv / "bin" / (peer.command or "python")

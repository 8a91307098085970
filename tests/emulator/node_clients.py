"""Installing and running the JavaScript Salesforce clients that prove the local org.

Each client lives in its own folder under ``tests/node/`` with a package.json and a
package-lock.json; ``npm ci`` runs there once per machine (when ``node_modules`` is missing or
holds other versions), so CI needs nothing installed by hand. The clients must run, never be
skipped: a machine without Node.js and npm fails these tests with a clear message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from connectors.emulator.server import Emulator

NODE_ROOT = Path(__file__).resolve().parent.parent / "node"


def installed_version(folder: Path, package: str) -> str | None:
    manifest = folder / "node_modules" / package / "package.json"
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8")).get("version"))


def npm_ci(folder: Path, pinned: dict[str, str]) -> float:
    """Install ``folder``'s locked packages unless ``pinned`` versions are there; seconds spent."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not found: the Node client tests need "
                           "Node.js 20+ and npm on PATH")
    if all(installed_version(folder, p) == v for p, v in pinned.items()):
        return 0.0
    started = time.perf_counter()
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                          cwd=folder, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in {folder} failed:\n{done.stderr[-3000:]}")
    wrong = {p: installed_version(folder, p) for p, v in pinned.items()
             if installed_version(folder, p) != v}
    if wrong:
        raise RuntimeError(f"npm ci in {folder} installed other versions: {wrong}")
    return time.perf_counter() - started


def install(config: pytest.Config, folder: Path, pinned: dict[str, str]) -> None:
    """``npm_ci`` and, when it installed anything, say how long it took in the test report."""
    seconds = npm_ci(folder, pinned)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if seconds and reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"(npm ci in tests/node/{folder.name}: {seconds:.0f} s)")


def client_env(org: Emulator, **extra: str) -> dict[str, str]:
    """The environment a Node client needs: trust the org's CA (never disable TLS checks)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NODE_TLS_REJECT_UNAUTHORIZED", "HTTPS_PROXY", "https_proxy")}
    env["NODE_EXTRA_CA_CERTS"] = str(org.ca_file)
    env.update(extra)
    return env

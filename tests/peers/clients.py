"""Peer clients polling the local org for changed Opportunities, each as its users run it.

Every peer runs unmodified in its own environment (``venvs``), logs in at Salesforce's login
host, which ``LoginProxy`` alone redirects to the local org, and then follows the instance
URL the login answered. Each keeps its read position as it does in production: tap-salesforce
in its Singer state (the greatest ``SystemModstamp`` it read, no lookback unless configured),
Airbyte's source-salesforce in its stream state (the end of the last date slice it read),
and a simple-salesforce script in the greatest ``SystemModstamp`` it read. mapsync's own poll
(``sync.cycle.pull``) reads from its watermark minus its lookback. A poll answers the Ids of
the Opportunities it read, duplicates included, so a caller can count rows, distinct records
and the changes it never saw.

Peers log what they like (tap-salesforce logs its token request, client secret included), so
their output is never printed: a failing peer is reported by its last error line with every
secret of the org replaced by ``***``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.emulator.login_proxy import LoginProxy
from connectors.emulator.server import Emulator
from tests.peers.venvs import AIRBYTE_SALESFORCE, SIMPLE_SALESFORCE, TAP_SALESFORCE, executable

STREAM = "Opportunity"
# simple-salesforce's SOAP login and one Bulk API 1.0 query, in the peer's own environment
SIMPLE_SALESFORCE_POLL = """
import json, os
from simple_salesforce import Salesforce
sf = Salesforce(username=os.environ["PEER_USERNAME"], password=os.environ["PEER_PASSWORD"],
                security_token=os.environ["PEER_TOKEN"], domain="login", version="59.0")
since = os.environ.get("PEER_SINCE")
where = f" WHERE SystemModstamp > {since}" if since else ""
rows = sf.bulk.Opportunity.query("SELECT Id, SystemModstamp FROM Opportunity" + where)
print(json.dumps([[r["Id"], r["SystemModstamp"]] for r in rows]))
"""


class PeerFailed(RuntimeError):
    """A peer run ended badly; the message is its last error line, secrets masked."""


@dataclass
class Poll:
    """What one poll read."""

    ids: list[str]
    seconds: float


def _secrets(org: Emulator) -> list[str]:
    creds = org.org.credentials
    return [s for s in (creds.client_secret, creds.password, creds.security_token) if s]


def _masked(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def run_peer(org: Emulator, args: list[str], env: dict[str, str], what: str,
             extra_secrets: tuple[str, ...] = ()) -> str:
    """Run a peer command; its stdout, or PeerFailed with its last error line masked."""
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode == 0:
        return done.stdout
    lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
    errors = [ln for ln in lines if any(k in ln for k in ("CRITICAL", "ERROR", "Error"))]
    last = (errors or lines or [f"exit status {done.returncode}"])[-1]
    raise PeerFailed(f"{what}: {_masked(last, [*_secrets(org), *extra_secrets])[:400]}")


def _messages(stdout: str) -> list[dict[str, Any]]:
    out = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


@dataclass
class TapSalesforce:
    """tap-salesforce 2.8.1 (Singer), REST (``queryAll`` pages) or BULK (Bulk API 1.0)."""

    org: Emulator
    proxy: LoginProxy
    workdir: Path
    api_type: str  # "REST" | "BULK"
    state: dict[str, Any] | None = None
    refresh_token: str = ""

    @property
    def name(self) -> str:
        return f"{TAP_SALESFORCE.label} ({self.api_type})"

    def _config(self) -> Path:
        path = self.workdir / "tap-config.json"
        if not self.refresh_token:
            self.refresh_token = self.org.org.sessions.issue_refresh(
                self.org.org.integration_user_id)
        path.write_text(json.dumps({
            "refresh_token": self.refresh_token, "client_id": self.org.client_id,
            "client_secret": self.org.client_secret, "start_date": "2000-01-01T00:00:00Z",
            "api_type": self.api_type, "select_fields_by_default": True}))
        path.chmod(0o600)
        return path

    def _run(self, *args: str) -> str:
        return run_peer(self.org, [str(executable(TAP_SALESFORCE)), "--config",
                                   str(self._config()), *args],
                        self.proxy.client_env(), self.name, (self.refresh_token,))

    def discover(self) -> list[str]:
        """Discovery, and the Opportunity stream selected for incremental replication."""
        catalog = json.loads(self._run("--discover"))
        for stream in catalog["streams"]:
            if stream["stream"] == STREAM:
                for entry in stream["metadata"]:
                    if entry["breadcrumb"] == []:
                        entry["metadata"].update({"selected": True,
                                                  "replication-method": "INCREMENTAL",
                                                  "replication-key": "SystemModstamp"})
        (self.workdir / "tap-catalog.json").write_text(json.dumps(catalog))
        return [s["stream"] for s in catalog["streams"]]

    def poll(self) -> Poll:
        args = ["--properties", str(self.workdir / "tap-catalog.json")]
        if self.state is not None:
            state_file = self.workdir / "tap-state.json"
            state_file.write_text(json.dumps(self.state))
            args += ["--state", str(state_file)]
        started = time.perf_counter()
        messages = _messages(self._run(*args))
        states = [m["value"] for m in messages if m.get("type") == "STATE"]
        if states:
            self.state = states[-1]
        return Poll([m["record"]["Id"] for m in messages
                     if m.get("type") == "RECORD" and m.get("stream") == STREAM],
                    time.perf_counter() - started)


@dataclass
class AirbyteSalesforce:
    """Airbyte's source-salesforce 2.10.3 (Bulk API 2.0 query jobs per 30-day slice)."""

    org: Emulator
    proxy: LoginProxy
    workdir: Path
    start_date: str
    state: list[dict[str, Any]] = field(default_factory=list)
    refresh_token: str = ""
    name: str = AIRBYTE_SALESFORCE.label

    def _config(self) -> Path:
        path = self.workdir / "airbyte-config.json"
        if not self.refresh_token:
            self.refresh_token = self.org.org.sessions.issue_refresh(
                self.org.org.integration_user_id)
        path.write_text(json.dumps({
            "client_id": self.org.client_id, "client_secret": self.org.client_secret,
            "refresh_token": self.refresh_token, "start_date": self.start_date,
            "is_sandbox": False, "streams_criteria": []}))
        path.chmod(0o600)
        return path

    def _run(self, *args: str) -> list[dict[str, Any]]:
        out = run_peer(self.org, [str(executable(AIRBYTE_SALESFORCE)), *args, "--config",
                                  str(self._config())], self.proxy.client_env(), self.name,
                       (self.refresh_token,))
        messages = _messages(out)
        failed = [m for m in messages if m.get("type") == "TRACE"
                  and m["trace"].get("type") == "ERROR"]
        if failed:
            message = str(failed[-1]["trace"]["error"].get("message", "error"))
            raise PeerFailed(f"{self.name}: {_masked(message, _secrets(self.org))[:400]}")
        return messages

    def discover(self) -> list[str]:
        catalog = next(m["catalog"] for m in self._run("discover") if m["type"] == "CATALOG")
        stream = next(s for s in catalog["streams"] if s["name"] == STREAM)
        (self.workdir / "airbyte-catalog.json").write_text(json.dumps({"streams": [{
            "stream": stream, "sync_mode": "incremental", "destination_sync_mode": "append",
            "cursor_field": ["SystemModstamp"]}]}))
        return [s["name"] for s in catalog["streams"]]

    def poll(self) -> Poll:
        args = ["read", "--catalog", str(self.workdir / "airbyte-catalog.json")]
        if self.state:
            state_file = self.workdir / "airbyte-state.json"
            state_file.write_text(json.dumps(self.state))
            args += ["--state", str(state_file)]
        started = time.perf_counter()
        messages = self._run(*args)
        states = [m["state"] for m in messages if m.get("type") == "STATE"]
        if states:
            self.state = [states[-1]]
        return Poll([m["record"]["data"]["Id"] for m in messages
                     if m.get("type") == "RECORD" and m["record"]["stream"] == STREAM],
                    time.perf_counter() - started)


@dataclass
class SimpleSalesforceBulk:
    """A simple-salesforce 1.12.10 script: SOAP login, then ``sf.bulk`` (Bulk API 1.0)
    queries from the greatest ``SystemModstamp`` it has read."""

    org: Emulator
    proxy: LoginProxy
    since: str | None = None
    name: str = f"{SIMPLE_SALESFORCE.label} (sf.bulk)"

    def discover(self) -> list[str]:
        return [STREAM]

    def poll(self) -> Poll:
        env = self.proxy.client_env()
        env.update(PEER_USERNAME=self.org.username, PEER_PASSWORD=self.org.password,
                   PEER_TOKEN=self.org.security_token)
        if self.since:
            env["PEER_SINCE"] = self.since
        started = time.perf_counter()
        out = run_peer(self.org, [str(executable(SIMPLE_SALESFORCE)), "-c",
                                  SIMPLE_SALESFORCE_POLL], env, self.name)
        rows = json.loads(out.strip().splitlines()[-1])
        if rows:  # Bulk API 1.0 JSON answers datetimes in epoch milliseconds
            newest = dt.datetime.fromtimestamp(max(r[1] for r in rows) / 1000, dt.UTC)
            self.since = newest.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return Poll([r[0] for r in rows], time.perf_counter() - started)

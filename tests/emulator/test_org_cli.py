"""Running the org from a state dir: env file, restart keeps the data, SIGTERM stops it."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def start(state_dir):
    env_file = state_dir / "emulator.env"
    env_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.emulator", "--state-dir", str(state_dir),
         "--seed", "empty"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline and not env_file.exists():
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read()
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    return proc, env


def session(env):
    s = requests.Session()
    s.trust_env = False
    s.verify = env["SF_CA_BUNDLE"]
    return s


def login(s, env):
    return s.post(env["SF_LOGIN_URL"] + "/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": env["SF_CLIENT_ID"],
        "client_secret": env["SF_CLIENT_SECRET"]}).json()


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    return proc.returncode


def test_state_dir_org_writes_env_keeps_records_across_restart_and_stops_on_sigterm(tmp_path):
    proc, env = start(tmp_path)
    try:
        assert set(env) == {"SF_LOGIN_URL", "SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_CA_BUNDLE",
                            "SF_API_VERSION"}
        assert env["SF_API_VERSION"] == "59.0"
        assert Path(env["SF_CA_BUNDLE"]) == tmp_path / "ca.pem"
        s = session(env)
        auth = login(s, env)
        headers = {"Authorization": "Bearer " + auth["access_token"]}
        plans = auth["instance_url"] + "/services/data/v59.0/sobjects/Mutual_Action_Plan__c"
        created = s.post(plans, json={"Name": "Survivor"}, headers=headers).json()
    finally:
        code = stop(proc)
    assert code == 0
    assert (tmp_path / "org.sqlite3").exists()
    proc, env = start(tmp_path)
    try:
        s = session(env)
        auth = login(s, env)
        got = s.get(auth["instance_url"] + "/services/data/v59.0/sobjects/"
                    f"Mutual_Action_Plan__c/{created['id']}", headers={"Authorization": "Bearer " +
                                                 auth["access_token"]})
        assert got.json()["Name"] == "Survivor"
    finally:
        assert stop(proc) == 0

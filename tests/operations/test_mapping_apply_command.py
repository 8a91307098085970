"""``mapsync mappings apply`` as RevOps run it: preview with --dry-run, then apply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from connectors.emulator.server import Emulator
from mappings.version import template_version
from tests.operations.ops import MILESTONE, PLAN, Ops
from tests.sync.test_mapping_apply import NEW, NEW_VERSION


@pytest.fixture
def bench(emulator_server: Emulator, tmp_path: Path) -> Iterator[Ops]:
    emulator_server.reset(seed="empty")
    ops = Ops(emulator_server, f"sqlite:///{tmp_path / 'mapsync.db'}")
    yield ops
    ops.close()


def _new_mapping(tmp_path: Path) -> str:
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(NEW.model_dump(mode="json", exclude_defaults=True),
                                   sort_keys=False), encoding="utf-8")
    return str(path)


def test_revops_preview_then_apply(bench: Ops, tmp_path: Path) -> None:
    opp = bench.opportunity(name="Initech – Platform")
    assert bench.run("sync", "--once").returncode == 0
    changed = _new_mapping(tmp_path)
    assert template_version(NEW.template("mid_market")) == NEW_VERSION  # type: ignore[arg-type]
    assert bench.run("mappings", "validate", changed).returncode == 0

    shown = bench.run("mappings", "preview", opp, "--mapping", changed, COLUMNS="200")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "Security questionnaire answered" in shown.stdout  # the plan once applied
    assert "Solution validated" not in shown.stdout

    before = bench.snapshot()
    preview = bench.run("mappings", "apply", "--mapping", changed, "--dry-run")
    assert preview.returncode == 0, preview.stderr[-2000:]
    assert ("would: Initech – Platform: adds security_check; removes solution_validation; "
            "re-dates discovery, success_criteria") in preview.stdout
    assert "1 plan(s) behind the mapping; would change 1 plan(s)" in preview.stdout
    assert bench.snapshot() == before

    refused = bench.run("mappings", "apply", "--mapping", changed)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "mapsync: refusing to write to Salesforce without --yes when no terminal can confirm"]

    done = bench.run("mappings", "apply", "--mapping", changed, "--yes")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "changed 1 plan(s), 1 milestone(s) added, 1 removed" in done.stdout
    plan = bench.rows(f"SELECT Mapping_Version__c FROM {PLAN} WHERE Opportunity__c = '{opp}'")
    assert plan == [{"Mapping_Version__c": NEW_VERSION}]
    keys = {r["Key__c"] for r in bench.rows(f"SELECT Key__c FROM {MILESTONE}")}
    assert "security_check" in keys
    assert "solution_validation" not in keys

    again = bench.run("mappings", "apply", "--mapping", changed, "--dry-run")
    assert "0 plan(s) behind the mapping" in again.stdout


def test_apply_with_a_missing_mapping_file_says_so_in_one_line(bench: Ops,
                                                               tmp_path: Path) -> None:
    done = bench.run("mappings", "apply", "--mapping", str(tmp_path / "nope.yaml"), "--yes")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no such file" in done.stderr


def test_apply_waits_for_the_lease_and_names_its_holder(bench: Ops, tmp_path: Path) -> None:
    opp = bench.opportunity()
    assert bench.run("sync", "--once").returncode == 0
    org = bench.sync()
    assert bench.store.try_acquire_lease(org.id, "worker-on-host-7", 60)
    done = bench.run("mappings", "apply", "--mapping", _new_mapping(tmp_path), "--yes",
                     "--wait", "0.5")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"mapsync: org {org.id} is being synced by worker-on-host-7; nothing done (try again "
        "when it has finished)"]
    keys = {r["Key__c"] for r in bench.rows(
        f"SELECT Key__c FROM {MILESTONE} WHERE Plan__r.Opportunity__c = '{opp}'")}
    assert "solution_validation" in keys
    assert "security_check" not in keys

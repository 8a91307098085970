"""``GET /sobjects`` as ETL tools read it: every object by name, with Salesforce's keys.

tap-salesforce and Airbyte's source-salesforce discover an org from the global describe: they
describe every ``queryable`` object listed, pick a replication key, and treat history objects
by ``associateEntityType``. The entries must carry the keys Salesforce sends, in its order.
"""

from __future__ import annotations

from typing import Any

from connectors.emulator.pytest_plugin import client_session
from connectors.emulator.server import Emulator

# the keys of one entry of Salesforce's global describe (API 59.0)
SALESFORCE_KEYS = {
    "activateable", "associateEntityType", "associateParentEntity", "createable", "custom",
    "customSetting", "deepCloneable", "deletable", "deprecatedAndHidden", "feedEnabled",
    "hasSubtypes", "isInterface", "isSubtype", "keyPrefix", "label", "labelPlural",
    "layoutable", "mergeable", "mruEnabled", "name", "queryable", "replicateable",
    "retrieveable", "searchable", "triggerable", "undeletable", "updateable", "urls"}


def global_describe(org: Emulator) -> dict[str, Any]:
    session = client_session(org)
    session.headers["Authorization"] = "Bearer " + org.access_token()
    r = session.get(f"{org.instance_url}/services/data/v59.0/sobjects/", timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_global_describe_lists_every_object_by_name_with_salesforce_keys(
        emulator: Emulator) -> None:
    body = global_describe(emulator)
    assert (body["encoding"], body["maxBatchSize"]) == ("UTF-8", 200)
    names = [o["name"] for o in body["sobjects"]]
    assert names == sorted(names)
    assert set(names) == set(emulator.org.schema.objects)
    for entry in body["sobjects"]:
        assert set(entry) == SALESFORCE_KEYS, entry["name"]
    by_name = {o["name"]: o for o in body["sobjects"]}
    opp = by_name["Opportunity"]
    assert (opp["keyPrefix"], opp["queryable"], opp["retrieveable"], opp["replicateable"],
            opp["custom"]) == ("006", True, True, True, False)
    assert opp["urls"]["describe"] == "/services/data/v59.0/sobjects/Opportunity/describe"
    assert opp["urls"]["layouts"] == "/services/data/v59.0/sobjects/Opportunity/describe/layouts"
    plan = by_name["Mutual_Action_Plan__c"]
    assert (plan["custom"], plan["associateEntityType"]) == (True, None)


def test_global_describe_names_the_parent_of_each_field_history_object(
        emulator: Emulator) -> None:
    by_name = {o["name"]: o for o in global_describe(emulator)["sobjects"]}
    assert (by_name["MAP_Milestone__History"]["associateEntityType"],
            by_name["MAP_Milestone__History"]["associateParentEntity"],
            by_name["MAP_Milestone__History"]["custom"]) == ("History", "MAP_Milestone__c", True)
    assert by_name["OpportunityFieldHistory"]["associateParentEntity"] == "Opportunity"
    assert by_name["OpportunityFieldHistory"]["custom"] is False
    # stage history is an object of its own, not an associate of Opportunity
    assert by_name["OpportunityHistory"]["associateEntityType"] is None
    assert "layouts" not in by_name["OpportunityHistory"]["urls"]

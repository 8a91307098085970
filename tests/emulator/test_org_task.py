"""The local org serves the standard Task as Salesforce saves it (``objects_task.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.emulator.server import Emulator
from tests.emulator.test_org_permissions import As, owned_by, reps


@pytest.fixture
def rep(strict_org: Emulator) -> tuple[As, str, str]:
    """A rep's session, the rep's Id and one of the rep's Opportunities."""
    rep_id = reps(strict_org)[0]
    return As(strict_org, rep_id), rep_id, owned_by(strict_org, rep_id)[0]


def task(session: As, task_id: str) -> dict[str, Any]:
    [row] = session.records(
        "SELECT Subject, Status, Priority, IsClosed, CompletedDateTime, OwnerId, WhatId, "
        f"ActivityDate, IsReminderSet, ReminderDateTime FROM Task WHERE Id = '{task_id}'")
    return row


def test_a_new_task_defaults_to_not_started_normal_open_and_owned_by_its_creator(rep):
    session, rep_id, opp = rep
    r = session.call("POST", "sobjects/Task", json={
        "Subject": "Send the security questionnaire", "WhatId": opp,
        "ActivityDate": "2031-01-10", "IsReminderSet": True,
        "ReminderDateTime": "2031-01-09T09:00:00.000+0000"})
    assert r.status_code == 201, r.text
    assert r.json()["id"].startswith("00T")
    row = task(session, r.json()["id"])
    assert (row["Status"], row["Priority"], row["IsClosed"], row["OwnerId"]) == \
        ("Not Started", "Normal", False, rep_id)
    assert (row["WhatId"], row["ActivityDate"], row["IsReminderSet"]) == \
        (opp, "2031-01-10", True)
    assert row["CompletedDateTime"] is None


def test_completing_a_task_closes_it_and_stamps_when_reopening_clears_it(rep):
    session, _, opp = rep
    task_id = session.call("POST", "sobjects/Task",
                           json={"Subject": "Book the kickoff", "WhatId": opp}).json()["id"]
    assert session.call("PATCH", f"sobjects/Task/{task_id}",
                        json={"Status": "Completed"}).status_code == 204
    done = task(session, task_id)
    assert done["IsClosed"] is True
    assert done["CompletedDateTime"] is not None
    assert session.call("PATCH", f"sobjects/Task/{task_id}",
                        json={"Subject": "Book the kickoff (done)"}).status_code == 204
    assert task(session, task_id)["CompletedDateTime"] == done["CompletedDateTime"]
    assert session.call("PATCH", f"sobjects/Task/{task_id}",
                        json={"Status": "In Progress"}).status_code == 204
    reopened = task(session, task_id)
    assert (reopened["IsClosed"], reopened["CompletedDateTime"]) == (False, None)


@pytest.mark.parametrize(("fields", "code"), [
    ({"Status": "Done"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    ({"Priority": "Urgent"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    ({"IsClosed": True}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
    ({"CompletedDateTime": "2031-01-01T00:00:00.000+0000"}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
    ({"Subject": "x" * 256}, "STRING_TOO_LONG"),
], ids=["status", "priority", "is-closed", "completed-stamp", "subject-length"])
def test_a_task_salesforce_would_refuse_is_refused(rep, fields, code):
    session, _, opp = rep
    r = session.call("POST", "sobjects/Task", json={"Subject": "Call", "WhatId": opp, **fields})
    assert r.status_code == 400, r.text
    assert r.json()[0]["errorCode"] == code


def test_related_to_must_be_an_account_or_opportunity_and_name_a_contact(rep, strict_org):
    session, _, opp = rep
    contact = As(strict_org).records("SELECT Id FROM Contact LIMIT 1")[0]["Id"]
    wrong = session.call("POST", "sobjects/Task", json={"Subject": "Call", "WhatId": contact})
    assert wrong.json()[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    right = session.call("POST", "sobjects/Task",
                         json={"Subject": "Call", "WhatId": opp, "WhoId": contact})
    assert right.status_code == 201, right.text
    assert [t["Id"] for t in session.records(
        f"SELECT Id FROM Task WHERE WhatId = '{opp}' AND IsClosed = false")] == \
        [right.json()["id"]]

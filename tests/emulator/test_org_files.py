"""Salesforce Files in the local org: a ContentVersion makes its document, later versions
join it, links share it, and the bytes come back from the blob URL."""

import base64

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.emulator.pytest_plugin import client_session, salesforce_client

PDF = b"%PDF-1.4\n% a tiny document\n"


@pytest.fixture
def sf(demo_org):
    return salesforce_client(demo_org)


@pytest.fixture
def opp(sf):
    account = sf.Account.create({"Name": "Files Ltd"})["id"]
    return sf.Opportunity.create({"Name": "Files deal", "StageName": "Qualification",
                                  "CloseDate": "2027-01-29", "AccountId": account})["id"]


def _version(sf, data=PDF, **fields):
    body = {"Title": "Plan", "PathOnClient": "Plan.pdf",
            "VersionData": base64.b64encode(data).decode(), **fields}
    return sf.ContentVersion.create(body)["id"]


def _error(excinfo):
    return excinfo.value.content[0]["errorCode"]


def test_first_version_creates_the_document_and_links_it_to_its_record(sf, opp):
    version_id = _version(sf, FirstPublishLocationId=opp)
    version = sf.ContentVersion.get(version_id)
    assert version["VersionNumber"] == "1"
    assert version["IsLatest"] is True
    assert version["ContentSize"] == len(PDF)
    assert version["FileType"] == "PDF"
    assert version["VersionData"] == (f"/services/data/v59.0/sobjects/ContentVersion/"
                                      f"{version_id}/VersionData")
    document = sf.ContentDocument.get(version["ContentDocumentId"])
    assert document["LatestPublishedVersionId"] == version_id
    assert document["Title"] == "Plan"
    links = sf.query(f"SELECT LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink "
                     f"WHERE ContentDocumentId = '{document['Id']}'")["records"]
    assert {(r["LinkedEntityId"][:3], r["ShareType"]) for r in links} == {("006", "V"),
                                                                        ("005", "I")}


def test_a_version_with_the_document_id_joins_it_and_becomes_latest(sf, opp):
    first = _version(sf, FirstPublishLocationId=opp)
    document_id = sf.ContentVersion.get(first)["ContentDocumentId"]
    second = _version(sf, data=PDF + b"v2", ContentDocumentId=document_id)
    rows = sf.query(f"SELECT Id, VersionNumber, IsLatest FROM ContentVersion "
                    f"WHERE ContentDocumentId = '{document_id}' ORDER BY VersionNumber")
    assert [(r["Id"], r["VersionNumber"], r["IsLatest"]) for r in rows["records"]] == [
        (first, "1", False), (second, "2", True)]
    assert sf.ContentDocument.get(document_id)["LatestPublishedVersionId"] == second
    assert sf.query("SELECT COUNT() FROM ContentDocument")["totalSize"] == 1


def test_the_blob_url_answers_the_bytes(demo_org, sf, opp):
    version_id = _version(sf, FirstPublishLocationId=opp)
    url = sf.ContentVersion.get(version_id)["VersionData"]
    response = client_session(demo_org).get(
        demo_org.instance_url + url,
        headers={"Authorization": "Bearer " + demo_org.access_token()})
    assert response.status_code == 200
    assert response.content == PDF


def test_a_version_needs_data_and_a_path(sf):
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.ContentVersion.create({"Title": "Nothing"})
    assert _error(missing) == "REQUIRED_FIELD_MISSING"
    assert {"VersionData", "PathOnClient"} <= set(missing.value.content[0]["fields"])


def test_bad_base64_is_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.ContentVersion.create({"PathOnClient": "a.pdf", "VersionData": "not base64!"})
    assert _error(bad) == "JSON_PARSER_ERROR"  # as a malformed value of any type


def test_base64_over_the_json_limit_is_refused(sf):
    too_big = base64.b64encode(b"\0" * 37_500_001).decode()
    with pytest.raises(SalesforceMalformedRequest) as big:
        sf.ContentVersion.create({"PathOnClient": "big.pdf", "VersionData": too_big})
    assert _error(big) == "MAXIMUM_SIZE_OF_DOCUMENT"


def test_documents_are_not_inserted_directly(sf):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.ContentDocument.create({})
    assert _error(refused) == "INVALID_TYPE_FOR_OPERATION"


def test_a_new_version_cannot_name_a_first_publish_location(sf, opp):
    document_id = sf.ContentVersion.get(_version(sf))["ContentDocumentId"]
    with pytest.raises(SalesforceMalformedRequest) as refused:
        _version(sf, ContentDocumentId=document_id, FirstPublishLocationId=opp)
    assert _error(refused) == "FIELD_INTEGRITY_EXCEPTION"


def test_version_data_cannot_be_updated(sf):
    version_id = _version(sf)
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.ContentVersion.update(version_id, {"VersionData": base64.b64encode(b"x").decode()})
    assert _error(refused) == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_a_document_is_linked_to_a_record_once(sf, opp):
    document_id = sf.ContentVersion.get(_version(sf))["ContentDocumentId"]
    link = {"ContentDocumentId": document_id, "LinkedEntityId": opp, "ShareType": "V",
            "Visibility": "AllUsers"}
    assert sf.ContentDocumentLink.create(link)["success"] is True
    with pytest.raises(SalesforceMalformedRequest) as again:
        sf.ContentDocumentLink.create(link)
    assert _error(again) == "DUPLICATE_VALUE"
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.ContentDocumentLink.create({**link, "ShareType": "X"})
    assert _error(bad) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_a_user_links_only_records_they_can_see(demo_org, sf, opp):
    reps = sf.query(f"SELECT Id FROM User WHERE Username != '{demo_org.username}' "
                    "AND Profile.Name = 'Standard User' LIMIT 1")["records"]
    rep = salesforce_client(demo_org, session_id=demo_org.access_token(reps[0]["Id"]))
    with pytest.raises(SalesforceMalformedRequest) as hidden:
        _version(rep, FirstPublishLocationId=opp)  # a private Opportunity of someone else
    assert _error(hidden) == "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"


def test_deleting_the_document_takes_its_versions_and_links(sf, opp):
    version_id = _version(sf, FirstPublishLocationId=opp)
    document_id = sf.ContentVersion.get(version_id)["ContentDocumentId"]
    sf.ContentDocument.delete(document_id)
    assert sf.query(f"SELECT COUNT() FROM ContentVersion WHERE Id = '{version_id}'")[
        "totalSize"] == 0
    assert sf.query(f"SELECT COUNT() FROM ContentDocumentLink WHERE LinkedEntityId = "
                    f"'{opp}'")["totalSize"] == 0


def test_a_query_answers_the_blob_as_its_url(sf, opp):
    version_id = _version(sf, FirstPublishLocationId=opp)
    row = sf.query(f"SELECT Id, VersionData, ContentDocument.Title FROM ContentVersion "
                   f"WHERE Id = '{version_id}'")["records"][0]
    assert row["VersionData"] == (f"/services/data/v59.0/sobjects/ContentVersion/{version_id}"
                                  "/VersionData")
    assert row["ContentDocument"]["Title"] == "Plan"

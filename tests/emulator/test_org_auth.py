"""OAuth against the local org: each grant type, JWT really verified, sessions and 401s."""

import time

import jwt
import pytest

from connectors.emulator.pytest_plugin import client_session


def token(org, **form):
    return client_session(org).post(org.login_url + "/services/oauth2/token", data=form)


def jwt_assertion(org, key_pem=None, **claims):
    body = {"iss": org.client_id, "sub": org.username, "aud": "https://login.salesforce.com",
            "exp": int(time.time()) + 180, **claims}
    return jwt.encode(body, key_pem or org.private_key_file.read_bytes(), algorithm="RS256")


def test_client_credentials_token_looks_like_salesforces(emulator):
    r = token(emulator, grant_type="client_credentials", client_id=emulator.client_id,
              client_secret=emulator.client_secret)
    body = r.json()
    assert r.status_code == 200
    assert body["access_token"].startswith("00D")
    assert body["access_token"][15] == "!"
    assert body["instance_url"] == emulator.instance_url
    assert body["token_type"] == "Bearer"
    assert body["id"].startswith(emulator.instance_url + "/id/00D")
    assert {"issued_at", "signature"} <= set(body)
    assert "refresh_token" not in body


def test_client_credentials_with_a_wrong_secret_is_refused(emulator):
    r = token(emulator, grant_type="client_credentials", client_id=emulator.client_id,
              client_secret="nope")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_client",
                        "error_description": "invalid client credentials"}


def test_password_flow_gives_a_refresh_token_that_gets_a_new_session(emulator):
    r = token(emulator, grant_type="password", client_id=emulator.client_id,
              client_secret=emulator.client_secret, username=emulator.username,
              password=emulator.password)
    refresh = r.json()["refresh_token"]
    again = token(emulator, grant_type="refresh_token", client_id=emulator.client_id,
                  client_secret=emulator.client_secret, refresh_token=refresh)
    assert again.status_code == 200
    assert again.json()["access_token"] != r.json()["access_token"]


def test_password_flow_with_a_wrong_password_fails_authentication(emulator):
    r = token(emulator, grant_type="password", client_id=emulator.client_id,
              client_secret=emulator.client_secret, username=emulator.username,
              password="wrong")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_jwt_bearer_assertion_signed_with_the_apps_key_is_accepted(emulator):
    r = token(emulator, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
              assertion=jwt_assertion(emulator))
    assert r.status_code == 200
    me = client_session(emulator).get(
        emulator.instance_url + "/services/oauth2/userinfo",
        headers={"Authorization": "Bearer " + r.json()["access_token"]}).json()
    assert me["preferred_username"] == emulator.username
    assert me["organization_id"].startswith("00D")


@pytest.mark.parametrize("audience", ["https://test.salesforce.com", "own-url"])
def test_jwt_audience_may_be_a_salesforce_login_host_or_the_orgs_own_url(emulator, audience):
    aud = emulator.instance_url if audience == "own-url" else audience
    r = token(emulator, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
              assertion=jwt_assertion(emulator, aud=aud))
    assert r.status_code == 200


def test_jwt_signed_with_another_key_is_refused(emulator):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    r = token(emulator, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
              assertion=jwt_assertion(emulator, key_pem=other))
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


@pytest.mark.parametrize(("claims", "error"), [
    ({"exp": int(time.time()) - 600}, "invalid_grant"),
    ({"aud": "https://example.com"}, "invalid_grant"),
    ({"iss": "someone-else"}, "invalid_client_id"),
    ({"sub": "nobody@example.com"}, "invalid_grant"),
])
def test_jwt_with_wrong_claims_is_refused(emulator, claims, error):
    r = token(emulator, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
              assertion=jwt_assertion(emulator, **claims))
    assert r.status_code == 400
    assert r.json()["error"] == error


def test_token_requests_are_not_api_calls(emulator):
    for _ in range(3):
        token(emulator, grant_type="client_credentials", client_id=emulator.client_id,
              client_secret=emulator.client_secret)
    assert emulator.api_calls == 0


def test_bad_token_gets_salesforces_401_body(emulator):
    r = client_session(emulator).get(emulator.instance_url + "/services/data/v59.0/limits",
                                     headers={"Authorization": "Bearer 00Dxx!bogus"})
    assert r.status_code == 401
    assert r.json() == [{"message": "Session expired or invalid",
                         "errorCode": "INVALID_SESSION_ID"}]


def test_unknown_refresh_token_is_refused(emulator):
    r = token(emulator, grant_type="refresh_token", client_id=emulator.client_id,
              refresh_token="5Aep861nothing")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_userinfo_without_a_valid_session_is_401(emulator):
    r = client_session(emulator).get(emulator.instance_url + "/services/oauth2/userinfo",
                                     headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json()[0]["errorCode"] == "INVALID_SESSION_ID"

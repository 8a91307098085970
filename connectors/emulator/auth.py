"""OAuth for the local org: connected-app credentials, the token flows, sessions.

mapsync authenticates with the client-credentials or JWT bearer flow (the password flow is
legacy) and must recover when a session expires. The org issues tokens shaped like
Salesforce's (``00D…!…``), verifies JWT assertions against the connected app's certificate
(signature, issuer, subject, audience, expiry), and expires sessions on demand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


def new_security_token() -> str:
    """A security token as Salesforce mails it: 24 letters and digits."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(24))


@dataclass(frozen=True)
class Credentials:
    """The connected app and the integration user's login.

    ``security_token`` is the user's security token: a SOAP ``login`` (and the OAuth
    username-password flow from an untrusted network) takes the password followed by it.
    """

    client_id: str
    client_secret: str = field(repr=False)
    username: str
    password: str = field(repr=False)
    security_token: str = field(default="", repr=False)

    def login_of(self, username: str) -> tuple[str, str]:
        """(password, security token) of the user ``username``: the integration user's own,
        every other user's derived from the connected app's secret, so each seeded user can
        log in (a rep over SOAP, say) and no further secret is stored or printed."""
        if username.lower() == self.username.lower():
            return self.password, self.security_token
        digest = hmac.new(self.client_secret.encode(), f"login:{username.lower()}".encode(),
                          hashlib.sha256).hexdigest()
        return "Pw-" + digest[:13], digest[13:37]

    @classmethod
    def generate(cls) -> Credentials:
        return cls(client_id="3MVG9" + secrets.token_urlsafe(60)[:80],
                   client_secret=secrets.token_hex(32).upper(),
                   username="integration@mapsync.example",
                   password=secrets.token_urlsafe(12),
                   security_token=new_security_token())

    @classmethod
    def load_or_create(cls, path: Path | None) -> Credentials:
        if path is not None and path.exists():
            creds = cls(**json.loads(path.read_text()))
            if creds.security_token:
                return creds
            # a state directory from before security tokens: the user gets one now
            creds = replace(creds, security_token=new_security_token())
        else:
            creds = cls.generate()
        if path is not None:
            path.write_text(json.dumps(asdict(creds), indent=2))
            path.chmod(0o600)
        return creds


@dataclass(frozen=True)
class JwtKeyPair:
    """The connected app's certificate and the private key a client signs assertions with."""

    private_key_file: Path
    certificate_file: Path

    @classmethod
    def load_or_create(cls, directory: Path) -> JwtKeyPair:
        key_file, cert_file = directory / "jwt_private_key.pem", directory / "jwt_cert.pem"
        if not (key_file.exists() and cert_file.exists()):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mapsync connected app")])
            now = datetime.now(UTC)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now - timedelta(days=1))
                    .not_valid_after(now + timedelta(days=3650))
                    .sign(key, hashes.SHA256()))
            key_file.write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
            key_file.chmod(0o600)
            cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key_file, cert_file)

    def public_key_pem(self) -> bytes:
        cert = x509.load_pem_x509_certificate(self.certificate_file.read_bytes())
        return cert.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)


class OAuthError(Exception):
    """A token request refused: 400 ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


def verify_assertion(assertion: str, public_key_pem: bytes, client_id: str,
                     audiences: tuple[str, ...]) -> str:
    """The username (``sub``) of a valid JWT bearer assertion; raises OAuthError otherwise."""
    try:
        claims = jwt.decode(assertion, public_key_pem, algorithms=["RS256"],
                            audience=list(audiences), options={"require": ["exp", "sub", "iss",
                                                                           "aud"]})
    except jwt.ExpiredSignatureError:
        raise OAuthError("invalid_grant", "expired authorization code") from None
    except jwt.InvalidTokenError:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    if claims["iss"] != client_id:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    return str(claims["sub"])


@dataclass
class Session:
    """One access token and what it has been used for."""

    token: str
    user_id: str
    issued_at: float  # time.monotonic()
    issued_at_ms: int  # wall clock, as the token response reports it
    calls: int = 0


@dataclass
class Sessions:
    """Access and refresh tokens of the org (thread-safe)."""

    org_id: str
    _by_token: dict[str, Session] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> user id
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, user_id: str) -> Session:
        token = f"{self.org_id[:15]}!AQ" + secrets.token_urlsafe(72)
        session = Session(token, user_id, time.monotonic(), int(time.time() * 1000))
        with self._lock:
            self._by_token[token] = session
        return session

    def issue_refresh(self, user_id: str) -> str:
        token = "5Aep861" + secrets.token_urlsafe(60)
        with self._lock:
            self._refresh[token] = user_id
        return token

    def user_for_refresh(self, token: str) -> str | None:
        with self._lock:
            return self._refresh.get(token)

    def find(self, token: str, max_calls: int | None,
             ttl_seconds: float | None) -> Session | None:
        """The live session of ``token``; an expired one is forgotten."""
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            expired = ((max_calls is not None and session.calls >= max_calls)
                       or (ttl_seconds is not None
                           and time.monotonic() - session.issued_at >= ttl_seconds))
            if expired:
                del self._by_token[token]
                return None
            return session

    def expire_all(self) -> None:
        with self._lock:
            self._by_token.clear()


def signature(client_secret: str, identity_url: str, issued_at: str) -> str:
    mac = hmac.new(client_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()

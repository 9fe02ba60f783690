"""AWS Signature Version 4 verification for the robot's REST calls (PROTOCOL.md §2.1, §8).

Pure functions over one request's parts; no I/O. :func:`verify` recomputes the signature the
robot's client (a fork of the AWS SDK) made with its key pair and compares it in constant time.

Robot quirks this accepts, because real robots do them:

- the credential scope's region and service are whatever the robot put there (``us-east-1``
  with ``Loop``, ``api`` with ``jibo`` …): they are read from the scope, not assumed;
- ``NewRobotToken`` and ``CreateHubToken`` claim the *empty-body* hash in
  ``x-amz-content-sha256`` while sending ``{"deviceId": …}``. The signature covers the claimed
  hash, so for that one hash value (and ``UNSIGNED-PAYLOAD``, used for media) the body is not
  bound by the signature; any other claimed hash must match the body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime

import attrs

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
#: How far the request's X-Amz-Date may be from our clock (AWS allows 15 minutes).
MAX_SKEW_SECONDS = 15 * 60

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+)\s*,\s*Signature=(?P<sig>[0-9a-fA-F]{64})\s*$"
)
_SPACES = re.compile(r"\s+")


class SignatureError(Exception):
    """The signature is missing, malformed or wrong; ``code`` is the AWS error type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@attrs.frozen
class Authorization:
    """The parsed ``Authorization`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@attrs.frozen
class SignedRequest:
    """What the signature covers. ``headers`` must have lower-case names."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


def parse_authorization(value: str) -> Authorization:
    """Parse ``AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…``.

    Raises:
        SignatureError: ``IncompleteSignatureException`` when the header is malformed.
    """
    match = _AUTH.match(value.strip())
    if match is None:
        raise SignatureError("IncompleteSignatureException", "malformed Authorization header")
    parts = match["cred"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not re.fullmatch(r"\d{8}", parts[1]):
        raise SignatureError("IncompleteSignatureException", "malformed credential scope")
    return Authorization(
        access_key_id=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        signed_headers=tuple(match["headers"].lower().split(";")),
        signature=match["sig"].lower(),
    )


def _canonical_query(query: str) -> str:
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    encoded = sorted(
        (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in pairs
    )
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_request(req: SignedRequest, auth: Authorization, payload_hash: str) -> str:
    path = urllib.parse.quote(req.path or "/", safe="/-_.~")
    headers = "".join(
        f"{name}:{_SPACES.sub(' ', req.headers.get(name, '').strip())}\n"
        for name in auth.signed_headers
    )
    return "\n".join(
        [req.method.upper(), path, _canonical_query(req.query), headers,
         ";".join(auth.signed_headers), payload_hash]
    )  # fmt: skip


def signing_key(secret: str, auth: Authorization) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), auth.date.encode(), hashlib.sha256).digest()
    for part in (auth.region, auth.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _request_time(req: SignedRequest) -> datetime:
    raw = req.headers.get("x-amz-date", "")
    try:
        return datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(
            "IncompleteSignatureException", "X-Amz-Date is missing or not yyyymmddThhmmssZ"
        ) from None


def verify(req: SignedRequest, auth: Authorization, secret: str, *, now_s: float) -> None:
    """Check ``auth`` against ``req`` signed with ``secret``.

    Raises:
        SignatureError: ``InvalidSignatureException`` for a wrong signature, an expired or
            future date, or a body that does not match its claimed hash.
    """
    if "host" not in auth.signed_headers:
        raise SignatureError("IncompleteSignatureException", "the host header must be signed")
    when = _request_time(req)
    if when.strftime("%Y%m%d") != auth.date:
        raise SignatureError("InvalidSignatureException", "credential date is not X-Amz-Date")
    if abs(when.timestamp() - now_s) > MAX_SKEW_SECONDS:
        raise SignatureError(
            "InvalidSignatureException",
            "Signature expired: X-Amz-Date is more than 15 minutes from the server's time",
        )
    claimed = req.headers.get("x-amz-content-sha256")
    actual = hashlib.sha256(req.body).hexdigest()
    if claimed is None:
        claimed = actual
    elif claimed not in (UNSIGNED_PAYLOAD, EMPTY_SHA256, actual):
        raise SignatureError(
            "InvalidSignatureException",
            "the x-amz-content-sha256 header does not match the request body",
        )
    string_to_sign = "\n".join(
        [ALGORITHM, req.headers.get("x-amz-date", ""), auth.scope,
         hashlib.sha256(canonical_request(req, auth, claimed).encode()).hexdigest()]
    )  # fmt: skip
    expected = hmac.new(signing_key(secret, auth), string_to_sign.encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), auth.signature):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )

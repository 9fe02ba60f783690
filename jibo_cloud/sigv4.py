"""AWS Signature Version 4 verification for the robot's REST calls (PROTOCOL.md §2.1, §8).

Pure functions over one request's parts; no I/O. :func:`verify` recomputes the signature the
robot's client (a fork of the AWS SDK) made with its key pair and compares it in constant time.

As AWS enforces it: ``host`` and ``x-amz-target`` must be among the signed headers, and the
body must match its hash (``x-amz-content-sha256``, or the hash of the body when the header is
absent). Otherwise one captured request could be replayed, within its 15 minutes, as any other
operation with any other body.

Robot quirks this accepts, only where the caller (:mod:`jibo_cloud.rest.identity`) allows them
for one operation with a :class:`Leniency`, because real robots do them:

- the credential scope's region and service are whatever the robot put there (``us-east-1``
  with ``Loop``, ``api`` with ``jibo`` …): they are read from the scope, not assumed;
- ``NewRobotToken`` and ``CreateHubToken`` are signed without ``x-amz-target`` and claim the
  *empty-body* hash while sending ``{"deviceId": …}`` or ``{}`` (``unsigned_target``,
  ``empty_hash_body``): the signature then binds neither the operation nor the body, so the
  caller accepts it only for those two targets and only with their own small body;
- ``Media.Create`` and the other binary uploads claim ``UNSIGNED-PAYLOAD``
  (``unsigned_payload``), as S3 allows; ``x-amz-target`` is still signed there.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Mapping

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
_AMZ_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")
_SCOPE_DATE = re.compile(r"\d{8}")


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
class Leniency:
    """The robot quirks one request may use (all off: AWS's own rules)."""

    #: ``x-amz-target`` may be missing from the signed headers (the two token calls).
    unsigned_target: bool = False
    #: The empty-body hash may be claimed for a body that is not empty (the token calls).
    empty_hash_body: bool = False
    #: ``UNSIGNED-PAYLOAD`` may be claimed (binary uploads such as ``Media.Create``).
    unsigned_payload: bool = False


STRICT = Leniency()


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
    if len(parts) != 5 or parts[4] != "aws4_request" or not _SCOPE_DATE.fullmatch(parts[1]):
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
    if not query:  # every REST call: POST / with no query string
        return ""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    encoded = sorted(
        (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in pairs
    )
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_request(req: SignedRequest, auth: Authorization, payload_hash: str) -> str:
    path = "/" if req.path in ("", "/") else urllib.parse.quote(req.path, safe="/-_.~")
    headers = "".join(
        f"{name}:{_SPACES.sub(' ', req.headers.get(name, '').strip())}\n"
        for name in auth.signed_headers
    )
    return "\n".join(
        [req.method.upper(), path, _canonical_query(req.query), headers,
         ";".join(auth.signed_headers), payload_hash]
    )  # fmt: skip


def signing_key(secret: str, auth: Authorization) -> bytes:
    return _derive_key(secret, auth.date, auth.region, auth.service)


@functools.lru_cache(maxsize=1024)
def _derive_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The four chained HMACs of the key derivation. They depend only on the key and the
    credential scope, which change once a day per robot, so they are remembered: a boot's
    16 calls derive the key once instead of 16 times (AWS's own SDKs cache it the same way).
    The cache lives in this process's memory only, beside the secrets it is derived from."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _request_time(req: SignedRequest) -> tuple[str, int]:
    """X-Amz-Date's day (``yyyymmdd``) and its Unix time. A fixed-width regex and
    :func:`calendar.timegm`, not ``strptime`` (which costs ~40 µs per call here)."""
    raw = req.headers.get("x-amz-date", "")
    match = _AMZ_DATE.fullmatch(raw)
    if match is not None:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        valid = year >= 1 and 1 <= month <= 12 and hour < 24 and minute < 60 and second < 60
        if valid and 1 <= day <= calendar.monthrange(year, month)[1]:
            return raw[:8], calendar.timegm((year, month, day, hour, minute, second))
    raise SignatureError(
        "IncompleteSignatureException", "X-Amz-Date is missing or not yyyymmddThhmmssZ"
    )


def _payload_hash(req: SignedRequest, leniency: Leniency) -> str:
    """The payload hash the signature must cover: the claimed one if the body matches it (or a
    quirk ``leniency`` allows excuses it), else :class:`SignatureError`."""
    claimed = req.headers.get("x-amz-content-sha256")
    actual = hashlib.sha256(req.body).hexdigest()
    if claimed is None or claimed == actual:
        return actual
    if claimed == UNSIGNED_PAYLOAD and leniency.unsigned_payload:
        return claimed
    if claimed == EMPTY_SHA256 and leniency.empty_hash_body:
        return claimed
    raise SignatureError(
        "InvalidSignatureException",
        "the x-amz-content-sha256 header does not match the request body",
    )


def verify(
    req: SignedRequest, auth: Authorization, secret: str, *, now_s: float,
    leniency: Leniency = STRICT,
) -> None:  # fmt: skip
    """Check ``auth`` against ``req`` signed with ``secret``.

    Raises:
        SignatureError: ``IncompleteSignatureException`` when ``host`` or ``x-amz-target`` is
            not signed; ``InvalidSignatureException`` for a wrong signature, an expired or
            future date, or a body that does not match its claimed hash.
    """
    if "host" not in auth.signed_headers:
        raise SignatureError("IncompleteSignatureException", "the host header must be signed")
    if "x-amz-target" not in auth.signed_headers and not leniency.unsigned_target:
        raise SignatureError(
            "IncompleteSignatureException", "the x-amz-target header must be signed"
        )
    day, when = _request_time(req)
    if day != auth.date:
        raise SignatureError("InvalidSignatureException", "credential date is not X-Amz-Date")
    if abs(when - now_s) > MAX_SKEW_SECONDS:
        raise SignatureError(
            "InvalidSignatureException",
            "Signature expired: X-Amz-Date is more than 15 minutes from the server's time",
        )
    claimed = _payload_hash(req, leniency)
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

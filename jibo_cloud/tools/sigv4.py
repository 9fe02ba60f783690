"""AWS Signature Version 4, as the robot's ``jibo-server-client`` signs its REST calls (§2.1).

Only what a robot does: ``POST /`` with a JSON body, signed headers ``host``,
``x-amz-content-sha256``, ``x-amz-date`` and (except for the token calls) ``x-amz-target``.
The credential scope per target follows the captures in ``shared/fixtures/http/``.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac

ALGORITHM = "AWS4-HMAC-SHA256"

#: Targets signed with service ``jibo`` and without ``x-amz-target`` (region, service) [robot].
TOKEN_SCOPES: dict[str, tuple[str, str]] = {
    "Notification_20150505.NewRobotToken": ("us-east-1", "jibo"),
    "Account_20151111.CreateHubToken": ("api", "jibo"),
}


def scope_for(target: str) -> tuple[str, str, bool]:
    """(region, service, sign x-amz-target?) for an ``X-Amz-Target`` value."""
    if target in TOKEN_SCOPES:
        region, service = TOKEN_SCOPES[target]
        return region, service, False
    prefix = target.split("_", 1)[0]
    # Captures show ``Loop`` capitalised and every other service lower-case.
    service = prefix if prefix == "Loop" else prefix.lower()
    return "us-east-1", service, True


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign_headers(
    *,
    host: str,
    target: str,
    body: bytes,
    access_key_id: str,
    secret_access_key: str,
    when: datetime.datetime,
) -> dict[str, str]:
    """Headers that sign ``POST /`` with ``body`` for ``target`` (to add to the request).

    Returns:
        ``Authorization``, ``X-Amz-Date`` and ``X-Amz-Content-Sha256`` (the caller also sends
        ``Host`` and ``X-Amz-Target`` with the same values that were signed).
    """
    region, service, with_target = scope_for(target)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    payload_hash = hashlib.sha256(body).hexdigest()
    canonical = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    if with_target:
        canonical["x-amz-target"] = target
    names = sorted(canonical)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{n}:{canonical[n].strip()}\n" for n in names),
            signed_headers,
            payload_hash,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + secret_access_key).encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Authorization": f"{ALGORITHM} Credential={access_key_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}",
        "X-Amz-Date": amz_date,
        "X-Amz-Content-Sha256": payload_hash,
    }

"""Signed, expiring blob URLs (S3 presigned style): who may PUT or GET a body, and until when.

Every upload and download URL the server hands out (backups, log and ASR uploads, media,
update packages, shared keys) carries three query parameters::

    ?X-Jibo-Expires=<epoch seconds>&X-Jibo-Principal=<who>&X-Jibo-Signature=<hex HMAC>

The signature is an HMAC-SHA256 over the method, the path, the expiry and the principal, keyed
with a key derived from the hub token secret (so every ``--workers`` process and every server
on one data folder or one ``JIBO_TOKEN_SECRET`` agrees, and nothing new must be configured).
A URL is good for one method and one path only: a download URL cannot be replayed as an upload,
nor moved to another blob. The robot fetches these URLs without SigV4, exactly as it fetched
the original's S3 presigned URLs, so the URL itself is the credential: it is never logged with
its query (see the access log).

The principal is an opaque string chosen by the code that mints the URL (``account:<id>`` for a
household's robot or owner, ``robot:<name>`` for the update package a robot asked for,
``operator``); the route that serves the blob compares it with the
record's owner, so a leaked URL opens that one blob for its lifetime and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping

import attrs

from jibo_cloud.config import Config

EXPIRES = "X-Jibo-Expires"
PRINCIPAL = "X-Jibo-Principal"
SIGNATURE = "X-Jibo-Signature"
#: Longest principal accepted (it is echoed into logs and compared with records).
MAX_PRINCIPAL = 200
_DERIVATION = b"jibo-cloud signed blob urls v1"


class UrlRejected(Exception):
    """The URL is unsigned, tampered with, for another method or path, or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class UrlGrant:
    """What a verified URL allows: ``method`` on ``path`` for ``principal`` until ``expires``."""

    principal: str
    expires: int


def _key(config: Config) -> bytes:
    return hmac.new(config.token_secret.encode(), _DERIVATION, hashlib.sha256).digest()


def _mac(config: Config, method: str, path: str, expires: int, principal: str) -> str:
    message = f"{method.upper()}\n{path}\n{expires}\n{principal}".encode()
    return hmac.new(_key(config), message, hashlib.sha256).hexdigest()


def sign_path(
    config: Config,
    method: str,
    path: str,
    *,
    principal: str,
    now_s: float,
    ttl_s: float | None = None,
) -> str:
    """``path`` with the signature query appended (``/backups/abc?X-Jibo-Expires=…``).

    ``ttl_s`` defaults to ``config.blob_url_seconds``. ``path`` must not carry a query.
    """
    if "?" in path:
        raise ValueError("sign_path takes a path without a query")
    if not principal or len(principal) > MAX_PRINCIPAL:
        raise ValueError("a signed URL needs a principal of 1 to 200 characters")
    expires = int(now_s + (config.blob_url_seconds if ttl_s is None else ttl_s))
    query = urllib.parse.urlencode(
        {
            EXPIRES: str(expires),
            PRINCIPAL: principal,
            SIGNATURE: _mac(config, method, path, expires, principal),
        }
    )
    return f"{path}?{query}"


def sign_url(
    config: Config,
    method: str,
    base_url: str,
    path: str,
    *,
    principal: str,
    now_s: float,
    ttl_s: float | None = None,
) -> str:
    """:func:`sign_path` behind ``base_url`` (``https://api.jibo.com``)."""
    signed = sign_path(config, method, path, principal=principal, now_s=now_s, ttl_s=ttl_s)
    return f"{base_url}{signed}"


def verify(
    config: Config, method: str, path: str, query: Mapping[str, str], *, now_s: float
) -> UrlGrant:
    """Check a request's method, path and signature query at ``now_s``.

    Raises:
        UrlRejected: with a short reason for the log (never the signature).
    """
    expires_raw = query.get(EXPIRES)
    principal = query.get(PRINCIPAL)
    signature = query.get(SIGNATURE)
    if not expires_raw or not principal or not signature:
        raise UrlRejected("the URL is not signed")
    if len(principal) > MAX_PRINCIPAL or not expires_raw.isdigit() or len(expires_raw) > 12:
        raise UrlRejected("the URL's signature query is malformed")
    expires = int(expires_raw)
    expected = _mac(config, method, path, expires, principal)
    if not hmac.compare_digest(expected, signature.lower()):
        raise UrlRejected("the URL's signature does not match")
    if now_s >= expires:
        raise UrlRejected("the URL has expired")
    return UrlGrant(principal=principal, expires=expires)


def parse_query(raw: str | bytes) -> dict[str, str]:
    """A query string as a flat mapping (the last value of a repeated name wins)."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


def account_principal(account_id: str) -> str:
    """The principal of a household (its robot and its owner share the household's blobs)."""
    return f"account:{account_id}"


def robot_principal(robot_name: str) -> str:
    """The principal of one robot (update package URLs: every robot may fetch a package, and
    the URL says which robot took it; it fits no household record)."""
    return f"robot:{robot_name}"


OPERATOR_PRINCIPAL = "operator"

"""One log line for failed TLS handshakes, rate limited.

hypercorn drops a connection whose TLS handshake fails without a word, so an operator whose
robots cannot connect (wrong CA on the robot, an old client's suites, plain HTTP on the TLS
port) sees nothing. :class:`HandshakeLog` writes one WARNING line per failure with the
client's address and OpenSSL's reason (never anything the client sent), at most one line per
:data:`HANDSHAKE_LOG_SECONDS`; failures in between are counted and the next line says how
many were not shown.
"""

from __future__ import annotations

import logging
import math
import ssl

import attrs
import trio

log = logging.getLogger("jibo_cloud.tls")

#: At most one handshake failure line per this many seconds (per server process).
HANDSHAKE_LOG_SECONDS = 10.0


def handshake_failure_reason(exc: BaseException) -> str:
    """OpenSSL's short reason for a failed handshake (``NO_SHARED_CIPHER``,
    ``WRONG_VERSION_NUMBER``, ``HTTP_REQUEST``, ``TLSV1_ALERT_UNKNOWN_CA`` …), or what else
    ended it (the client closed, the handshake timed out)."""
    if isinstance(exc, trio.TooSlowError):
        return "no handshake within the handshake timeout"
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLError):
        return str(cause.reason or type(cause).__name__)
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return "the client closed the connection during the handshake"


@attrs.define
class HandshakeLog:
    """Rate-limited WARNING lines for failed TLS handshakes (see the module docstring)."""

    interval: float = HANDSHAKE_LOG_SECONDS
    _next_line_at: float = -math.inf
    _not_shown: int = 0

    def failed(self, client: str, reason: str) -> None:
        now = trio.current_time()
        if now < self._next_line_at:
            self._not_shown += 1
            return
        self._next_line_at = now + self.interval
        more = ""
        if self._not_shown:
            more = f" ({self._not_shown} more failed handshakes not shown)"
            self._not_shown = 0
        log.warning("TLS handshake failed from %s: %s%s", client, reason, more)

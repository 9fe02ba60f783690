"""Errors raised by the I/O layer.

Each one carries what its boundary needs to answer in the protocol's own format: a REST
error becomes ``{"__type", "message"}`` with ``x-amzn-ErrorType``; a rejected handshake
becomes an HTTP status with a plain-text reason; an upstream failure becomes a hub ERROR
code. Protocol (wire) errors live in :mod:`protocol.errors`.
"""

from __future__ import annotations


class JiboCloudError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(JiboCloudError):
    """The configuration is unusable; the message says which setting and why."""


class ServiceError(JiboCloudError):
    """A REST operation failed in a way the robot should see (PROTOCOL.md §2.1).

    Args:
        code: the AWS-JSON ``__type`` and ``x-amzn-ErrorType`` value.
        message: human-readable text; never includes secrets or stack traces.
        status: the HTTP status to answer with.
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class HandshakeRejected(JiboCloudError):
    """A socket upgrade is refused with an HTTP status and a plain-text reason (§4.1)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class SocketClosed(Exception):
    """The transport broke while writing; the socket is finished."""


class RobotClosed(SocketClosed):
    """The robot closed the socket (or the connection dropped): seen by the task reading it,
    which stops; nothing more is sent."""


class UpstreamError(JiboCloudError):
    """A service the hub calls (parser, skill, history, recogniser) failed.

    Args:
        service: which service (``"parser"``, ``"skill"``, ``"asr"``, ``"history"``).
        detail: what went wrong, e.g. ``Request failed with status code 503``.
        timed_out: True when the failure was the service's own timeout.
    """

    def __init__(self, service: str, detail: str, *, timed_out: bool = False) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail
        self.timed_out = timed_out


class StorageUnavailable(JiboCloudError):
    """The database cannot be reached right now; the request may be retried."""


class MissingExtra(JiboCloudError):
    """An optional dependency group (a ``jibo-cloud[extra]``) is needed but not installed.

    Args:
        extra: the extra that provides it, e.g. ``"fuzz"`` or ``"postgres"``.
        what: what needs it and which package is missing, e.g. ``"fuzzing needs Hypothesis"``.
    """

    def __init__(self, extra: str, what: str) -> None:
        super().__init__(f"{what}, which is not installed: pip install 'jibo-cloud[{extra}]'")
        self.extra = extra


class NewerDatabase(JiboCloudError):
    """The database has migrations this code does not know: a newer release wrote it.

    Running an older release on it would read and write a schema it does not understand, so
    start-up stops instead.

    Args:
        found: the applied migration versions beyond ``known``.
        known: the newest migration version this code has.
    """

    def __init__(self, found: list[int], known: int) -> None:
        versions = ", ".join(str(v) for v in found)
        super().__init__(
            f"the database has schema migration(s) {versions} but this jibo-cloud knows "
            f"migrations up to {known} only: it was used by a newer jibo-cloud. Upgrade "
            "jibo-cloud, or restore the backup taken before the upgrade"
        )
        self.found = found
        self.known = known

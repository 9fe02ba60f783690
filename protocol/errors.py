"""Errors of the wire protocol (STYLE.md "Error taxonomy").

Pure: no trio, no sockets. ``ProtocolError`` is the base class and is never raised directly:

- :class:`RemoteProtocolError`: the peer (usually the robot) sent something wrong; the hub
  answers with a final ERROR frame carrying :attr:`RemoteProtocolError.message` and ``code``.
- :class:`DecodeError`: a frame could not be decoded. Its message is the spec's text where
  the spec has one (PROTOCOL.md §4.4: ``Invalid JSON arrived into socket: <data>``,
  ``Unknown message type: <type>``); :attr:`DecodeError.detail` names the JSON path.
- :class:`LocalProtocolError`: we misused a machine or built an invalid message (a bug).
"""

from __future__ import annotations

import enum

__all__ = [
    "DecodeError",
    "ErrorCode",
    "LocalProtocolError",
    "OggError",
    "ProtocolError",
    "RemoteProtocolError",
]


class ErrorCode(enum.Enum):
    """The ``code`` of a hub ERROR frame (PROTOCOL.md §4.4); values are the spec strings."""

    #: any failure of speech recognition
    ASR = "ASR"
    #: any failure of the NLU parser (e.g. ``Request failed with status code 503``)
    PARSER = "PARSER"
    #: no CONTEXT within 5 s of needing it
    TIMEOUT_CONTEXT = "TIMEOUT_CONTEXT"
    #: the skill did not answer within 10 s
    TIMEOUT_SKILL = "TIMEOUT_SKILL"
    #: the matched skill is not known
    SKILL_NOT_FOUND = "SKILL_NOT_FOUND"
    #: the transaction took longer than 60 s
    TIMEOUT_TRANSACTION = "TIMEOUT_TRANSACTION"
    #: anything else
    GENERAL = "GENERAL"


class ProtocolError(Exception):
    """Base class of every error :mod:`protocol` raises on purpose; never raised directly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class RemoteProtocolError(ProtocolError):
    """The peer sent something wrong; the hub answers with a final ERROR frame.

    Args:
        message: the ERROR frame's ``data.message`` (spec text where the spec has one).
        code: the ERROR frame's ``data.code``, or None for no code.
    """

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.code = code

    def __repr__(self) -> str:
        code = f", code={self.code.name}" if self.code is not None else ""
        return f"{type(self).__name__}({self.message!r}{code})"


class DecodeError(RemoteProtocolError):
    """A frame (or an HTTP body, or Ogg bytes) could not be decoded.

    Args:
        message: what goes into the ERROR frame (the spec's exact text where it has one).
        path: the JSON path of the problem (``$.data.rules``), or None.
        detail: one line naming the path and what was wrong
            (``$.data.rules: expected list of str``); defaults to ``message``.
        code: the ERROR code, usually None (the spec's decode errors carry no code).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        detail: str | None = None,
        code: ErrorCode | None = None,
    ) -> None:
        super().__init__(message, code)
        self.path = path
        self.detail = detail if detail is not None else message


class OggError(DecodeError):
    """Audio bytes are not a well-formed Ogg page (truncated, bad capture pattern, bad CRC)."""

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{message}{where}", code=ErrorCode.ASR)
        self.offset = offset


class LocalProtocolError(ProtocolError):
    """We misused the protocol layer (a bug): end the socket and log the traceback."""

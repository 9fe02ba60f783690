"""Host mappings: which service an operator-chosen host name is (``jibo-cloud host …``).

A robot reaches three host names (PROTOCOL.md §1) and the server routes by their prefixes
(``api-socket.*``, ``neo-hub.*``; docs/architecture.md "Routing"). A revival reached under
other names (``notify.example.org`` for the notification socket, ``hub.example.org`` for the
hub) records them here; :class:`jibo_cloud.app.HostMap` keeps them in memory for routing.

This module validates and stores mappings; it does not route. ``*.jibo.com`` names cannot be
mapped: their roles are fixed by §1.
"""

from __future__ import annotations

import re

import attrs

from jibo_cloud.errors import JiboCloudError
from jibo_cloud.storage.db import QueryBase, Tx

#: The services a host can be: the robot's three, named as
#: :data:`jibo_cloud.tools.target.ROBOT_HOSTS` names them, and the owner's web portal.
SERVICES: tuple[str, ...] = ("api", "socket", "hub", "portal")

#: A DNS name (or a dotted IPv4 address): labels of letters, digits and inner hyphens.
_HOST_NAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


class HostMappingError(JiboCloudError):
    """A host name or service an operator gave cannot be mapped; the message says why."""


@attrs.frozen
class HostMapping:
    """One row of ``host_mappings``: ``host`` (lower case, no port) is ``service``."""

    host: str
    service: str
    #: When the mapping was last written (epoch ms).
    created: int


def normalize_host_name(host: str) -> str:
    """The stored spelling of ``host`` (lower case, no trailing dot), checked.

    Raises:
        HostMappingError: not a host name, has a port, or is a ``*.jibo.com`` name.
    """
    name = host.strip().lower()
    name = name.removesuffix(".")
    if ":" in name or "/" in name:
        raise HostMappingError(f"give a bare host name (no port, scheme or path), got {host!r}")
    if len(name) > 253 or not _HOST_NAME.fullmatch(name):
        raise HostMappingError(f"not a host name: {host!r}")
    if name == "jibo.com" or name.endswith(".jibo.com"):
        raise HostMappingError(
            f"{name} cannot be mapped: *.jibo.com roles are fixed (PROTOCOL.md §1)"
        )
    return name


def check_service(service: str) -> str:
    """``service`` if it is one of :data:`SERVICES`.

    Raises:
        HostMappingError: any other value.
    """
    if service not in SERVICES:
        raise HostMappingError(f"service must be one of {', '.join(SERVICES)}, got {service!r}")
    return service


class HostQueries(QueryBase):
    """Mixed into :class:`jibo_cloud.storage.Storage`: put, remove and list host mappings."""

    async def put_host_mapping(self, host: str, service: str, *, now_ms: int) -> str | None:
        """Map ``host`` to ``service`` (replacing any mapping it had).

        Returns:
            The service the host was mapped to before, or None if it was not mapped.

        Raises:
            HostMappingError: bad host name or service (see :func:`normalize_host_name`).
        """
        name, service = normalize_host_name(host), check_service(service)

        def fn(tx: Tx) -> str | None:
            rows = tx.execute("SELECT service FROM host_mappings WHERE host = ?", (name,))
            tx.execute(
                "INSERT INTO host_mappings (host, service, created) VALUES (?, ?, ?)"
                " ON CONFLICT (host) DO UPDATE SET service = excluded.service,"
                " created = excluded.created",
                (name, service, now_ms),
            )
            return str(rows[0][0]) if rows else None

        return await self._write(fn)

    async def remove_host_mapping(self, host: str) -> bool:
        """Forget ``host``'s mapping; False if it had none.

        Raises:
            HostMappingError: not a host name (so a typo is not reported as "not mapped").
        """
        name = normalize_host_name(host)

        def fn(tx: Tx) -> bool:
            tx.execute("DELETE FROM host_mappings WHERE host = ?", (name,))
            return tx.rowcount() > 0

        return bool(await self._write(fn))

    async def list_host_mappings(self) -> list[HostMapping]:
        """Every mapping, by host name."""
        rows = await self.db.read(
            lambda tx: tx.execute("SELECT host, service, created FROM host_mappings ORDER BY host")
        )
        return [HostMapping(host=r[0], service=r[1], created=int(r[2])) for r in rows]

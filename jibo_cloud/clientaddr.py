"""The one rule for a client's address (logs, access log, rate limits).

Behind a proxy the TCP peer is the proxy, and the client's address arrives in
``X-Forwarded-For``, a comma-separated list each proxy *appends* to. Only the entries our own
proxies wrote can be believed: a client writes whatever it likes at the left of the list, so
the leftmost entry is forgeable and never used.

The rule (docs/configuration.md, "Client addresses"):

- Without ``trust_forwarded``: the peer address, whatever the headers say.
- With ``trust_forwarded``: the peer is one trusted proxy hop. Walking ``X-Forwarded-For``
  from the right, entries that are themselves trusted proxies (``trusted_proxies``:
  addresses or networks) are skipped; the first entry that is not one is the client. Behind
  one proxy, ``X-Forwarded-For: 6.6.6.6, 203.0.113.7`` is client ``203.0.113.7``.
- A malformed entry where the walk stops (not an IP address) is taken as the client, as
  printable text, never a crash; if every entry is a trusted proxy, the leftmost is the
  client. Several ``X-Forwarded-For`` headers count as one list joined in order (RFC 9110
  §5.3).

Pure: no sockets, no clock. Parsed proxy networks are cached per configuration value.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: What a client address is when nothing is known (no peer, e.g. a Unix socket).
UNKNOWN = "-"
#: Longest text kept for a malformed entry: it goes into log lines and rate-limit keys.
MAX_TEXT = 64


class ForwardingConfig(Protocol):
    """The two settings the rule reads (:class:`jibo_cloud.config.Config` has them)."""

    @property
    def trust_forwarded(self) -> bool: ...

    @property
    def trusted_proxies(self) -> tuple[str, ...]: ...


@functools.lru_cache(maxsize=64)
def proxy_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """``trusted_proxies`` parsed once (config.py has already refused malformed ones)."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in proxies)


def parse_address(text: str) -> IPAddress | None:
    """An IP address from an ``X-Forwarded-For`` entry or a peer, or None when malformed.

    Accepts the forms proxies write: ``203.0.113.7``, ``203.0.113.7:51234``, ``2001:db8::1``,
    ``[2001:db8::1]:443``; an IPv4-mapped IPv6 address is its IPv4 address.
    """
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port; bare IPv6 has at least two colons
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _printable(text: str) -> str:
    """A malformed entry as it may appear in a log line: printable, no spaces, short."""
    cleaned = "".join(ch if ch.isprintable() and not ch.isspace() else "?" for ch in text)
    return cleaned[:MAX_TEXT] or "?"


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def choose_client(
    peer: str | None,
    forwarded_for: str | None,
    *,
    trust_forwarded: bool,
    trusted_proxies: tuple[str, ...] = (),
) -> str:
    """The client address from the peer and the (joined) ``X-Forwarded-For`` value.

    Args:
        peer: the TCP peer's address (ASGI ``scope["client"][0]``), or None.
        forwarded_for: every ``X-Forwarded-For`` header of the request joined with ``,``.
        trust_forwarded: the peer is a proxy we trust (``JIBO_TRUST_FORWARDED``).
        trusted_proxies: further proxies whose entries are skipped (``JIBO_TRUSTED_PROXIES``).

    Returns:
        A canonical IP address text, the peer text, a cleaned malformed entry, or ``-``.
    """
    if not peer:
        fallback = UNKNOWN
    elif len(peer) <= MAX_TEXT and peer.isprintable() and " " not in peer:
        fallback = peer  # the server's own text for the socket's peer (already canonical)
    else:
        fallback = _printable(peer)
    if not trust_forwarded or not forwarded_for:
        return fallback
    entries = [entry.strip() for entry in forwarded_for.split(",")]
    entries = [entry for entry in entries if entry]
    if not entries:
        return fallback
    networks = proxy_networks(trusted_proxies) if trusted_proxies else ()
    for entry in reversed(entries):
        address = parse_address(entry)
        if address is None:
            return _printable(entry)
        if not _is_trusted(address, networks):
            return str(address)
    return str(parse_address(entries[0]))  # every hop is a trusted proxy: the furthest one


def client_address(peer: str | None, headers: Mapping[str, str], config: ForwardingConfig) -> str:
    """:func:`choose_client` for lower-cased ``headers`` (one value per name, already joined)."""
    return choose_client(
        peer,
        headers.get("x-forwarded-for"),
        trust_forwarded=config.trust_forwarded,
        trusted_proxies=config.trusted_proxies,
    )


def joined_forwarded_for(raw_headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Every ``X-Forwarded-For`` header of an ASGI scope, joined in order, or None."""
    found = [
        bytes(value).decode("latin-1")
        for name, value in raw_headers
        if bytes(name).lower() == b"x-forwarded-for"
    ]
    return ",".join(found) if found else None


def scope_client_address(scope: Mapping[str, Any], config: ForwardingConfig) -> str:
    """The client address of an ASGI ``http`` or ``websocket`` scope."""
    client = scope.get("client")
    peer = str(client[0]) if client else None
    if not config.trust_forwarded:
        return choose_client(peer, None, trust_forwarded=False)
    return choose_client(
        peer,
        joined_forwarded_for(scope.get("headers", ())),
        trust_forwarded=True,
        trusted_proxies=config.trusted_proxies,
    )

"""The client address rule: rightmost ``X-Forwarded-For`` entry that is not a trusted proxy.

With ``JIBO_TRUST_FORWARDED=true`` the leftmost entry was taken, and a
client writes that one itself.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jibo_cloud.clientaddr import (
    choose_client,
    client_address,
    joined_forwarded_for,
    parse_address,
    scope_client_address,
)
from jibo_cloud.logs import TraceContext


@attrs.frozen
class Forwarding:
    trust_forwarded: bool = True
    trusted_proxies: tuple[str, ...] = ()


def test_behind_one_proxy_the_rightmost_entry_is_the_client() -> None:
    headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.7"}
    assert client_address("10.0.0.2", headers, Forwarding()) == "203.0.113.7"


def test_without_trust_the_peer_is_the_client() -> None:
    headers = {"x-forwarded-for": "203.0.113.7"}
    assert client_address("10.0.0.2", headers, Forwarding(trust_forwarded=False)) == "10.0.0.2"
    # Trusted proxies alone do not switch forwarding on: JIBO_TRUST_FORWARDED does.
    config = Forwarding(trust_forwarded=False, trusted_proxies=("10.0.0.0/8",))
    assert client_address("10.0.0.2", headers, config) == "10.0.0.2"


def test_trusted_proxies_are_skipped_from_the_right() -> None:
    config = Forwarding(trusted_proxies=("10.0.0.0/8", "192.0.2.1"))
    headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 192.0.2.1, 10.1.2.3"}
    assert client_address("10.0.0.2", headers, config) == "203.0.113.7"
    # Every hop a trusted proxy: the furthest one is the best we know.
    assert client_address("10.0.0.2", {"x-forwarded-for": "10.9.9.9, 10.1.1.1"}, config) == (
        "10.9.9.9"
    )


def test_no_header_or_an_empty_one_means_the_peer() -> None:
    assert client_address("10.0.0.2", {}, Forwarding()) == "10.0.0.2"
    assert client_address("10.0.0.2", {"x-forwarded-for": " , "}, Forwarding()) == "10.0.0.2"
    assert client_address(None, {}, Forwarding()) == "-"


@pytest.mark.parametrize(
    ("entry", "client"),
    [
        ("203.0.113.7:51234", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("unknown", "unknown"),
        ("not an address", "not?an?address"),
        ("\x00\x1b[31m", "??[31m"),
        ("x" * 500, "x" * 64),
    ],
)
def test_entry_forms_and_malformed_entries(entry: str, client: str) -> None:
    # A malformed entry where the walk stops is the client (printable, short), never a crash.
    headers = {"x-forwarded-for": f"1.2.3.4, {entry}"}
    assert client_address("10.0.0.2", headers, Forwarding()) == client


def test_multiple_headers_are_joined_in_order() -> None:
    raw = [(b"X-Forwarded-For", b"6.6.6.6"), (b"host", b"x"), (b"x-forwarded-for", b"203.0.113.7")]
    assert joined_forwarded_for(raw) == "6.6.6.6,203.0.113.7"
    scope: dict[str, Any] = {"client": ("10.0.0.2", 5555), "headers": raw}
    assert scope_client_address(scope, Forwarding()) == "203.0.113.7"
    assert scope_client_address(scope, Forwarding(trust_forwarded=False)) == "10.0.0.2"
    assert scope_client_address({"headers": []}, Forwarding()) == "-"


def test_trace_context_uses_the_same_rule() -> None:
    headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.1.2.3"}
    trace = TraceContext.from_headers(
        headers, "10.0.0.2", trust_forwarded=True, trusted_proxies=("10.0.0.0/8",)
    )
    assert trace.client == "203.0.113.7"


addresses = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)
#: Whatever a client may write at the left of the list: addresses (trusted proxies' included),
#: garbage, commas, ports, empty entries.
forged_entries = st.lists(
    st.one_of(
        addresses,
        st.sampled_from(["10.0.0.1", "10.255.0.9", "192.0.2.1", "unknown", "", " "]),
        st.text(max_size=30),
    ),
    max_size=6,
)
TRUSTED = ("10.0.0.0/8", "192.0.2.1")


def _canonical(address: str) -> str:
    """An address as the rule reports it (IPv4-mapped IPv6 is its IPv4 address)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _trusted(address: str) -> bool:
    ip = ipaddress.ip_address(_canonical(address))
    return any(ip in ipaddress.ip_network(net) for net in TRUSTED)


@given(
    client=addresses.filter(lambda a: not _trusted(a)),
    forged=forged_entries,
    proxies=st.lists(st.sampled_from(["10.0.0.5", "10.1.1.1", "192.0.2.1"]), max_size=3),
    peer=st.sampled_from(["10.0.0.2", "127.0.0.1", "203.0.113.250"]),
)
def test_a_client_cannot_choose_its_address_by_prepending(
    client: str, forged: list[str], proxies: list[str], peer: str
) -> None:
    """The client sends any ``X-Forwarded-For`` it likes; each proxy on the way appends the
    address it received from (the client, then the inner trusted proxies). The result is
    always the client's real address."""
    chain = [*forged, client, *proxies]
    header = ", ".join(chain)
    found = choose_client(peer, header, trust_forwarded=True, trusted_proxies=TRUSTED)
    assert found == _canonical(client)


@given(client=addresses, forged=forged_entries, peer=st.sampled_from(["10.0.0.2", "::1"]))
def test_behind_one_untrusted_hop_prepending_changes_nothing(
    client: str, forged: list[str], peer: str
) -> None:
    """One proxy, no list: only the entry the proxy appended counts."""
    header = ", ".join([*forged, client])
    assert choose_client(peer, header, trust_forwarded=True) == _canonical(client)


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=40)))
def test_never_crashes(forwarded: str, peer: str | None) -> None:
    found = choose_client(peer, forwarded, trust_forwarded=True, trusted_proxies=TRUSTED)
    assert 0 < len(found) <= 64
    assert found.isprintable()
    assert " " not in found


def test_parse_address_rejects_garbage() -> None:
    assert parse_address("1.2.3") is None
    assert parse_address("a:b") is None
    assert str(parse_address(" 1.2.3.4 ")) == "1.2.3.4"

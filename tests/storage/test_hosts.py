"""Host mappings in the storage (both backends) and the in-memory map the router reads."""

from __future__ import annotations

import attrs
import pytest
import trio

from jibo_cloud.app import HOST_REFRESH_SECONDS, HostMap
from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.storage import Storage
from jibo_cloud.storage.hosts import HostMapping, HostMappingError, normalize_host_name


async def test_put_list_replace_and_remove(storage: Storage) -> None:
    assert await storage.list_host_mappings() == []
    assert await storage.put_host_mapping("Notify.Example.org.", "socket", now_ms=10) is None
    assert await storage.put_host_mapping("hub.example.org", "hub", now_ms=11) is None
    assert await storage.list_host_mappings() == [
        HostMapping("hub.example.org", "hub", 11),
        HostMapping("notify.example.org", "socket", 10),
    ]
    # Replacing says what it was, and the row carries the new service and time.
    assert await storage.put_host_mapping("notify.example.org", "api", now_ms=12) == "socket"
    assert HostMapping("notify.example.org", "api", 12) in await storage.list_host_mappings()
    assert await storage.remove_host_mapping("NOTIFY.example.org") is True
    assert await storage.remove_host_mapping("notify.example.org") is False
    assert await storage.list_host_mappings() == [HostMapping("hub.example.org", "hub", 11)]


@pytest.mark.parametrize(
    ("host", "service", "message"),
    [
        ("api.jibo.com", "api", "*.jibo.com roles are fixed"),
        ("JIBO.COM", "hub", "*.jibo.com roles are fixed"),
        ("notify.example.org:8443", "socket", "no port"),
        ("https://notify.example.org", "socket", "no port, scheme or path"),
        ("not a host", "socket", "not a host name"),
        ("-bad.example.org", "socket", "not a host name"),
        ("", "socket", "not a host name"),
        ("notify.example.org", "websocket", "service must be one of api, socket, hub"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    storage: Storage, host: str, service: str, message: str
) -> None:
    with pytest.raises(HostMappingError, match=message.replace("*", r"\*")):
        await storage.put_host_mapping(host, service, now_ms=1)
    assert await storage.list_host_mappings() == []


def test_host_names_normalize_to_one_spelling() -> None:
    assert normalize_host_name(" Hub.Example.ORG. ") == "hub.example.org"
    assert normalize_host_name("192.168.1.20") == "192.168.1.20"
    assert normalize_host_name("jibo.community.org") == "jibo.community.org"  # not *.jibo.com
    with pytest.raises(HostMappingError):
        normalize_host_name("a" * 64 + ".example.org")  # a label is at most 63 characters


def test_lookup_ignores_case_and_port_and_unmapped_hosts_get_none() -> None:
    hosts = HostMap()
    assert hosts.service_for("notify.example.org") is None  # empty map: no work at all
    hosts.replace([HostMapping("notify.example.org", "socket", 1)])
    assert hosts.service_for("NOTIFY.example.org:8443") == "socket"
    assert hosts.service_for("notify.example.org.") == "socket"
    assert hosts.service_for("notify.example.org") == "socket"
    assert hosts.service_for("other.example.org") is None
    assert hosts.service_for("api-socket.jibo.com") is None
    assert hosts.service_for("") is None
    assert hosts.service_for("[::1]:8080") is None


@attrs.define
class TableOnly:
    """Just the one query :meth:`HostMap.serve_refresh` makes, answered without a thread.

    The real backends answer from worker threads, and the autojump clock moves on while a
    thread runs, so exact refresh times can only be asserted against an in-task answer.
    """

    rows: list[HostMapping] = attrs.field(factory=list)
    down: bool = False
    reads: int = 0

    async def list_host_mappings(self) -> list[HostMapping]:
        self.reads += 1
        if self.down:
            raise StorageUnavailable("database unreachable")
        return list(self.rows)


async def test_the_refresh_task_loads_at_start_and_every_interval(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    table = TableOnly([HostMapping("hub.example.org", "hub", 1)])
    hosts = HostMap()
    await nursery.start(hosts.serve_refresh, table)
    # Loaded before start() returns: the server accepts nothing before the first load.
    assert hosts.service_for("hub.example.org") == "hub"
    table.rows.append(HostMapping("notify.example.org", "socket", 2))
    await trio.sleep(HOST_REFRESH_SECONDS - 0.1)
    assert hosts.service_for("notify.example.org") is None
    await trio.sleep(0.2)
    assert hosts.service_for("notify.example.org") == "socket"
    assert trio.current_time() == pytest.approx(HOST_REFRESH_SECONDS + 0.1)
    assert table.reads == 2


async def test_a_failed_refresh_keeps_the_mappings_it_had(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    table = TableOnly([HostMapping("hub.example.org", "hub", 1)])
    hosts = HostMap()
    await nursery.start(hosts.serve_refresh, table)
    table.down = True
    await trio.sleep(HOST_REFRESH_SECONDS * 2 + 0.1)
    assert table.reads == 3  # it kept trying
    assert hosts.service_for("hub.example.org") == "hub"
    table.down, table.rows = False, []
    await trio.sleep(HOST_REFRESH_SECONDS)
    assert hosts.service_for("hub.example.org") is None  # a removal takes effect too


async def test_the_first_load_failing_stops_the_start(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """At start-up the storage was just opened and migrated: a failure there is loud."""
    with pytest.raises(StorageUnavailable):
        await nursery.start(HostMap().serve_refresh, TableOnly(down=True))

"""The running server's shared pieces, opened once and closed once.

:func:`open_runtime` owns every long-lived resource (database pool, blob store, service
clients, the notification hub) and hands them to :func:`jibo_cloud.app.create_app` as one
explicit value: no module globals (STYLE.md).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import attrs
import trio

from jibo_cloud.config import Config
from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.http_clients import ASR, CHAT, ServiceClients
from jibo_cloud.reservations import Reservations
from jibo_cloud.services import History, NoRecognizer, Parser, Recognizer, SkillHandler
from jibo_cloud.shutdown import Shutdown

if TYPE_CHECKING:
    from jibo_cloud.notify import NotificationHub
    from jibo_cloud.skills.household import HouseholdSettingsCache
    from jibo_cloud.storage import Storage
    from jibo_cloud.storage.blobs import Blobs
    from protocol.routing import SkillTable

log = logging.getLogger(__name__)


def wall_clock_ms() -> int:
    """Epoch milliseconds for ``ts`` fields: the one place the I/O layer reads the wall clock.

    Protocol code never calls this; it is passed in as ``now_ms`` (STYLE.md).
    """
    return time.time_ns() // 1_000_000


class NotOpened(LookupError):
    """A runtime piece that :func:`open_runtime` opens was read before anything set it (a
    test's hand-built runtime that lacks it): a loud error, never a silent empty stand-in."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the runtime has no {name}: open_runtime opens it (or set it)")


def _new_hub(runtime: Runtime) -> NotificationHub:
    from jibo_cloud.notify import NotificationHub  # the hub's modules import this one

    return NotificationHub(runtime)


@attrs.define
class Runtime:
    """What the app's routes share. Built by :func:`open_runtime`; tests may build their own
    (``Runtime(config=..., storage=...)``) and set what they use."""

    config: Config
    now_ms: Callable[[], int] = wall_clock_ms
    #: Set when a graceful shutdown starts: sockets stop taking new transactions.
    shutting_down: Shutdown = attrs.field(factory=Shutdown)
    #: Server-side speech recognition; NoRecognizer answers ``ASR`` errors.
    recognizer: Recognizer = attrs.field(factory=NoRecognizer)
    #: The NLU parser: the embedded one, or a remote client (``config.parser_url``).
    parser: Parser | None = None
    #: In-process skills by skill id (the built-in skills).
    skill_handlers: dict[str, SkillHandler] = attrs.field(factory=dict)
    #: Interaction history (in memory, in the storage, or remote).
    history: History | None = None
    #: Each robot's household settings (the portal's Settings page) as the hub reads them per
    #: turn (the household's preferCloudSkills for the parser); None: the server's settings.
    households: HouseholdSettingsCache | None = None
    _skills: SkillTable | None = attrs.field(default=None, alias="skills")
    _storage: Storage | None = attrs.field(default=None, alias="storage")
    _blobs: Blobs | None = attrs.field(default=None, alias="blobs")
    #: This server process among those sharing the storage (``--workers``): rows that only
    #: live while a process runs (open notification sessions) carry it, so the supervisor
    #: can close what a dead worker left open.
    instance_id: str = attrs.field(factory=lambda: secrets.token_hex(8))
    #: One long-lived HTTP client per outside service: remote ASR, chat, and the
    #: understanding providers take theirs with ``runtime.http.get(name)``.
    http: ServiceClients = attrs.field(factory=ServiceClients)
    #: Bytes each household is storing right now (the quota check counts them).
    reserved: Reservations = attrs.field(factory=Reservations)
    #: The notification sockets of this process and delivery to them (:mod:`jibo_cloud.notify`).
    notifications: NotificationHub = attrs.field(default=attrs.Factory(_new_hub, takes_self=True))

    @property
    def skills(self) -> SkillTable:
        """The skill manifests (routing table); :class:`NotOpened` if none was loaded."""
        if self._skills is None:
            raise NotOpened("skill manifests")
        return self._skills

    @skills.setter
    def skills(self, table: SkillTable) -> None:
        self._skills = table

    @property
    def storage(self) -> Storage:
        """The storage backend (SQLite or PostgreSQL behind one interface)."""
        if self._storage is None:
            raise NotOpened("storage")
        return self._storage

    @storage.setter
    def storage(self, storage: Storage) -> None:
        self._storage = storage

    @property
    def blobs(self) -> Blobs:
        """The blob store (the data folder or an S3-compatible bucket): media, uploads,
        backups, update packages."""
        if self._blobs is None:
            raise NotOpened("blob store")
        return self._blobs

    @blobs.setter
    def blobs(self, blobs: Blobs) -> None:
        self._blobs = blobs


@asynccontextmanager
async def open_runtime(config: Config, instance_id: str | None = None) -> AsyncIterator[Runtime]:
    """Open everything the server needs for ``config``; close it all on exit.

    ``instance_id`` names this process among ``config.workers`` (the supervisor picks it, so
    it can clean up after a worker that died); by default a fresh random one.
    """
    # The data folder is created 0700 (or refused if others can read it); partial blobs swept.
    from jibo_cloud.storage.files import prepare_data_dir

    prepare_data_dir(config)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    runtime = Runtime(config=config)
    if instance_id is not None:
        runtime.instance_id = instance_id
    # Durable storage (migrated at start-up) and the blob store.
    from jibo_cloud.storage import connect_storage
    from jibo_cloud.storage.blobs import open_blob_store

    runtime.storage = await connect_storage(config)
    try:
        runtime.blobs = await open_blob_store(config)
    except BaseException:
        with trio.move_on_after(5, shield=True):
            await runtime.storage.aclose()
        raise
    # The embedded parser (unless a remote one is configured) and the built-in skills.
    from jibo_cloud.nlu.parser import EmbeddedParser
    from jibo_cloud.skills.household import HouseholdSettingsCache
    from jibo_cloud.skills.registry import builtin_handlers
    from jibo_cloud.speech import open_recognizer

    # The configured services' clients are built here, at start-up, once.
    asr_http = runtime.http.get(ASR) if config.asr_url else None
    chat_http = runtime.http.get(CHAT) if config.chat_url else None
    runtime.recognizer = open_recognizer(config, http=asr_http)
    if config.parser_url is None:
        runtime.parser = EmbeddedParser(prefer_cloud=config.prefer_cloud_skills)
    runtime.households = HouseholdSettingsCache(runtime.storage)
    runtime.skill_handlers.update(
        builtin_handlers(
            now_ms=runtime.now_ms,
            chat_url=config.chat_url,
            default_time_zone=config.time_zone,
            chat_http=chat_http,
            config=config,  # the report and answers providers' settings and clients
            http=runtime.http,
            households=runtime.households,  # each robot's household settings (the portal's)
        )
    )
    # Skill manifests, interaction history and the remote parser (PROTOCOL.md §5).
    from jibo_cloud.hub.clients import RemoteParser, open_history
    from jibo_cloud.hub.manifests import load_skills

    runtime.skills = load_skills([config.skills_dir])
    runtime.history = open_history(
        config.history_url, runtime.now_ms, workers=config.workers, storage=runtime.storage
    )
    if config.parser_url:
        runtime.parser = RemoteParser(base_url=config.parser_url, now_ms=runtime.now_ms)
    try:
        yield runtime
    finally:
        with trio.move_on_after(5, shield=True):
            await runtime.recognizer.aclose()  # decoder worker processes, if any
        with trio.move_on_after(5, shield=True):  # the outside services' clients
            await runtime.http.aclose()
        with trio.move_on_after(5, shield=True):  # the blob store (an S3 client's pool)
            await runtime.blobs.aclose()
        with trio.move_on_after(5, shield=True):  # voice turns still waiting to be written
            try:
                await runtime.storage.flush_voice_turns()
            except StorageUnavailable as exc:
                log.warning("voice turns not recorded at shutdown: storage unavailable: %s", exc)
            except Exception as exc:  # best effort, as the batch writer: never fail the close
                log.warning("voice turns not recorded at shutdown: %s", type(exc).__name__)
        with trio.move_on_after(5, shield=True):  # the storage
            await runtime.storage.aclose()

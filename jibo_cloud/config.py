"""Server configuration: one frozen value built from flags, environment and the data directory.

Precedence for every setting: command-line flag, then environment variable, then default.
Nothing here opens sockets or databases; :func:`load_config` only reads the environment and,
when no token secret is configured, reads or creates the development secret file in the data
directory (so ``serve`` and ``token`` agree on it).

Environment variables (documented in ``docs/configuration.md``):

- ``JIBO_DATA_DIR``: where the embedded database, blobs and the dev secret live.
- ``JIBO_DATABASE_URL``: ``sqlite:///path`` or ``postgresql://…``; default SQLite in the data dir.
- ``JIBO_TOKEN_SECRET`` (or the original hub's ``ETCO_server_hubTokenSecret``): the HS256 secret
  for hub tokens without ``kid``.
- ``JIBO_TOKEN_KEYS``: extra keys for rotation, ``kid1=secret1,kid2=secret2``.
- ``JIBO_SIGNING_KID``: sign new hub tokens with that extra key instead of the primary secret.
- ``JIBO_DISABLE_AUTH`` (or the original ``ETCO_hub_disableAuth``): ``true`` accepts hub sockets
  without a token. Development only; a warning is logged at start-up.
- ``JIBO_TRUST_FORWARDED``: ``true`` to believe ``x-forwarded-*`` headers (behind a proxy).
- ``JIBO_UNKNOWN_SIGV4_KEYS``: ``reject`` (default) or ``pending`` (robot adoption).
- ``JIBO_TRUSTED_PROXIES``, ``JIBO_BACKLOG``, ``JIBO_BODY_TIMEOUT``, ``JIBO_HANDSHAKE_TIMEOUT``,
  ``JIBO_HUB_TOKEN_MAX_SECONDS``, ``JIBO_BLOB_URL_SECONDS``, ``JIBO_HOUSEHOLD_QUOTA``,
  ``JIBO_MIN_FREE_DISK``, the rate limits (``JIBO_RATE_PER_ADDRESS``,
  ``JIBO_HANDSHAKES_PER_ADDRESS``, ``JIBO_AUTH_FAILURES_PER_MINUTE``,
  ``JIBO_RATE_PER_PRINCIPAL``), socket caps (``JIBO_MAX_SOCKETS_PER_TOKEN``,
  ``JIBO_MAX_SOCKETS_PER_ROBOT``), ``JIBO_ACCESS_LOG`` and ``JIBO_ALLOW_OPEN_DATA_DIR``:
  limits and hardening (docs/security.md).
- ``JIBO_TLS_PORT`` (``auto``, ``off`` or a port), ``JIBO_TLS_CERTFILE``, ``JIBO_TLS_KEYFILE``,
  ``JIBO_TLS_REGIONS``: the TLS port of ``serve`` and its certificate (docs/tls.md).
- ``JIBO_SKILLS_DIR``: extra skill manifests to load besides the built-in ones.
- ``JIBO_PARSER_URL``, ``JIBO_HISTORY_URL``: remote services (PROTOCOL.md §5); default in-process.
- ``JIBO_ASR_URL``, ``JIBO_CHAT_URL``: OpenAI-compatible endpoints (speech issue).
- ``JIBO_ASR_PROCESSES``: decoder worker processes of the embedded recogniser (default: the
  number of CPUs; ``0`` decodes in the server's worker threads).
- ``JIBO_ASR_WARM_UP``: ``serve`` starts those workers (and loads Whisper) at start-up, in the
  background (default ``true``; ``false``: with the first spoken turn).
- ``JIBO_WEATHER_URL``, ``JIBO_WEATHER_PLACE``, ``JIBO_WEATHER_UNITS``, ``JIBO_NEWS_FEEDS``,
  ``JIBO_CALENDARS``, ``JIBO_KNOWLEDGE_URL``, ``JIBO_WORDNET_DIR``: the report and answers
  skills' providers (docs/skills.md).
- ``JIBO_PREFER_CLOUD_SKILLS``: ``clock,greetings``: answer those shared words with this
  server's skills instead of launching the robot's own (docs/skills.md).
- ``JIBO_BLOB_URL`` (``s3://bucket/prefix``), ``JIBO_S3_ENDPOINT_URL``, ``JIBO_S3_REGION``:
  blobs in an S3-compatible bucket instead of the data folder (docs/storage.md).
- ``JIBO_METRICS_PORT`` (a port or ``off``), ``JIBO_METRICS_HOST``: the operator port with
  ``/metrics``, ``/healthz`` and ``/readyz`` (docs/operators.md).
- ``JIBO_INSTANCE_LEASE_SECONDS``: each server process's lease in the shared database
  (docs/operators.md "Several servers on one database").
- ``JIBO_PORTAL_HOSTS_ONLY``: ``true`` serves the owner's portal only on host names mapped to
  ``portal`` (docs/portal.md).
- ``JIBO_TIME_ZONE``: the clock skill's zone when a robot's CONTEXT carries no offset
  (``America/New_York`` or ``-05:00``); default UTC.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

import attrs
import platformdirs

from jibo_cloud.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
SECRET_FILE_NAME = "token-secret"  # noqa: S105 - a file name, not a secret
SQLITE_FILE_NAME = "jibo.sqlite3"
#: ``tls_port`` value for "no TLS listener" (``--tls-port off``, ``JIBO_TLS_PORT=off``).
TLS_OFF = -1

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _flag(value: str | None, name: str) -> bool:
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def default_data_dir() -> Path:
    """The per-user data folder (e.g. ``~/.local/share/jibo-cloud`` on Linux)."""
    return Path(platformdirs.user_data_dir("jibo-cloud", appauthor=False))


@attrs.frozen
class Config:
    """Everything the server needs to know, resolved and validated.

    ``token_secret`` is a secret: it is excluded from ``repr`` so a logged config never leaks it.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = attrs.field(factory=default_data_dir, converter=Path)
    database_url: str = ""
    token_secret: str = attrs.field(default="", repr=False)
    #: Extra HS256 keys by ``kid`` for rotation (PROTOCOL.md §8).
    token_keys: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    #: When set, new hub tokens are signed with ``token_keys[signing_kid]`` and carry that kid.
    signing_kid: str | None = None
    #: Where the token secret came from: ``env``, ``file`` or ``explicit`` (for the start-up line).
    token_secret_source: str = "explicit"  # noqa: S105 - a label, not a secret
    disable_auth: bool = False
    trust_forwarded: bool = False
    #: Proxies (addresses or networks) whose ``x-forwarded-for`` entries are believed, beyond
    #: the one hop that ``trust_forwarded`` trusts (docs/configuration.md, "Client addresses").
    trusted_proxies: tuple[str, ...] = ()
    #: Requests signed with a key we do not know (or unsigned): ``reject`` (403) or
    #: ``pending`` (recorded for an operator to approve with ``jibo-cloud robot approve``;
    #: still 403 until then). docs/security.md.
    unknown_sigv4_keys: str = attrs.field(
        default="reject", validator=attrs.validators.in_(("reject", "pending"))
    )
    skills_dir: Path | None = None
    parser_url: str | None = None
    history_url: str | None = None
    asr_url: str | None = None
    #: Decoder worker processes of the embedded recogniser (docs/speech.md); 0 = decode in
    #: the server's worker threads (one core at most: pocketsphinx holds the GIL).
    asr_processes: int = attrs.field(
        factory=lambda: os.cpu_count() or 1, validator=attrs.validators.ge(0)
    )
    #: ``jibo-cloud serve`` starts the recogniser's workers and loads its models at start-up
    #: (in the background: connections are accepted meanwhile) instead of with the first
    #: spoken turn. Servers started in-process (:func:`jibo_cloud.server.serve`, the tests')
    #: never do: they start the workers with the first spoken turn.
    asr_warm_up: bool = True
    chat_url: str | None = None
    #: Default time zone for the clock skill (IANA name or ``±HH:MM``); "" means UTC.
    time_zone: str = ""
    #: Families of shared words this server's skills answer instead of the robot's own
    #: (``JIBO_PREFER_CLOUD_SKILLS``: ``clock``, ``greetings``; docs/skills.md). Default:
    #: the robot's skills, as with the original cloud.
    prefer_cloud_skills: tuple[str, ...] = ()
    #: Server processes sharing the listening socket (``jibo-cloud serve --workers``). One
    #: process is a single trio loop on one core; more use more cores. State that must be seen
    #: by every process (notification presence and queue, launch history) then lives in the
    #: storage, see docs/operators.md.
    workers: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    #: Graceful shutdown: how long transactions in flight may finish (seconds).
    grace_seconds: float = 10.0
    #: Largest text frame accepted on a hub socket (bytes); larger closes with 1009.
    max_text_frame: int = 64 * 1024
    #: Largest binary (audio) frame accepted on a hub socket (bytes); larger closes with 1009.
    max_binary_frame: int = 256 * 1024
    #: Websocket keep-alive ping interval (seconds). PROTOCOL.md §3: the robot expects traffic
    #: on its notification socket within about 120 s, and we must send nothing it does not
    #: understand, so protocol-level pings are the keep-alive. Hub sockets get them too.
    ping_interval: float = 30.0
    #: Largest REST body accepted (bytes).
    max_rest_body: int = 1024 * 1024
    #: Largest upload body (media, logs, backups, update packages) accepted (bytes).
    max_upload_body: int = 64 * 1024 * 1024
    #: Listen backlog of every listening socket (capped by the kernel's somaxconn).
    backlog: int = attrs.field(default=4096, validator=attrs.validators.ge(1))
    #: A request body (or the request line and headers) must arrive within this (seconds).
    body_timeout: float = 30.0
    #: An HTTP request or websocket upgrade must be complete within this (seconds).
    handshake_timeout: float = 10.0
    #: Longest hub token lifetime accepted (seconds); tokens without ``exp`` are refused.
    hub_token_max_seconds: float = 24 * 3600.0
    #: How long a signed blob URL (upload or download) is valid (seconds).
    blob_url_seconds: float = 3600.0
    #: Stored bytes per household (account) before uploads are refused with 507.
    household_quota: int = 2 * 1024 * 1024 * 1024
    #: Free disk below which writes are refused with 503 (bytes).
    min_free_disk: int = 512 * 1024 * 1024
    #: Requests per second per client address (REST and uploads), with a burst of 4 times that.
    rate_per_address: float = 50.0
    #: Socket handshakes per second per client address, with a burst of 4 times that.
    handshakes_per_address: float = 20.0
    #: Failed authentications per minute per address before it is throttled.
    auth_failures_per_minute: int = 30
    #: Requests per second per principal (robot, owner, operator), with a burst of 4 times that.
    rate_per_principal: float = 20.0
    #: Open sockets per hub token / per robot.
    max_sockets_per_token: int = 8
    max_sockets_per_robot: int = 16
    #: Where the access log goes: a file path, ``-`` for standard output, ``off`` for none;
    #: "" means ``DATA_DIR/access.log``.
    access_log: str = ""
    #: Start even when the data folder is readable by others (not recommended).
    allow_open_data_dir: bool = False
    #: TLS port (HTTPS and WSS) beside the plain one (docs/tls.md): None = 443 when a
    #: certificate is available and the port can be bound, else no TLS; :data:`TLS_OFF` = no
    #: TLS; 0 = an ephemeral port (tests).
    tls_port: int | None = None
    #: The server certificate chain and key (PEM); None = what ``jibo-cloud certs init`` made.
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    #: Regions whose ``<region>.jibo.com`` and ``<region>-socket.jibo.com`` the generated
    #: certificate names (PROTOCOL.md §1: the robot derives its hosts from its region).
    tls_regions: tuple[str, ...] = ("api",)
    #: The report and answers skills' providers (docs/skills.md "Report and answers"):
    #: Open-Meteo's base URL, the place ("lat,lon") when CONTEXT has none, the units.
    weather_url: str = "https://api.open-meteo.com"
    weather_place: str = ""
    weather_units: str = attrs.field(
        default="auto", validator=attrs.validators.in_(("auto", "fahrenheit", "celsius"))
    )
    #: RSS/Atom feeds for the news; empty = the defaults (skills/providers/news.py).
    news_feeds: tuple[str, ...] = ()
    #: ``member=ics-url,…`` (first name or loop user id; ``*`` = everyone). Secret URLs.
    calendars: str = attrs.field(default="", repr=False)
    #: Wikipedia's base URL (REST summary API) and the WordNet data folder (wordnet-base).
    knowledge_url: str = "https://en.wikipedia.org"
    wordnet_dir: Path = Path("/usr/share/wordnet")
    #: Where blobs live (docs/storage.md "Blobs"): "" = the data folder's ``blobs``;
    #: ``s3://bucket/prefix`` = an S3-compatible bucket (the data folder still stages bodies).
    blob_url: str = ""
    #: The S3-compatible endpoint (MinIO, Garage, …); "" = AWS. Credentials are boto3's own
    #: (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profile or role), never a setting here.
    s3_endpoint_url: str = ""
    s3_region: str = ""
    #: The operator port serving ``/metrics``, ``/healthz`` and ``/readyz``
    #: (docs/operators.md "Metrics"); None = not served; 0 = an ephemeral port (tests).
    metrics_port: int | None = None
    #: Where the operator port listens (it is not for robots: loopback by default).
    metrics_host: str = "127.0.0.1"
    #: Each server process's lease in the database (docs/operators.md "Several servers"):
    #: renewed every third of it; when it lapses (kill -9, a lost host) the other servers
    #: close that process's notification sessions.
    instance_lease_seconds: float = attrs.field(default=15.0, validator=attrs.validators.gt(0))
    #: Serve ``/portal`` only on host names mapped to the portal (``jibo-cloud host add NAME
    #: --service portal``); off: the portal also answers on every other host name.
    portal_hosts_only: bool = False

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file when the embedded store is used, else None."""
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _float_env(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {raw!r}")
    return value


def _sigv4_policy(raw: str) -> str:
    value = raw.strip().lower() or "reject"
    if value == "accept":
        raise ConfigError(
            "JIBO_UNKNOWN_SIGV4_KEYS=accept is gone: it served any unsigned caller as your robot. "
            "Import the robot's keys with 'jibo-cloud robot add --from-credentials', or use "
            "'pending' and approve the robot with 'jibo-cloud robot approve' (docs/security.md)"
        )
    if value not in ("reject", "pending"):
        raise ConfigError(
            f"unknown_sigv4_keys (JIBO_UNKNOWN_SIGV4_KEYS) must be reject or pending, got {raw!r}"
        )
    return value


def _proxies(raw: str) -> tuple[str, ...]:
    """``JIBO_TRUSTED_PROXIES``: comma-separated addresses or networks, checked here."""
    found: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(
                f"JIBO_TRUSTED_PROXIES: {item!r} is not an address or network (e.g. 10.0.0.0/8)"
            ) from None
        found.append(item)
    return tuple(found)


def _parse_keys(raw: str | None) -> dict[str, str]:
    keys: dict[str, str] = {}
    if not raw:
        return keys
    for item in raw.split(","):
        kid, sep, secret = item.strip().partition("=")
        if not sep or not kid or not secret:
            raise ConfigError("JIBO_TOKEN_KEYS must look like 'kid1=secret1,kid2=secret2'")
        keys[kid] = secret
    return keys


_OFFSET = re.compile(r"^[+-]\d{2}:?\d{2}$")


#: Families ``JIBO_PREFER_CLOUD_SKILLS`` may name (jibo_cloud.nlu.grammar.CLOUD_FORMS).
CLOUD_SKILL_FAMILIES = ("clock", "greetings")


def _prefer_cloud(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        if name not in CLOUD_SKILL_FAMILIES:
            known = ", ".join(CLOUD_SKILL_FAMILIES)
            raise ConfigError(f"JIBO_PREFER_CLOUD_SKILLS: {name!r} is not one of {known}")
    return names


def _check_time_zone(name: str) -> str:
    if not name or _OFFSET.match(name):
        return name
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"JIBO_TIME_ZONE {name!r} is not a known time zone (e.g. America/New_York or -05:00)"
        ) from None
    return name


def read_or_create_secret(data_dir: Path) -> str:
    """Return the development token secret stored in ``data_dir``, creating it on first use.

    The file is created with mode 0600 and written atomically, so two processes starting at
    once (``serve`` and ``token``) end up with the same secret.
    """
    path = data_dir / SECRET_FILE_NAME
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private (umask narrows)
    tmp = data_dir / f".{SECRET_FILE_NAME}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(tmp, path)  # fails if another process won the race; then we read theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="ascii").strip()


def tls_port_value(raw: str) -> int | None:
    """``--tls-port``/``JIBO_TLS_PORT``: ``auto`` or empty (None), ``off``, or a port."""
    value = raw.strip().lower()
    if value in ("", "auto"):
        return None
    if value == "off":
        return TLS_OFF
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"JIBO_TLS_PORT must be a port, auto or off, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"JIBO_TLS_PORT must be between 0 and 65535, got {port}")
    return port


def tls_regions_value(raw: str) -> tuple[str, ...]:
    """``JIBO_TLS_REGIONS``: comma-separated region names (default ``api``)."""
    regions = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    for region in regions:
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?", region):
            raise ConfigError(f"JIBO_TLS_REGIONS: {region!r} is not a region name (e.g. api)")
    return regions or ("api",)


def metrics_port_value(raw: str) -> int | None:
    """``--metrics-port``/``JIBO_METRICS_PORT``: ``off`` or empty (None), or a port."""
    value = raw.strip().lower()
    if value in ("", "off"):
        return None
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"JIBO_METRICS_PORT must be a port or off, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"JIBO_METRICS_PORT must be between 0 and 65535, got {port}")
    return port


def _operations_settings(env: Mapping[str, str]) -> dict[str, object]:
    """Blob backend and operator port settings (docs/storage.md, docs/operators.md)."""
    values: dict[str, object] = {}
    blob_url = env.get("JIBO_BLOB_URL", "").strip()
    if blob_url:
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9_./-]*)?", blob_url):
            raise ConfigError(f"JIBO_BLOB_URL must look like s3://bucket/prefix, got {blob_url!r}")
        values["blob_url"] = blob_url
    endpoint = env.get("JIBO_S3_ENDPOINT_URL", "").strip()
    if endpoint:
        if not endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"JIBO_S3_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}")
        values["s3_endpoint_url"] = endpoint
    if env.get("JIBO_S3_REGION", "").strip():
        values["s3_region"] = env["JIBO_S3_REGION"].strip()
    values["metrics_port"] = metrics_port_value(env.get("JIBO_METRICS_PORT", ""))
    if env.get("JIBO_METRICS_HOST", "").strip():
        values["metrics_host"] = env["JIBO_METRICS_HOST"].strip()
    values["instance_lease_seconds"] = _float_env(env, "JIBO_INSTANCE_LEASE_SECONDS", 15.0)
    values["portal_hosts_only"] = _flag(env.get("JIBO_PORTAL_HOSTS_ONLY"), "JIBO_PORTAL_HOSTS_ONLY")
    return values


def _provider_settings(env: Mapping[str, str]) -> dict[str, object]:
    """The report and answers skills' settings (docs/configuration.md), checked here."""
    values: dict[str, object] = {}
    if env.get("JIBO_WEATHER_URL"):
        values["weather_url"] = env["JIBO_WEATHER_URL"].strip()
    place = env.get("JIBO_WEATHER_PLACE", "").strip()
    if place:
        lat, _, lon = place.partition(",")
        try:
            ok = -90 <= float(lat) <= 90 and -180 <= float(lon) <= 180
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"JIBO_WEATHER_PLACE must be 'latitude,longitude', got {place!r}")
        values["weather_place"] = place
    units = env.get("JIBO_WEATHER_UNITS", "").strip().lower()
    if units:
        if units not in ("auto", "fahrenheit", "celsius"):
            raise ConfigError(
                f"JIBO_WEATHER_UNITS must be auto, fahrenheit or celsius, got {units!r}"
            )
        values["weather_units"] = units
    feeds = env.get("JIBO_NEWS_FEEDS", "").replace(",", " ").split()
    if feeds:
        values["news_feeds"] = tuple(feeds)
    calendars = env.get("JIBO_CALENDARS", "").strip()
    for i, entry in enumerate(filter(None, (e.strip() for e in calendars.split(","))), start=1):
        member, sep, url = entry.partition("=")
        if not sep or not member.strip() or not url.strip().startswith(("http://", "https://")):
            # The URLs are secrets: name the entry's position, not its text.
            raise ConfigError(f"JIBO_CALENDARS entry {i} must be member=https://…")
    if calendars:
        values["calendars"] = calendars
    if env.get("JIBO_KNOWLEDGE_URL"):
        values["knowledge_url"] = env["JIBO_KNOWLEDGE_URL"].strip()
    if env.get("JIBO_WORDNET_DIR"):
        values["wordnet_dir"] = Path(env["JIBO_WORDNET_DIR"]).expanduser()
    return values


def load_config(
    *,
    host: str | None = None,
    port: int | None = None,
    data_dir: str | Path | None = None,
    database_url: str | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: object,
) -> Config:
    """Resolve the configuration: flags win over environment, environment over defaults.

    Args:
        host, port, data_dir, database_url: values from command-line flags, or None.
        env: the environment to read (default ``os.environ``); tests pass their own.
        overrides: any other :class:`Config` field, set explicitly (tests, embedding).

    Raises:
        ConfigError: a value is malformed; the message names the setting.
    """
    env = os.environ if env is None else env
    resolved_dir = Path(data_dir or env.get("JIBO_DATA_DIR") or default_data_dir()).expanduser()
    url = database_url or env.get("JIBO_DATABASE_URL") or ""
    if not url:
        url = f"sqlite:///{resolved_dir / SQLITE_FILE_NAME}"
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(
            f"database URL must start with sqlite:/// or postgresql://, got {url.split(':')[0]!r}"
        )
    secret = env.get("JIBO_TOKEN_SECRET") or env.get("ETCO_server_hubTokenSecret")
    source = "env"
    if "token_secret" in overrides:
        secret, source = str(overrides.pop("token_secret")), "explicit"
    if not secret:
        secret, source = read_or_create_secret(resolved_dir), "file"
    keys = _parse_keys(env.get("JIBO_TOKEN_KEYS"))
    signing_kid = env.get("JIBO_SIGNING_KID") or None
    if signing_kid is not None and signing_kid not in keys:
        raise ConfigError(f"JIBO_SIGNING_KID {signing_kid!r} is not a kid in JIBO_TOKEN_KEYS")
    try:
        resolved_port = int(port if port is not None else env.get("JIBO_PORT", DEFAULT_PORT))
    except ValueError:
        raise ConfigError(f"port must be a number, got {env.get('JIBO_PORT')!r}") from None
    if not 0 <= resolved_port <= 65535:
        raise ConfigError(f"port must be between 0 and 65535, got {resolved_port}")
    skills = env.get("JIBO_SKILLS_DIR")
    values: dict[str, object] = {
        "host": host or env.get("JIBO_HOST") or DEFAULT_HOST,
        "port": resolved_port,
        "data_dir": resolved_dir,
        "database_url": url,
        "token_secret": secret,
        "token_keys": keys,
        "signing_kid": signing_kid,
        "token_secret_source": source,
        "disable_auth": _flag(env.get("JIBO_DISABLE_AUTH"), "JIBO_DISABLE_AUTH")
        or _flag(env.get("ETCO_hub_disableAuth"), "ETCO_hub_disableAuth"),
        "trust_forwarded": _flag(env.get("JIBO_TRUST_FORWARDED"), "JIBO_TRUST_FORWARDED"),
        "unknown_sigv4_keys": _sigv4_policy(env.get("JIBO_UNKNOWN_SIGV4_KEYS", "reject")),
        "trusted_proxies": _proxies(env.get("JIBO_TRUSTED_PROXIES", "")),
        "backlog": _int_env(env, "JIBO_BACKLOG", 4096),
        "body_timeout": _float_env(env, "JIBO_BODY_TIMEOUT", 30.0),
        "handshake_timeout": _float_env(env, "JIBO_HANDSHAKE_TIMEOUT", 10.0),
        "hub_token_max_seconds": _float_env(env, "JIBO_HUB_TOKEN_MAX_SECONDS", 24 * 3600.0),
        "blob_url_seconds": _float_env(env, "JIBO_BLOB_URL_SECONDS", 3600.0),
        "household_quota": _int_env(env, "JIBO_HOUSEHOLD_QUOTA", 2 * 1024 * 1024 * 1024),
        "min_free_disk": _int_env(env, "JIBO_MIN_FREE_DISK", 512 * 1024 * 1024),
        "rate_per_address": _float_env(env, "JIBO_RATE_PER_ADDRESS", 50.0),
        "handshakes_per_address": _float_env(env, "JIBO_HANDSHAKES_PER_ADDRESS", 20.0),
        "auth_failures_per_minute": _int_env(env, "JIBO_AUTH_FAILURES_PER_MINUTE", 30),
        "rate_per_principal": _float_env(env, "JIBO_RATE_PER_PRINCIPAL", 20.0),
        "max_sockets_per_token": _int_env(env, "JIBO_MAX_SOCKETS_PER_TOKEN", 8),
        "max_sockets_per_robot": _int_env(env, "JIBO_MAX_SOCKETS_PER_ROBOT", 16),
        "access_log": env.get("JIBO_ACCESS_LOG", "").strip(),
        "allow_open_data_dir": _flag(
            env.get("JIBO_ALLOW_OPEN_DATA_DIR"), "JIBO_ALLOW_OPEN_DATA_DIR"
        ),
        "skills_dir": Path(skills) if skills else None,
        "parser_url": env.get("JIBO_PARSER_URL") or None,
        "history_url": env.get("JIBO_HISTORY_URL") or None,
        "asr_url": env.get("JIBO_ASR_URL") or None,
        "asr_processes": _int_env(env, "JIBO_ASR_PROCESSES", os.cpu_count() or 1),
        "asr_warm_up": _flag(env.get("JIBO_ASR_WARM_UP") or "true", "JIBO_ASR_WARM_UP"),
        "chat_url": env.get("JIBO_CHAT_URL") or None,
        "time_zone": _check_time_zone(env.get("JIBO_TIME_ZONE", "").strip()),
        "prefer_cloud_skills": _prefer_cloud(env.get("JIBO_PREFER_CLOUD_SKILLS", "")),
        "workers": _int_env(env, "JIBO_WORKERS", 1),
        "tls_port": tls_port_value(env.get("JIBO_TLS_PORT", "")),
        "tls_certfile": Path(env["JIBO_TLS_CERTFILE"]) if env.get("JIBO_TLS_CERTFILE") else None,
        "tls_keyfile": Path(env["JIBO_TLS_KEYFILE"]) if env.get("JIBO_TLS_KEYFILE") else None,
        "tls_regions": tls_regions_value(env.get("JIBO_TLS_REGIONS", "")),
        **_provider_settings(env),
        **_operations_settings(env),
    }
    values.update(overrides)
    try:
        return Config(**values)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None

"""The TLS listener of ``serve``: whether it runs, on which port, with which settings.

:func:`plan_tls` decides once at start-up (in the supervisor under ``--workers``) and says why
in one line; :func:`bind_tls` binds the port; :func:`server_ssl_context` is what every
connection on it is handshaken with (each connection does its handshake,
:mod:`jibo_cloud.edge.connection`, with the context :class:`TLSHypercornConfig` makes; a failed
one is a rate-limited WARNING line with the client's address and OpenSSL's reason). Decisions
(docs/tls.md):

- ``--tls-port off``: no TLS. ``--tls-port N``: TLS on N, or a start-up error if N cannot be
  bound (as for the plain port). Not given (``auto``): 443 when a certificate is available and
  the process may bind 443, else no TLS, and the line says which.
- No certificate (neither ``--certfile/--keyfile`` nor one from ``certs init``), or one that
  cannot be loaded, or one that has expired: the TLS listener does not start, one ERROR line
  says why and what to run, and the plain port serves as usual. 30 days before expiry:
  a WARNING line at each start.
- TLS 1.2 at least; ECDHE key exchange with AES-GCM (TLS 1.2; the robot's Node 6 / OpenSSL
  1.0.2 offers ECDHE-RSA-AES128-GCM-SHA256) or TLS 1.3; ALPN offers ``http/1.1`` only;
  no client certificate is asked for (one sent anyway is ignored).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import ssl
from pathlib import Path

import attrs
import hypercorn.config

from jibo_cloud.config import TLS_OFF, Config
from jibo_cloud.errors import ConfigError
from jibo_cloud.tls.certs import CertError, CertInfo, certificate_info, server_cert_files

log = logging.getLogger("jibo_cloud.tls")
#: :func:`plan_tls` with ``report=False`` (the start-up summary asks again, quietly).
_SILENT = logging.getLogger("jibo_cloud.tls.quiet")
_SILENT.disabled = True

#: The robot's port for every service (PROTOCOL.md §1).
DEFAULT_TLS_PORT = 443
#: TLS 1.2 suites: forward-secret key exchange, AEAD only (no CBC, RC4, 3DES, static RSA).
CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"


@attrs.frozen
class TLSPlan:
    """What :func:`plan_tls` decided: the port to bind (None: no TLS) and the files."""

    port: int | None
    certfile: Path | None = None
    keyfile: Path | None = None
    info: CertInfo | None = None
    #: The start-up line that says what happened (also when TLS is off).
    reason: str = ""

    @property
    def enabled(self) -> bool:
        return self.port is not None


def server_ssl_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """The server context of the TLS port (see the module docstring for the choices).

    Raises:
        CertError: the certificate or key cannot be loaded, or they do not match.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(CIPHERS)
    context.options |= (
        ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    )
    context.set_alpn_protocols(["http/1.1"])  # PROTOCOL.md §1: the robot speaks HTTP/1.1
    context.verify_mode = ssl.CERT_NONE  # no client certificate asked for
    try:
        context.load_cert_chain(certfile=str(certfile), keyfile=str(keyfile))
    except (OSError, ssl.SSLError) as exc:
        raise CertError(
            f"cannot load the TLS certificate {certfile} with key {keyfile}: "
            f"{getattr(exc, 'reason', None) or exc}"
        ) from None
    return context


class TLSHypercornConfig(hypercorn.config.Config):
    """hypercorn's configuration with our TLS context (hypercorn's own resets the options
    OpenSSL sets by default and offers HTTP/2)."""

    def create_ssl_context(self) -> ssl.SSLContext | None:
        if self.certfile is None or self.keyfile is None:
            return None
        return server_ssl_context(Path(self.certfile), Path(self.keyfile))


def _off(reason: str) -> TLSPlan:
    return TLSPlan(port=None, reason=reason)


def plan_tls(config: Config, *, now: dt.datetime | None = None, report: bool = True) -> TLSPlan:
    """Decide whether the TLS listener starts; never raises for a bad certificate: the plain
    port keeps serving and the line (logged unless ``report`` is false) says what to fix."""
    now = now or dt.datetime.now(dt.UTC)
    logger = log if report else _SILENT
    if config.tls_port == TLS_OFF:
        return _off("TLS: off (--tls-port off)")
    try:
        files = server_cert_files(config)
    except CertError as exc:
        logger.error("TLS listener not started: %s", exc)
        return _off(f"TLS: off ({exc})")
    if files is None:
        fix = "run 'jibo-cloud certs init' or give --certfile/--keyfile"
        if config.tls_port is not None:
            logger.error("TLS listener not started: no server certificate; %s", fix)
        return _off(f"TLS: off (no server certificate; {fix})")
    certfile, keyfile = files
    try:
        info = certificate_info(certfile)
        server_ssl_context(certfile, keyfile)
    except CertError as exc:
        logger.error("TLS listener not started: %s; the plain port serves as usual", exc)
        return _off(f"TLS: off ({exc})")
    if info.expired(now):
        logger.error(
            "TLS listener not started: the server certificate %s expired on %s; run "
            "'jibo-cloud certs renew' (or give a valid --certfile); the plain port serves as usual",
            certfile,
            f"{info.not_after:%Y-%m-%d %H:%M} UTC",
        )
        return _off(f"TLS: off (certificate expired {info.not_after:%Y-%m-%d})")
    if info.expires_soon(now):
        logger.warning(
            "the server certificate %s expires on %s (in %d days); run 'jibo-cloud certs renew'",
            certfile,
            f"{info.not_after:%Y-%m-%d %H:%M} UTC",
            (info.not_after - now).days,
        )
    port = DEFAULT_TLS_PORT if config.tls_port is None else config.tls_port
    return TLSPlan(
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        info=info,
        reason=f"TLS: certificate {certfile} (expires {info.not_after:%Y-%m-%d})",
    )


def bind_tls(config: Config, plan: TLSPlan, backlog: int) -> tuple[list[socket.socket], TLSPlan]:
    """Bind and listen on the TLS port; the sockets and the plan as it turned out.

    In ``auto`` mode a port that cannot be bound (443 without the rights, or taken) turns
    TLS off with one line; a port given explicitly is a start-up error, as the plain port is.

    Raises:
        ConfigError: an explicitly configured TLS port cannot be bound.
    """
    if plan.port is None:
        return [], plan
    hc = hypercorn.config.Config()
    hc.bind = [f"{config.host}:{plan.port}"]
    hc.workers = config.workers  # >1: SO_REUSEPORT, as for the plain port
    try:
        sockets = hc.create_sockets().insecure_sockets  # plain TCP; TLS is done per connection
    except OSError as exc:
        why = exc.strerror or str(exc)
        if config.tls_port is not None:
            raise ConfigError(f"cannot listen on {config.host}:{plan.port} (TLS): {why}") from None
        log.warning(
            "TLS listener not started: cannot bind %s:%d (%s); give --tls-port PORT"
            " (a port above 1023 needs no rights) or run with CAP_NET_BIND_SERVICE",
            config.host,
            plan.port,
            why,
        )
        return [], _off(f"TLS: off (cannot bind port {plan.port}: {why})")
    for sock in sockets:
        sock.listen(backlog)
    return sockets, plan


def tls_line(config: Config, binds: list[str]) -> str:
    """The start-up line about TLS: where it listens and with what, or why it is off."""
    secure = [b for b in binds if b.startswith("https://")]
    if not secure:
        return "  " + plan_tls(config, report=False).reason
    try:
        files = server_cert_files(config)
        info = certificate_info(files[0]) if files is not None else None
    except CertError as exc:
        return f"  TLS (HTTPS, WSS): {secure[0]}; certificate unreadable now: {exc}"
    if info is None:
        return f"  TLS (HTTPS, WSS): {secure[0]}"
    return (
        f"  TLS (HTTPS, WSS): {secure[0]} for {', '.join(info.names[:6])}"
        f"{' …' if len(info.names) > 6 else ''}; certificate {info.path}, expires"
        f" {info.not_after:%Y-%m-%d}, sha256 {info.fingerprint[:16]}…"
    )

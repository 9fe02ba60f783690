"""The private CA and the server certificate the robot's names are served with.

A robot speaks HTTPS and WSS to ``api.jibo.com``, ``api-socket.jibo.com`` and
``neo-hub.jibo.com`` (PROTOCOL.md §1) and trusts only certificates its CA store accepts. A
revival therefore keeps a CA of its own (installed on the robot once) and a server certificate
signed by it whose names cover every name the robot, or an owner's host mappings, reach us by.

Where the files live (the data folder is private, 0700; keys are 0600)::

    DATA_DIR/tls/ca.pem        the CA certificate (this is what the robot must trust)
    DATA_DIR/tls/ca.key        the CA key (0600; never leaves this machine)
    DATA_DIR/tls/server.pem    the server certificate followed by the CA certificate
    DATA_DIR/tls/server.key    the server key (0600)

``--certfile/--keyfile`` (``JIBO_TLS_CERTFILE/KEYFILE``) replace the server pair with the
operator's own; :func:`server_cert_files` says which pair is in use. Both RSA 2048 with
SHA-256 signatures: the robot's client is Node 6 on OpenSSL 1.0.2, whose ECDHE-RSA AES-GCM
suites need an RSA server key.

This module reads and writes files and does no networking; ``jibo-cloud certs`` and
``jibo-cloud doctor`` call it, and ``serve`` reads :func:`server_cert_files`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jibo_cloud.config import Config
from jibo_cloud.errors import JiboCloudError

#: The robot's fixed host names (PROTOCOL.md §1).
ROBOT_HOST_NAMES: tuple[str, ...] = ("api.jibo.com", "api-socket.jibo.com", "neo-hub.jibo.com")
#: Also named by the generated certificate: any other ``<region>.jibo.com`` and
#: ``<region>-socket.jibo.com`` a robot's credentials may name (one label only).
WILDCARD_NAME = "*.jibo.com"
#: The CA lives ten years (re-trusting it means touching every robot); the server
#: certificate two (``certs renew`` re-issues it from the same CA).
CA_DAYS = 3650
SERVER_DAYS = 730
#: ``serve`` and ``doctor`` warn this long before the server certificate expires.
EXPIRY_WARNING = dt.timedelta(days=30)
KEY_BITS = 2048


class CertError(JiboCloudError):
    """A certificate or key cannot be made, read or used; the message says which and why."""


@attrs.frozen
class CertInfo:
    """What an operator (and ``doctor``) needs to know about one certificate."""

    path: Path
    #: Subject alternative names: DNS names, then IP addresses as text.
    names: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    #: SHA-256 of the DER certificate, lower-case hex without separators.
    fingerprint: str
    issuer: str
    subject: str

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.not_after

    def expires_soon(self, now: dt.datetime) -> bool:
        """True from :data:`EXPIRY_WARNING` before expiry on (also once expired)."""
        return now >= self.not_after - EXPIRY_WARNING

    def covers(self, host: str) -> bool:
        """Whether a client checking ``host`` (a name or address) accepts this certificate."""
        return name_matches(self.names, host)


# -- where the files live ---------------------------------------------------------------------


def tls_dir(config: Config) -> Path:
    return config.data_dir / "tls"


def ca_cert_path(config: Config) -> Path:
    return tls_dir(config) / "ca.pem"


def ca_key_path(config: Config) -> Path:
    return tls_dir(config) / "ca.key"


def server_cert_path(config: Config) -> Path:
    return tls_dir(config) / "server.pem"


def server_key_path(config: Config) -> Path:
    return tls_dir(config) / "server.key"


def server_cert_files(config: Config) -> tuple[Path, Path] | None:
    """The server's certificate chain and key: configured, else generated, else None.

    Raises:
        CertError: only one of ``tls_certfile``/``tls_keyfile`` is configured.
    """
    if config.tls_certfile is not None or config.tls_keyfile is not None:
        if config.tls_certfile is None or config.tls_keyfile is None:
            raise CertError("give both JIBO_TLS_CERTFILE and JIBO_TLS_KEYFILE (or neither)")
        return config.tls_certfile, config.tls_keyfile
    cert, key = server_cert_path(config), server_key_path(config)
    if cert.is_file() and key.is_file():
        return cert, key
    return None


# -- which names the certificate must cover ---------------------------------------------------


def robot_host_names(regions: Iterable[str] = ("api",)) -> list[str]:
    """The names a robot reaches us by: §1's three, then each region's two (no duplicates)."""
    names = list(ROBOT_HOST_NAMES)
    for region in regions:
        for name in (f"{region}.jibo.com", f"{region}-socket.jibo.com"):
            if name not in names:
                names.append(name)
    return names


def required_names(config: Config, mapped_hosts: Iterable[str] = ()) -> list[str]:
    """Every name the server certificate must cover: the robot's names for the configured
    regions (``JIBO_TLS_REGIONS``) and the host mappings (``jibo-cloud host``)."""
    names = robot_host_names(config.tls_regions)
    names.extend(h for h in mapped_hosts if h not in names)
    return names


async def mapped_host_names(storage: Any) -> list[str]:
    """The host names ``jibo-cloud host add`` mapped (from an open storage)."""
    return [m.host for m in await storage.list_host_mappings()]


def name_matches(names: Iterable[str], host: str) -> bool:
    """RFC 6125 matching as OpenSSL does it: exact, or ``*.`` covering one left-most label."""
    host = host.lower().rstrip(".")
    for name in names:
        name = name.lower()
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            label, _, rest = host.partition(".")
            if label and rest == name[2:]:
                return True
    return False


def missing_names(info: CertInfo, names: Iterable[str]) -> list[str]:
    """The names ``info`` does not cover (a robot reaching us by one refuses the connection)."""
    return [n for n in names if not info.covers(n)]


# -- reading ----------------------------------------------------------------------------------


def certificate_info(path: Path) -> CertInfo:
    """Read the first certificate of a PEM file.

    Raises:
        CertError: the file is missing or holds no certificate.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertError(f"cannot read certificate {path}: {exc.strerror or exc}") from None
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise CertError(f"{path} holds no PEM certificate") from None
    return _info(cert, path)


def _info(cert: x509.Certificate, path: Path) -> CertInfo:
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        names.extend(san.get_values_for_type(x509.DNSName))
        names.extend(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return CertInfo(
        path=path,
        names=tuple(names),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        issuer=cert.issuer.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
    )


def server_certificate_info(config: Config) -> CertInfo | None:
    """The server certificate ``serve`` would use, or None when none is configured or made.

    Raises:
        CertError: a configured or generated file cannot be read as a certificate.
    """
    files = server_cert_files(config)
    return certificate_info(files[0]) if files is not None else None


def ca_certificate_info(config: Config) -> CertInfo | None:
    """The private CA ``certs init`` made, or None."""
    path = ca_cert_path(config)
    return certificate_info(path) if path.is_file() else None


# -- making -----------------------------------------------------------------------------------


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` atomically with ``mode`` (the key never exists with wider rights)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)  # an existing tmp keeps its old mode through O_CREAT
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1: what OpenSSL 1.0.2 reads
        serialization.NoEncryption(),
    )


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CertError(f"cannot read the key {path}: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertError(f"{path} is not an RSA key")
    return key


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CertError(f"cannot read the certificate {path}: {exc}") from None


def make_ca(config: Config, *, now: dt.datetime | None = None) -> CertInfo:
    """Create the private CA (replacing any), key 0600 in ``DATA_DIR/tls`` (0700)."""
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jibo-cloud"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"jibo-cloud private CA ({socket.gethostname()[:40]})"
            ),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))  # a robot's clock a little behind
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(ca_key_path(config), _key_pem(key), 0o600)
    _write_private(ca_cert_path(config), cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return _info(cert, ca_cert_path(config))


def _san(names: Sequence[str]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general)


def issue_server_cert(
    config: Config,
    names: Sequence[str],
    *,
    days: int = SERVER_DAYS,
    now: dt.datetime | None = None,
) -> CertInfo:
    """Sign a new server certificate for ``names`` with the private CA (new key, 0600).

    The chain file holds the server certificate then the CA, so a client that trusts the CA
    can verify it either way.

    Raises:
        CertError: there is no CA yet (``certs init``), or no names.
    """
    if not names:
        raise CertError("a server certificate needs at least one name")
    if not ca_key_path(config).is_file() or not ca_cert_path(config).is_file():
        raise CertError(f"no private CA in {tls_dir(config)}: run 'jibo-cloud certs init'")
    now = now or dt.datetime.now(dt.UTC)
    ca_key, ca_cert = _load_key(ca_key_path(config)), _load_cert(ca_cert_path(config))
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    not_after = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_san(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(
        serialization.Encoding.PEM
    )
    _write_private(server_key_path(config), _key_pem(key), 0o600)
    _write_private(server_cert_path(config), chain, 0o644)
    return _info(cert, server_cert_path(config))


def server_names(
    config: Config,
    mapped_hosts: Iterable[str] = (),
    extra: Iterable[str] = (),
) -> list[str]:
    """The names a generated certificate gets: :func:`required_names`, :data:`WILDCARD_NAME`,
    then ``extra`` (the server's own names and addresses), without duplicates."""
    names = required_names(config, mapped_hosts)
    for name in (WILDCARD_NAME, *extra):
        name = name.strip().lower().rstrip(".")
        if name and name not in names:
            names.append(name)
    return names
